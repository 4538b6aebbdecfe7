/**
 * HTTP basic authentication for Hono routes, against the htpasswd users and
 * with per-client backoff. Routes behind the guard read the user name with
 * `c.get("user")`.
 */
import type { Context, MiddlewareHandler } from "hono";
import { getConnInfo } from "hono/deno";
import { getLogger } from "@logtape/logtape";
import { backoffKey, type LoginBackoff } from "./backoff.ts";

const logger = getLogger(["fieldgate", "auth"]);

/** Hono variables set by {@link basicAuthGuard}: declare `Variables: AuthVariables` on routes behind it. */
export type AuthVariables = { user: string };

/** Hono environment of routes behind {@link basicAuthGuard}. */
export type AuthEnv = { Variables: AuthVariables };

/** Anything that can check a user name and password, e.g. a `UsersFile`. */
export interface UserVerifier {
  verify(user: string, password: string): Promise<boolean>;
}

/** Settings of {@link basicAuthGuard}. */
export interface BasicAuthGuardOptions {
  users: UserVerifier;
  backoff: LoginBackoff;
  /** Shown by browsers in the login prompt. */
  realm: string;
}

/** Credentials from an `Authorization: Basic …` header. */
export interface BasicCredentials {
  user: string;
  password: string;
}

/**
 * Middleware that lets a request through only with valid basic-auth credentials.
 * A client in backoff gets 429 + `Retry-After` without its password being checked;
 * wrong credentials get 401 and count as a failure; missing ones get a plain 401
 * challenge (that is how browsers learn they must ask, so it is not a failure).
 */
export function basicAuthGuard(options: BasicAuthGuardOptions): MiddlewareHandler<AuthEnv> {
  const challenge = `Basic realm="${options.realm.replace(/[\\"]/g, "\\$&")}", charset="UTF-8"`;
  return async (c, next) => {
    const ip = clientAddress(c);
    const client = backoffKey(ip);
    const wait = options.backoff.retryAfterSeconds(client);
    if (wait > 0) {
      const at = new Date(Date.now() + wait * 1000).toISOString();
      return c.text(`Too many failed logins from ${ip}. Retry in ${wait} s (after ${at}).\n`, 429, {
        "Retry-After": String(wait),
      });
    }

    const header = c.req.header("Authorization");
    if (header === undefined) {
      return c.text("Authentication required.\n", 401, { "WWW-Authenticate": challenge });
    }
    const credentials = parseBasicAuthorization(header);
    if (credentials && await options.users.verify(credentials.user, credentials.password)) {
      options.backoff.recordSuccess(client);
      c.set("user", credentials.user);
      await next();
      return;
    }
    options.backoff.recordFailure(client);
    // The user name is attacker-controlled: cap its length; the password is never logged.
    logger.warn("Login failed for user {user} from {ip}", {
      user: credentials ? credentials.user.slice(0, 64) : "(malformed Authorization header)",
      ip,
    });
    return c.text("Wrong user name or password.\n", 401, { "WWW-Authenticate": challenge });
  };
}

// One decoder for every request: a fatal decoder keeps no state between whole (non-streaming) decodes.
const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true });

/** Decodes `Basic base64(user:password)` as UTF-8; undefined when the header is not that. */
export function parseBasicAuthorization(header: string): BasicCredentials | undefined {
  const match = /^basic +([A-Za-z0-9+/]+=*) *$/i.exec(header);
  if (!match) return undefined;
  let decoded: string;
  try {
    decoded = STRICT_UTF8.decode(Uint8Array.fromBase64(match[1]));
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(":");
  if (colon === -1) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** The peer address Deno.serve passed as `c.env`; "unknown" when there is none (e.g. `app.request()` in tests). */
function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    return "unknown";
  }
}
