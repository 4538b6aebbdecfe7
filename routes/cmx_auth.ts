/**
 * Basic auth against one configured user and password, as CMX and the
 * Track Your Steps front end use it (not the htpasswd logger accounts).
 */
import type { MiddlewareHandler } from "hono";
import { createHash, timingSafeEqual } from "node:crypto";
import { getLogger } from "@logtape/logtape";
import { parseBasicAuthorization } from "../auth/basic.ts";
import { clientAddress } from "./client_address.ts";

const log = getLogger(["fieldgate", "cmx"]);

/** What {@link credentialGuard} checks and how it explains itself. */
export interface CredentialGuardOptions {
  user: string;
  password: string;
  realm: string;
  /** Told to the client when no credentials are configured, e.g. the keys to set. */
  notConfiguredHint: string;
}

/**
 * 503 with the hint while user or password is empty (there are no default
 * passwords); 401 with `WWW-Authenticate` for missing or wrong credentials.
 * Both fields are compared through SHA-256 digests with `timingSafeEqual`,
 * so neither the length nor the content leaks through timing.
 */
export function credentialGuard(options: CredentialGuardOptions): MiddlewareHandler {
  const digest = (text: string) => createHash("sha256").update(text).digest();
  const expectedUser = digest(options.user);
  const expectedPassword = digest(options.password);
  const configured = options.user !== "" && options.password !== "";
  const challenge = `Basic realm="${options.realm}", charset="UTF-8"`;
  return async (c, next) => {
    if (!configured) return c.json({ error: `not configured: ${options.notConfiguredHint}` }, 503);
    const credentials = parseBasicAuthorization(c.req.header("authorization") ?? "");
    // Both comparisons always run, so a right user with a wrong password takes as long as anything else.
    const userOk = timingSafeEqual(digest(credentials?.user ?? ""), expectedUser);
    const passwordOk = timingSafeEqual(digest(credentials?.password ?? ""), expectedPassword);
    if (credentials && userOk && passwordOk) return await next();
    if (credentials) {
      log.warn("{realm}: login failed for user {user} from {ip}", {
        realm: options.realm,
        user: credentials.user.slice(0, 64),
        ip: clientAddress(c),
      });
    }
    return c.json({ error: "Could not verify your access level for that URL." }, 401, {
      "WWW-Authenticate": challenge,
    });
  };
}
