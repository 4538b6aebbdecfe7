/**
 * Web login sessions: a random id in a `__Host-` cookie (Secure, HttpOnly,
 * SameSite=Lax), stored server-side only as its SHA-256. A session ends after
 * an idle period and, however active, a fixed time after the login.
 */
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { type Account, type AccountStore, mayLogIn } from "../storage/account_types.ts";
import { newSecretToken, secretTokenHash } from "./secret_token.ts";

/** Cookie name without its `__Host-` prefix (hono adds it): the prefix pins the cookie to this host, path / and HTTPS. */
const COOKIE = "fieldgate-session";

/** Activity is written at most this often, so a busy page does not write on every request. */
const TOUCH_INTERVAL_MS = 60_000;

/** Session lifetimes. */
export interface SessionLimits {
  sessionIdleMinutes: number;
  sessionMaxHours: number;
}

/** Starts, resolves and ends sessions on an {@link AccountStore}. */
export class Sessions {
  readonly #store: AccountStore;
  readonly #idleMs: number;
  readonly #maxMs: number;
  readonly #now: () => number;

  constructor(store: AccountStore, limits: SessionLimits, now: () => number = Date.now) {
    this.#store = store;
    this.#idleMs = limits.sessionIdleMinutes * 60_000;
    this.#maxMs = limits.sessionMaxHours * 3_600_000;
    this.#now = now;
  }

  /** Starts a session for the account and sets its cookie (a fresh id, so a planted cookie never survives login). */
  async start(c: Context, account: Account): Promise<void> {
    const id = newSecretToken();
    const now = new Date(this.#now());
    // Logins are rare: cleaning up here keeps the tables small without a scheduler.
    await this.#store.purgeExpired(now, {
      seenBefore: new Date(now.getTime() - this.#idleMs),
      createdBefore: new Date(now.getTime() - this.#maxMs),
    });
    await this.#store.createSession({
      hash: secretTokenHash(id),
      accountId: account.id,
      createdAt: now,
      lastSeenAt: now,
    });
    setCookie(c, COOKIE, id, {
      prefix: "host",
      path: "/",
      secure: true,
      httpOnly: true,
      sameSite: "Lax",
      maxAge: Math.floor(this.#maxMs / 1000),
    });
  }

  /** The account of the request's session, or null (no cookie, unknown, expired, or it may not log in). */
  async account(c: Context): Promise<Account | null> {
    const id = getCookie(c, COOKIE, "host");
    if (id === undefined) return null;
    const hash = secretTokenHash(id);
    const session = await this.#store.session(hash);
    if (session === null) return null;
    const now = this.#now();
    if (now - session.lastSeenAt.getTime() >= this.#idleMs || now - session.createdAt.getTime() >= this.#maxMs) {
      await this.#store.deleteSession(hash);
      return null;
    }
    const account = await this.#store.byId(session.accountId);
    if (account === null || !mayLogIn(account)) return null;
    if (now - session.lastSeenAt.getTime() > TOUCH_INTERVAL_MS) await this.#store.touchSession(hash, new Date(now));
    return account;
  }

  /** Ends the request's session (if any) and clears its cookie. */
  async end(c: Context): Promise<void> {
    const id = getCookie(c, COOKIE, "host");
    if (id !== undefined) await this.#store.deleteSession(secretTokenHash(id));
    deleteCookie(c, COOKIE, { prefix: "host", path: "/", secure: true });
  }
}
