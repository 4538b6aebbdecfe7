/** A static bearer token as an alternative to basic auth (the provisioning app's token). */
import type { MiddlewareHandler } from "hono";
import { timingSafeEqual } from "node:crypto";
import type { AuthEnv } from "./basic.ts";

/**
 * Lets a request with `Authorization: Bearer <token>` through as user
 * `token`; everything else goes to `fallback` (basic auth). An empty token
 * disables the bearer path.
 */
export function bearerOrGuard(token: string, fallback: MiddlewareHandler<AuthEnv>): MiddlewareHandler<AuthEnv> {
  const expected = new TextEncoder().encode(token);
  return async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    if (token !== "" && header.startsWith("Bearer ")) {
      const offered = new TextEncoder().encode(header.slice("Bearer ".length).trim());
      if (offered.length === expected.length && timingSafeEqual(offered, expected)) {
        c.set("user", "token");
        return await next();
      }
    }
    return await fallback(c, next);
  };
}
