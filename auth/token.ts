/** A static bearer token as an alternative to basic auth (the provisioning app's token). */
import type { MiddlewareHandler } from "hono";
import type { AuthEnv } from "./basic.ts";
import { sameSecret } from "./same_secret.ts";

/**
 * Lets a request with `Authorization: Bearer <token>` through as user
 * `token`; everything else goes to `fallback` (basic auth). An empty token
 * disables the bearer path.
 */
export function bearerOrGuard(token: string, fallback: MiddlewareHandler<AuthEnv>): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    if (token !== "" && header.startsWith("Bearer ")) {
      if (sameSecret(header.slice("Bearer ".length).trim(), token)) {
        c.set("user", "token");
        return await next();
      }
    }
    return await fallback(c, next);
  };
}
