/**
 * Guards for human-facing routes: a logged-in web session or, for scripts and
 * existing clients, HTTP basic auth against the users file. Browsers without
 * either are sent to the login page instead of a basic-auth prompt.
 */
import type { Context, MiddlewareHandler } from "hono";
import { html } from "hono/html";
import type { Account } from "../storage/account_types.ts";
import type { AuthEnv } from "./basic.ts";
import { crossSiteProblem, hasAccountCookie } from "./csrf.ts";
import type { Sessions } from "./sessions.ts";

/** Hono environment of routes behind {@link adminGuard}: the admin's account and name. */
export type AdminEnv = { Variables: { user: string; account: Account } };

/**
 * Lets a request through with a valid session (`user` = the account's
 * username, which owns its projects) or with what `basic` accepts. Without
 * credentials, a browser that has used the account pages is sent to `/login`;
 * others get basic auth's 401 challenge (browsers and clients with logger
 * credentials answer it), whose page leads a person on to `/login` when the
 * prompt is cancelled. A write with a session must come from this site.
 */
export function sessionOrBasicGuard(sessions: Sessions, basic: MiddlewareHandler<AuthEnv>): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    if (c.req.header("Authorization") === undefined) {
      const account = await sessions.account(c);
      if (account !== null) {
        // The cookie rides along with requests other sites trigger: writes must provably come from our pages.
        const problem = SAFE_METHODS.has(c.req.method) ? null : sameSiteWriteProblem(c);
        if (problem !== null) return c.text(`Refused: ${problem}.\n`, 403);
        c.set("user", account.username);
        await next();
        return;
      }
      if (wantsPage(c) && hasAccountCookie(c)) return c.redirect(loginUrl(c), 303);
      if (wantsPage(c)) {
        const challenge = await basic(c, next);
        if (!(challenge instanceof Response) || challenge.status !== 401) return challenge;
        await challenge.body?.cancel();
        return c.html(loginHint(loginUrl(c)), 401, { "WWW-Authenticate": challenge.headers.get("WWW-Authenticate")! });
      }
    }
    return await basic(c, next);
  };
}

/** Lets only admins with a session (so they may log in) through; others are sent to log in (pages) or get 403. */
export function adminGuard(sessions: Sessions): MiddlewareHandler<AdminEnv> {
  return async (c, next) => {
    const account = await sessions.account(c);
    if (account === null) {
      return wantsPage(c) ? c.redirect(loginUrl(c), 303) : c.text("Log in as an admin first.\n", 401);
    }
    if (!account.admin) return c.text("Only admins may open this page.\n", 403);
    c.set("user", account.username);
    c.set("account", account);
    await next();
  };
}

/** A relative path on this site, safe to redirect to after login; anything else becomes `/account`. */
export function safeNextPath(next: string | undefined): string {
  // "//host" and "/\host" are protocol-relative URLs to other sites in browsers.
  if (next === undefined || !/^\/(?![/\\])/.test(next) || /\p{Cc}/u.test(next)) return "/account";
  return next;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Why a write with a session cookie may come from another site; browsers always send Origin or Sec-Fetch-Site. */
function sameSiteWriteProblem(c: Context): string | null {
  if (c.req.header("Origin") === undefined && c.req.header("Sec-Fetch-Site") === undefined) {
    return "a write with a login cookie needs an Origin header (or use basic auth)";
  }
  return crossSiteProblem(c);
}

function wantsPage(c: Context): boolean {
  return c.req.method === "GET" && (c.req.header("Accept") ?? "").includes("text/html");
}

/** Shown when the basic-auth prompt is cancelled: a meta refresh (no script) on to the login page. */
function loginHint(url: string) {
  return html`
    <!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8">
        <meta http-equiv="refresh" content="0; url=${url}">
        <title>Log in</title>
      </head>
      <body>
        <p>This page needs a login: <a href="${url}">log in with your account</a>.</p>
      </body>
    </html>
  `;
}

function loginUrl(c: Context): string {
  const url = new URL(c.req.url);
  return `/login?next=${encodeURIComponent(url.pathname + url.search)}`;
}
