/**
 * Basic auth against one configured user and password, as CMX and the
 * Track Your Steps front end use it (not the htpasswd logger accounts).
 */
import type { MiddlewareHandler } from "hono";
import { Buffer } from "node:buffer";
import { getLogger } from "@logtape/logtape";
import { clientAddress } from "../routes/client_address.ts";
import { parseBasicAuthorization } from "./basic.ts";
import { secretMatcher } from "./same_secret.ts";

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
 * Both fields are compared with {@link secretMatcher}, so neither the length nor
 * the content leaks through timing. The header a client built from exactly
 * these credentials is matched first, with one hash of the offered header
 * (constant time too): every request pays for a login, so this keeps it cheap.
 */
export function credentialGuard(options: CredentialGuardOptions): MiddlewareHandler {
  const configured = options.user !== "" && options.password !== "";
  const challenge = `Basic realm="${options.realm}", charset="UTF-8"`;
  const isExpectedHeader = secretMatcher(basicAuthorization(options.user, options.password));
  const isUser = secretMatcher(options.user);
  const isPassword = secretMatcher(options.password);
  return async (c, next) => {
    if (!configured) return c.json({ error: `not configured: ${options.notConfiguredHint}` }, 503);
    const header = c.req.header("authorization") ?? "";
    if (isExpectedHeader(header)) return await next();
    // Other spellings of the right credentials (lower-case scheme, spaces) still pass below.
    const credentials = parseBasicAuthorization(header);
    // Both comparisons always run, so a right user with a wrong password takes as long as anything else.
    const userOk = isUser(credentials?.user ?? "");
    const passwordOk = isPassword(credentials?.password ?? "");
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

/** `Basic base64(user:password)` with UTF-8 bytes, as clients send it. */
function basicAuthorization(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, "utf8").toString("base64")}`;
}
