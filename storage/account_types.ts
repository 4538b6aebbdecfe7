/**
 * What the record store keeps about people who log in to the web pages:
 * accounts, their single-use email tokens and their sessions. Tokens and
 * session ids are stored only as SHA-256 hashes, so a leaked database holds
 * nothing that logs anyone in.
 */

/** A person's account (not a logger: loggers stay in the htpasswd users file). */
export interface Account {
  /** UUID v4. */
  id: string;
  /** Lower-cased; unique. */
  email: string;
  /** Unique regardless of letter case; owns drop-off projects under this name. */
  username: string;
  /** bcrypt hash. */
  passwordHash: string;
  /** False until the activation link (or a reset link) is opened, or an admin or the CLI vouches for the person. */
  activated: boolean;
  /**
   * Set by an admin to shut the account out. Separate from `activated`, so that
   * no emailed link (activation, reset) can undo an admin's decision.
   */
  disabled: boolean;
  admin: boolean;
  createdAt: Date;
}

/** What an emailed token is good for. */
export type AccountTokenPurpose = "activation" | "reset";

/** A single-use token as stored: its hash, never the token itself. */
export interface AccountToken {
  /** SHA-256 (hex) of the token sent in the link. */
  hash: string;
  accountId: string;
  purpose: AccountTokenPurpose;
  expiresAt: Date;
}

/** A login session as stored, under the SHA-256 (hex) of its cookie value. */
export interface AccountSession {
  hash: string;
  accountId: string;
  createdAt: Date;
  /** Last request seen (updated at most once a minute); the idle expiry counts from here. */
  lastSeenAt: Date;
}

/** The account fields an admin or a password reset may change. */
export type AccountChanges = Partial<Pick<Account, "activated" | "disabled" | "admin" | "passwordHash">>;

/** True when the account may log in and keep its sessions: activated and not disabled. */
export function mayLogIn(account: Account): boolean {
  return account.activated && !account.disabled;
}

/** Raised by {@link AccountStore.create} when the email or the username is already taken. */
export class AccountConflictError extends Error {
  override name = "AccountConflictError";
  constructor(readonly field: "email" | "username") {
    super(`an account with this ${field} already exists`);
  }
}

/** Storage for accounts, tokens and sessions. */
export interface AccountStore {
  /** Stores a new account; rejects with {@link AccountConflictError} when its email or username is taken. */
  create(account: Account): Promise<void>;
  /** The account with this id, or null. */
  byId(id: string): Promise<Account | null>;
  /** The account with exactly this username, or null. */
  byUsername(username: string): Promise<Account | null>;
  /** The account with this (lower-cased) email, or null. */
  byEmail(email: string): Promise<Account | null>;
  /** Every account, oldest first. */
  list(): Promise<Account[]>;
  /** Applies `changes`; false when there is no such account. */
  update(id: string, changes: AccountChanges): Promise<boolean>;
  /** True when at least one admin who may log in exists. */
  adminExists(): Promise<boolean>;
  /** Stores a token; earlier tokens of the same purpose for the account stop working (only the newest link counts). */
  addToken(token: AccountToken): Promise<void>;
  /**
   * Removes the token with this hash and purpose and resolves its account id,
   * or null when there is none or it expired before `now`. Single-use: of two
   * concurrent calls only one gets the id.
   */
  takeToken(hash: string, purpose: AccountTokenPurpose, now: Date): Promise<string | null>;
  /** Stores a new session. */
  createSession(session: AccountSession): Promise<void>;
  /** The session with this hash, or null. */
  session(hash: string): Promise<AccountSession | null>;
  /** Records activity on a session. */
  touchSession(hash: string, at: Date): Promise<void>;
  /** Ends one session (logout, expiry). */
  deleteSession(hash: string): Promise<void>;
  /** Ends every session of an account (password reset, deactivation). */
  deleteSessions(accountId: string): Promise<void>;
  /**
   * Forgets tokens expired before `now` and sessions last seen before
   * `seenBefore` or created before `createdBefore`: rows nobody can use any more.
   */
  purgeExpired(now: Date, sessions: { seenBefore: Date; createdBefore: Date }): Promise<void>;
}
