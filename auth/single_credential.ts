/**
 * Basic auth against one configured user and password, as CMX and the
 * Track Your Steps front end use it (not the htpasswd logger accounts).
 */
import type { MiddlewareHandler } from "hono";
import { getLogger } from "@logtape/logtape";
import { clientAddress } from "../routes/client_address.ts";
import { parseBasicAuthorization } from "./basic.ts";
import { sameSecret } from "./same_secret.ts";

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
 * Both fields are compared with {@link sameSecret}, so neither the length nor
 * the content leaks through timing.
 */
export function credentialGuard(options: CredentialGuardOptions): MiddlewareHandler {
  const configured = options.user !== "" && options.password !== "";
  const challenge = `Basic realm="${options.realm}", charset="UTF-8"`;
  return async (c, next) => {
    if (!configured) return c.json({ error: `not configured: ${options.notConfiguredHint}` }, 503);
    const credentials = parseBasicAuthorization(c.req.header("authorization") ?? "");
    // Both comparisons always run, so a right user with a wrong password takes as long as anything else.
    const userOk = sameSecret(credentials?.user ?? "", options.user);
    const passwordOk = sameSecret(credentials?.password ?? "", options.password);
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
