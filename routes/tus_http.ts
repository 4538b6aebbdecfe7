/**
 * HTTP framing shared by the tus routes: `Tus-Resumable` on every answer,
 * the 412 version check, OPTIONS discovery and CORS for browser clients on
 * other origins.
 */
import type { MiddlewareHandler } from "hono";
import { TUS_CHECKSUM_ALGORITHMS, TUS_EXTENSIONS, TUS_HEADERS, TUS_VERSION } from "../domain/tus.ts";

const METHODS = "POST, GET, HEAD, PATCH, DELETE, OPTIONS";
const ALLOW_HEADERS = [...TUS_HEADERS, "Content-Type", "X-Requested-With", "X-HTTP-Method-Override"].join(", ");

/**
 * CORS for `/files/*`: `origins` is `*` or a comma-separated list of allowed
 * origins. Preflights are answered here; the tus headers are exposed so a
 * browser client can read `Location` and `Upload-Offset`. A preflight also
 * carries the `discovery` headers, as a plain OPTIONS does.
 */
export function tusCors(origins: string, discovery: Record<string, string>): MiddlewareHandler {
  const allowed = origins.split(",").map((origin) => origin.trim()).filter(Boolean);
  const allowOrigin = (origin: string | undefined) =>
    origin === undefined ? null : allowed.includes("*") ? "*" : allowed.includes(origin) ? origin : null;
  return async (c, next) => {
    const origin = allowOrigin(c.req.header("Origin"));
    if (c.req.method === "OPTIONS" && c.req.header("Access-Control-Request-Method") !== undefined) {
      const headers: Record<string, string> = { "Tus-Resumable": TUS_VERSION, Vary: "Origin" };
      if (origin !== null) {
        Object.assign(headers, {
          "Access-Control-Allow-Origin": origin,
          "Access-Control-Allow-Methods": METHODS,
          "Access-Control-Allow-Headers": ALLOW_HEADERS,
          "Access-Control-Max-Age": "86400",
        });
      }
      return c.body(null, 204, { ...headers, ...discovery });
    }
    await next();
    c.res.headers.set("Tus-Resumable", TUS_VERSION);
    c.res.headers.append("Vary", "Origin");
    if (origin !== null) {
      c.res.headers.set("Access-Control-Allow-Origin", origin);
      c.res.headers.set("Access-Control-Expose-Headers", TUS_HEADERS.join(", "));
    }
  };
}

/** Refuses requests without `Tus-Resumable: 1.0.0` (OPTIONS excepted) with 412 and the versions served. */
export const requireTusVersion: MiddlewareHandler = async (c, next) => {
  if (c.req.method === "OPTIONS" || c.req.header("Tus-Resumable") === TUS_VERSION) return await next();
  return c.text(`unsupported tus version: send Tus-Resumable: ${TUS_VERSION}\n`, 412, { "Tus-Version": TUS_VERSION });
};

/** The OPTIONS discovery headers for a server accepting uploads up to `maxSize` bytes. */
export function discoveryHeaders(maxSize: number): Record<string, string> {
  return {
    "Tus-Version": TUS_VERSION,
    "Tus-Extension": TUS_EXTENSIONS.join(","),
    "Tus-Max-Size": String(maxSize),
    "Tus-Checksum-Algorithm": TUS_CHECKSUM_ALGORITHMS.join(","),
  };
}

/** An HTTP date for `Upload-Expires`. */
export function httpDate(date: Date): string {
  return date.toUTCString();
}
