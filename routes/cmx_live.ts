/**
 * The `/live/*` JSON API a Track Your Steps front end calls: every route is
 * a POST with `application/json`, answers with the original's status codes,
 * message strings and sorted keys. Bad content type or JSON → 400, never 500.
 */
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { getLogger } from "@logtape/logtape";
import {
  decideRegistration,
  kmMiles,
  MESSAGES,
  sortedJson,
  usDate,
  usernameEmail,
  wholeNumber,
} from "../domain/cmx_live.ts";
import { isIP } from "node:net";
import { hashMac, UNKNOWN_MAC } from "../domain/cmx_mac.ts";
import type { CmxStore } from "../storage/types.ts";
import { oneWriteBody } from "./one_write_body.ts";

const log = getLogger(["fieldgate", "cmx", "live"]);

/** What the `/live` routes need. */
export interface CmxLiveOptions {
  store: CmxStore;
  /** The API user's basic auth. */
  guard: MiddlewareHandler;
  /** IP → MAC through CMX; {@link UNKNOWN_MAC} when unknown. */
  lookup: (ip: string) => Promise<string>;
  /** CMX_MAC_HASH: MACs are stored the way CMX reports them. */
  macHashKey: string;
  /** MAX_REGISTERED_DEVICES. */
  maxRegisteredDevices: number;
}

const MAX_LEADERS = 100;
const MAX_USERNAME_LENGTH = 100;
const MAX_DAYS = 3650;
const BAD_REQUEST = {
  usernameData: "Not a POST request or no application/json headers with username",
  deleteUsername: "Not a POST request or no application/json headers with username",
  leaderboard: "Not a POST request or no application/json headers with number_leaders",
  ipUsername: "Not a POST request or no application/json headers with ip",
};

