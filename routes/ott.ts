/**
 * OTT netDL receiver: `POST /ottt?stationid=…&action=senddata|sendalarm`
 * (and `/ott/`, as the original served both). The raw body and its parsed
 * values are durable before the logger gets its `<Response>`.
 */
import { Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { getLogger } from "@logtape/logtape";
import { checkOttQuery, ottResponseXml, parseOttBody } from "../domain/ott.ts";
import { ottFileName, ottQuarantineName } from "../domain/ott_files.ts";
import { decodeXml } from "../domain/xml_decode.ts";
import type { FileBlobStore } from "../storage/blob_fs.ts";
import type { OttAlarm, OttStore } from "../storage/types.ts";
import { clientAddress } from "./client_address.ts";
import { countIngest } from "../metrics/ingest.ts";

const log = getLogger(["fieldgate", "ott"]);
const PATHS = ["/ottt", "/ottt/", "/ott", "/ott/"];

/** What the OTT routes need. */
export interface OttRouteOptions {
  store: OttStore;
  files: FileBlobStore;
  /** Authenticates the logger and sets the `user` variable. */
  guard: MiddlewareHandler;
  maxBodyBytes: number;
  /** Called after an alarm is durable; must not throw. */
  onAlarm: (alarm: OttAlarm, file: string) => void;
}

/** The OTT receiver as a Hono sub-app. */
export function ottRoutes(options: OttRouteOptions): Hono<{ Variables: { user: string } }> {
  const app = new Hono<{ Variables: { user: string } }>();
  const limit = bodyLimit({
    maxSize: options.maxBodyBytes,
    onError: (c) => c.text(`transmission larger than ${options.maxBodyBytes} bytes: nothing was stored\n`, 413),
  });

  const receive: MiddlewareHandler<{ Variables: { user: string } }> = async (c) => {
    const query = checkOttQuery(c.req.query("stationid"), c.req.query("action"));
    if (!query.ok) return c.text(`${query.error}: nothing was stored\n`, 400);
    const { stationId, action } = query.value;
    const body = new Uint8Array(await c.req.arrayBuffer());
    const receivedAt = nowMicros();

    const decoded = decodeXml(body);
    const parsed = decoded.ok ? parseOttBody(action, decoded.value) : decoded;
    const nameFor = parsed.ok ? ottFileName : ottQuarantineName;
    const file = await options.files.writeNew((attempt) => nameFor(action, stationId, receivedAt, attempt), body);
    await options.store.record({
      transmission: {
        stationId,
        action,
        receivedAt: new Date(Number(receivedAt / 1000n)),
        file,
        bytes: body.length,
        user: c.get("user"),
        remoteAddr: clientAddress(c),
        parseError: parsed.ok ? null : parsed.error,
      },
      values: parsed.ok ? parsed.value.values : [],
      alarm: parsed.ok ? parsed.value.alarm : null,
    });

    if (!parsed.ok) {
      log.warn("OTT transmission from {stationId} refused: {error}; raw body kept at {file}", {
        stationId,
        error: parsed.error,
        file,
      });
      return c.text(`invalid OTT XML: ${parsed.error}. The body was kept in quarantine as ${file}\n`, 400);
    }
    const stationMismatch = parsed.value.values.find((value) => value.stationId !== stationId);
    if (stationMismatch) {
      log.warn("OTT transmission for stationid {stationId} holds data of station {other}", {
        stationId,
        other: stationMismatch.stationId,
      });
    }
    if (parsed.value.alarm) {
      log.error("OTT alarm from station {stationId} channel {channelId}: {message}", { ...parsed.value.alarm });
      options.onAlarm(parsed.value.alarm, file);
    }
    countIngest("ott");
    return c.body(ottResponseXml(stationId, new Date()), 200, { "content-type": "application/xml; charset=utf-8" });
  };
  for (const path of PATHS) {
    app.post(path, options.guard, limit, receive);
    app.all(path, (c) => c.text("method not allowed: loggers POST their transmissions\n", 405, { allow: "POST" }));
  }
  return app;
}

/** Microseconds since the epoch, as precise as this runtime's clock allows. */
function nowMicros(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000));
}
