/**
 * Cisco CMX "Track Your Steps" (seed 003): movement and area notifications
 * in (`POST /notification`, `POST /notification/area`), the `/live/*` API and
 * the admin page out. A notification post is answered 200 only once every
 * good entry of it is committed.
 */
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { getLogger } from "@logtape/logtape";
import type { CmxConfig } from "../config.ts";
import { dayIn } from "../domain/cmx_live.ts";
import { type ParsedBatch, parseMovementBatch, parseZoneBatch } from "../domain/cmx_notification.ts";
import type { Result } from "../domain/result.ts";
import type { CmxBatch, CmxRules, CmxStore } from "../storage/types.ts";
import { cmxAdminRoutes } from "./cmx_admin.ts";
import { credentialGuard } from "../auth/single_credential.ts";
import { cmxLiveRoutes } from "./cmx_live.ts";
import { cmxMacLookup } from "./cmx_lookup.ts";
import { countIngest } from "../metrics/ingest.ts";

const log = getLogger(["fieldgate", "cmx"]);

/** CMX batches are a few KiB; anything near this is not CMX. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** What the CMX routes need. */
export interface CmxRouteOptions {
  store: CmxStore;
  config: CmxConfig;
  /** The htpasswd guard, for the admin page. */
  adminGuard: MiddlewareHandler;
}

/** Every CMX route as one Hono sub-app. */
export function cmxRoutes({ store, config, adminGuard }: CmxRouteOptions): Hono {
  // Switching table persistence rewrites tables: done once, before the first batch is written.
  const ready = store.setUnlogged(config.unlogged).catch((error) =>
    log.error("could not apply cmx.unlogged = {unlogged}: {error}", { unlogged: config.unlogged, error: String(error) })
  );
  if (config.apiUser !== "" && config.hosts.trim() === "") {
    log.warn(
      "the /live API is on but cmx.hosts is empty: every registration will answer 404 " +
        '"Connect to #clus WiFi first"; set cmx.hosts (or `test` to try without a CMX)',
    );
  }
  const rules: CmxRules = {
    distance: { maxMetresPerSecond: config.maxMetresPerSecond, maxMovingAngle: config.maxMovingAngle },
    dayOf: dayIn(config.timeZone),
  };
  const notificationGuard = credentialGuard({
    user: config.notificationUser,
    password: config.notificationPassword,
    realm: "CMX notifications",
    notConfiguredHint: "set cmx.notificationUser and cmx.notificationPassword (FIELDGATE_CMX_NOTIFICATION_USER, …)",
  });
  const limit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: (c) => c.json({ error: `body larger than ${MAX_BODY_BYTES} bytes: nothing was stored` }, 413),
  });

  /** Stores the good entries of a parsed post and reports the bad ones. */
  const ingest = async <T>(
    c: Context,
    parsed: Result<ParsedBatch<T>>,
    toBatch: (accepted: T[]) => CmxBatch,
  ): Promise<Response> => {
    if (!parsed.ok) return c.json({ error: `${parsed.error}: nothing was stored` }, 400);
    const { accepted, rejected } = parsed.value;
    if (rejected.length > 0) {
      log.warn("CMX post with {count} unusable notifications, first: #{index} {error}", {
        count: rejected.length,
        ...rejected[0],
      });
    }
    // A post whose entries are all bad is refused, so CMX's log shows it; a partly good one is
    // acknowledged, or CMX would resend (and count twice) its good entries.
    if (accepted.length === 0 && rejected.length > 0) {
      return c.json({ error: "no usable notification: nothing was stored", accepted: 0, rejected }, 400);
    }
    // An empty batch has nothing to make durable.
    if (accepted.length === 0) return c.json({ accepted: 0, rejected });
    await ready;
    await store.record(toBatch(accepted), rules);
    countIngest("cmx", accepted.length);
    return c.json({ accepted: accepted.length, rejected });
  };

  const app = new Hono();
  app.post("/notification", notificationGuard, limit, async (c) => {
    const receivedAt = new Date();
    const parsed = parseMovementBatch(await c.req.text(), receivedAt);
    return await ingest(c, parsed, (movements) => ({ movements, zones: [], receivedAt }));
  });
  app.post("/notification/area", notificationGuard, limit, async (c) => {
    const receivedAt = new Date();
    const parsed = parseZoneBatch(await c.req.text(), receivedAt);
    return await ingest(c, parsed, (zones) => ({ movements: [], zones, receivedAt }));
  });
  app.route(
    "/live",
    cmxLiveRoutes({
      store,
      maxRegisteredDevices: config.maxRegisteredDevices,
      guard: credentialGuard({
        user: config.apiUser,
        password: config.apiPassword,
        realm: "Track Your Steps API",
        notConfiguredHint: "set cmx.apiUser and cmx.apiPassword (FIELDGATE_CMX_API_USER, …)",
      }),
      lookup: cmxMacLookup({
        hosts: config.hosts.split(",").map((host) => host.trim()).filter(Boolean),
        user: config.lookupUser,
        password: config.lookupPassword,
        lookupUrl: config.lookupUrl,
        timeoutMs: config.timeoutSeconds * 1000,
        caCerts: config.lookupCaFile ? [readCaFile(config.lookupCaFile)] : undefined,
      }),
      macHashKey: config.macHashKey,
    }),
  );
  app.route("/cmx", cmxAdminRoutes(store, adminGuard, config.movementDistanceFt));
  return app;
}

function readCaFile(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    throw new Error(`cannot read cmx.lookupCaFile ${path}: ${(error as Error).message}`);
  }
}