/** The `/live/*` routes as a Hono sub-app (mounted at `/live`). */
export function cmxLiveRoutes(options: CmxLiveOptions): Hono {
  const { store, lookup, macHashKey, maxRegisteredDevices } = options;
  const app = new Hono();
  app.use(
    "*",
    options.guard,
    bodyLimit({ maxSize: 64 * 1024, onError: () => reply(413, { error: "Request body too large" }) }),
  );

  app.post("/register_username", async (c) => {
    const body = await jsonBody(c);
    if (body === null || typeof body.username !== "string" || typeof body.ip !== "string") {
      return reply(400, { error: MESSAGES.registerBadRequest });
    }
    const username = body.username;
    const ip = body.ip.trim();
    if (username === "" || username.startsWith("@")) return reply(400, { error: MESSAGES.firstCharacter });
    // The original's columns held 100 characters; a longer name would crowd every leader board it appears on.
    if (username.length > MAX_USERNAME_LENGTH) {
      return reply(400, { error: `Username longer than ${MAX_USERNAME_LENGTH} characters` });
    }
    if (isIP(ip) === 0) return reply(400, { error: MESSAGES.registerBadRequest });
    const email = usernameEmail(username);
    const mac = await lookup(ip);
    if (mac === UNKNOWN_MAC) return reply(404, { error: MESSAGES.connectWifi, username, email, ip });
    const hash = hashMac(mac, macHashKey);
    let outcome;
    try {
      outcome = await store.register(
        { email, nickname: username },
        hash,
        (facts) => decideRegistration(email, facts, maxRegisteredDevices),
      );
    } catch (error) {
      log.error("registering {email} failed: {error}", { email, error: String(error) });
      return reply(500, { error: MESSAGES.databaseAddUser, username, email });
    }
    switch (outcome) {
      case "created":
      case "device-added":
        return reply(201, { success: MESSAGES.added, username, email, mac, hash_mac: hash });
      case "already-registered":
        return reply(200, { info: MESSAGES.alreadyRegistered, username, email, ip, mac });
      case "username-taken":
        return reply(409, { error: MESSAGES.usernameTaken, username, email });
      case "device-owned":
        return reply(409, { error: MESSAGES.deviceOwned, username, email, mac, hash_mac: hash });
    }
  });

  app.post("/delete_username", async (c) => {
    const body = await jsonBody(c);
    if (body === null) return reply(400, { error: BAD_REQUEST.deleteUsername });
    const username = body.username;
    if (typeof username !== "string" || username === "") return reply(400, { error: MESSAGES.deleteExpecting });
    const email = usernameEmail(username);
    let deleted;
    try {
      deleted = await store.deleteUser(email);
    } catch (error) {
      log.error("deleting {email} failed: {error}", { email, error: String(error) });
      return reply(500, { error: MESSAGES.deleteFailed, username, email });
    }
    if (!deleted) return reply(404, { error: MESSAGES.usernameNotFound, username, email });
    return reply(200, { success: MESSAGES.deleted, username, email });
  });

  app.post("/username_data", async (c) => {
    const body = await jsonBody(c);
    if (body === null) return reply(400, { error: BAD_REQUEST.usernameData });
    const username = body.username;
    if (typeof username !== "string" || username === "") return reply(400, { error: MESSAGES.dataExpecting });
    const days = wholeNumber(body.days ?? 5);
    if (days === null || days < 1 || days > MAX_DAYS) {
      return reply(400, { error: `days must be a whole number from 1 to ${MAX_DAYS}` });
    }
    const email = usernameEmail(username);
    try {
      const devices = await store.userDevices(email, days);
      if (devices === null) return reply(404, { error: MESSAGES.usernameNotFound, username, email });
      // Registered, but CMX has not reported any of the user's devices yet.
      if (!devices.some((device) => device.sighted)) return reply(404, { error: MESSAGES.noData, username, email });
      const result = devices.map((device) => {
        const total = kmMiles(device.metres, 3);
        return {
          username,
          mac: device.mac,
          total_kilometres: total.km,
          total_miles: total.miles,
          place: device.place,
          distance_day: device.days.map(({ day, metres }) => ({ date: usDate(day), ...kmMiles(metres, 3) })),
        };
      });
      return reply(200, result);
    } catch (error) {
      log.error("data of {email} unavailable: {error}", { email, error: String(error) });
      return reply(500, { error: MESSAGES.noDevice, username, email });
    }
  });

  app.post("/leaderboard", async (c) => {
    const body = await jsonBody(c);
    if (body === null) return reply(400, { error: BAD_REQUEST.leaderboard });
    const count = wholeNumber(body.number_leaders ?? 5);
    if (count === null || count < 0 || count > MAX_LEADERS) {
      return reply(400, { error: `number_leaders must be a whole number from 0 to ${MAX_LEADERS}` });
    }
    try {
      const board = await store.leaderboard(count);
      const total = kmMiles(board.totalMetres, 1);
      return reply(200, {
        leaders: board.leaders.map(({ place, username, metres }) => {
          const { km, miles } = kmMiles(metres, 1);
          return { place, username, kilometres: km, miles };
        }),
        total_kilometres: total.km,
        total_miles: total.miles,
      });
    } catch (error) {
      log.error("leader board unavailable: {error}", { error: String(error) });
      return reply(500, { error: MESSAGES.noLeaderboard });
    }
  });

  app.post("/ip_username", async (c) => {
    const body = await jsonBody(c);
    if (body === null || typeof body.ip !== "string" || isIP(body.ip.trim()) === 0) {
      return reply(400, { error: BAD_REQUEST.ipUsername });
    }
    const ip = body.ip.trim();
    const mac = await lookup(ip);
    if (mac === UNKNOWN_MAC) return reply(404, { error: MESSAGES.ipNotFound });
    const hash = hashMac(mac, macHashKey);
    let username;
    try {
      username = await store.ownerName(hash);
    } catch (error) {
      log.error("owner of {ip} unavailable: {error}", { ip, error: String(error) });
      return reply(500, { error: "Could not look up the device's username", ip });
    }
    // Known to CMX but not registered: 204, which carries no body.
    if (username === null) return new Response(null, { status: 204 });
    return reply(200, { ip, username, hash_mac: hash });
  });

  for (const path of ["/register_username", "/delete_username", "/username_data", "/leaderboard", "/ip_username"]) {
    app.all(path, () => reply(405, { error: "Not a POST request" }, { allow: "POST" }));
  }
  return app;
}

/** The body as a JSON object, or null when the content type is not JSON or the body not an object. */
async function jsonBody(c: Context): Promise<Record<string, unknown> | null> {
  const type = (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (c.req.method !== "POST" || type !== "application/json") return null;
  try {
    const value = JSON.parse(await c.req.text());
    return typeof value === "object" && value !== null && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

/** A JSON response with sorted keys, like the original's `json.dumps(…, sort_keys=True)`, sent in one write. */
function reply(status: number, value: unknown, headers: Record<string, string> = {}): Response {
  return new Response(oneWriteBody(sortedJson(value)), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}
