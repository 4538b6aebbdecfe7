/**
 * CSRF protection for the HTML forms: a double-submit token (a random value in
 * a `__Host-` cookie that every form repeats in a hidden `_csrf` field; another
 * site can neither read nor set that cookie) plus an Origin check, so a POST
 * from another site fails twice over.
 */
import type { Context, MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { getLogger } from "@logtape/logtape";
import { sameSecret } from "./same_secret.ts";
import { newSecretToken } from "./secret_token.ts";

const logger = getLogger(["fieldgate", "auth"]);

/** Cookie name without its `__Host-` prefix (hono adds it). */
const COOKIE = "fieldgate-csrf";

/** Name of the hidden form field carrying the token. */
export const CSRF_FIELD = "_csrf";

/** Hono variables set by {@link csrfProtection}: the token forms must embed. */
export type CsrfVariables = { csrf: string };

/**
 * Middleware giving every request a token (`c.get("csrf")`, cookie set on
 * first visit) and refusing, with 403, any POST from another origin or whose
 * `_csrf` form field does not match the cookie.
 */
export function csrfProtection(): MiddlewareHandler<{ Variables: CsrfVariables }> {
  return async (c, next) => {
    let token = getCookie(c, COOKIE, "host");
    if (c.req.method === "POST") {
      const problem = crossSiteProblem(c) ?? await tokenProblem(c, token);
      if (problem !== null) {
        logger.warn("refused a form POST to {path}: {problem}", { path: c.req.path, problem });
        return c.text(`Refused: ${problem}. Reload the page and submit the form again.\n`, 403);
      }
    }
    if (token === undefined) {
      token = newSecretToken();
      setCookie(c, COOKIE, token, { prefix: "host", path: "/", secure: true, httpOnly: true, sameSite: "Strict" });
    }
    c.set("csrf", token);
    await next();
  };
}

/** True when the browser has visited the account pages before (it holds their CSRF cookie): a person with an account. */
export function hasAccountCookie(c: Context): boolean {
  return getCookie(c, COOKIE, "host") !== undefined;
}

/**
 * Why the request comes from another site, or null: `Sec-Fetch-Site` must be
 * same-origin and `Origin` (sent by browsers on every POST) this host, where present.
 */
export function crossSiteProblem(c: Context): string | null {
  const fetchSite = c.req.header("Sec-Fetch-Site");
  if (fetchSite !== undefined && fetchSite !== "same-origin" && fetchSite !== "none") {
    return `the form was sent from another site (Sec-Fetch-Site: ${fetchSite})`;
  }
  const origin = c.req.header("Origin");
  if (origin === undefined) return null;
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    return "the Origin header is not a URL";
  }
  const host = c.req.header("Host") ?? new URL(c.req.url).host;
  return originHost === host ? null : `the form was sent from ${origin.slice(0, 100)}, not from this site`;
}

async function tokenProblem(c: Context, cookie: string | undefined): Promise<string | null> {
  if (cookie === undefined) return "the form's security cookie is missing (are cookies enabled?)";
  const body = await c.req.parseBody().catch(() => ({} as Record<string, unknown>));
  const field = body[CSRF_FIELD];
  if (typeof field !== "string" || !sameSecret(field, cookie)) return "the form's security token does not match";
  return null;
}
