/**
 * Account rules shared by the web pages and `deno task user account`:
 * validation, registration, activation, login and password reset. Passwords
 * are bcrypt-hashed like the htpasswd users; tokens go out in emails and are
 * stored only as hashes.
 */
import { z } from "zod";
import {
  type Account,
  type AccountChanges,
  AccountConflictError,
  type AccountStore,
  mayLogIn,
} from "../storage/account_types.ts";
import { BCRYPT_MAX_PASSWORD_BYTES, hashPassword, USERNAME_PATTERN, verifyPassword } from "./htpasswd.ts";
import { newSecretToken, secretTokenHash } from "./secret_token.ts";

/** How long an activation link works. */
export const ACTIVATION_HOURS = 48;
/** How long a password-reset link works: short, because it is as good as the password. */
export const RESET_HOURS = 1;
/** Shortest password accepted for an account. */
export const MIN_PASSWORD_LENGTH = 10;

/**
 * What the admin page's buttons and `deno task user account` change. Activating
 * also lifts a deactivation; deactivating only disables, so that no emailed
 * link can let the person back in.
 */
export const ADMIN_ACTIONS: Readonly<Record<string, AccountChanges>> = {
  activate: { activated: true, disabled: false },
  deactivate: { disabled: true },
  "grant-admin": { admin: true },
  "revoke-admin": { admin: false },
};

/** The account's state in words, for lists. */
export function accountStatus(account: Account): "active" | "deactivated" | "awaiting activation" {
  if (account.disabled) return "deactivated";
  return account.activated ? "active" : "awaiting activation";
}

/** Input that cannot become an account; the message says what is wrong, for the person who typed it. */
export class AccountInputError extends Error {
  override name = "AccountInputError";
}

/** The names that already log in through the htpasswd users file (loggers); accounts may not take them. */
export interface ReservedNames {
  list(): Promise<{ user: string }[]>;
}

const emailSchema = z.email().max(254);

/** What a registration asks for. */
export interface NewAccount {
  email: string;
  username: string;
  password: string;
}

/** Validates and normalises an email (trimmed, lower-cased) or throws {@link AccountInputError}. */
export function normaliseEmail(email: string): string {
  const parsed = emailSchema.safeParse(email.trim().toLowerCase());
  if (!parsed.success) throw new AccountInputError(`"${email.slice(0, 100)}" is not an email address`);
  return parsed.data;
}

/** Throws {@link AccountInputError} unless the password is long enough and fits bcrypt. */
export function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new AccountInputError(`the password needs at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  if (new TextEncoder().encode(password).length > BCRYPT_MAX_PASSWORD_BYTES) {
    throw new AccountInputError(`the password may have at most ${BCRYPT_MAX_PASSWORD_BYTES} bytes (bcrypt's limit)`);
  }
}

/** A bcrypt hash compared against when a login names nobody, so unknown names take as long as wrong passwords. */
let dummyHash: Promise<string> | undefined;

/** The account operations, on an {@link AccountStore}. */
export class Accounts {
  readonly #store: AccountStore;
  readonly #reserved: ReservedNames;
  readonly #now: () => number;

  constructor(store: AccountStore, reserved: ReservedNames, now: () => number = Date.now) {
    this.#store = store;
    this.#reserved = reserved;
    this.#now = now;
  }

  /**
   * Creates an account (inactive unless `activated`). Rejects with
   * {@link AccountInputError} on bad input and {@link AccountConflictError}
   * when the email or username is taken, also by a logger in the users file.
   */
  async register(input: NewAccount, options: { activated?: boolean; admin?: boolean } = {}): Promise<Account> {
    const email = normaliseEmail(input.email);
    if (!USERNAME_PATTERN.test(input.username)) {
      throw new AccountInputError("the username needs 1 to 64 characters from A-Z a-z 0-9 . _ @ -");
    }
    checkPassword(input.password);
    // One namespace with the loggers: a project owner name must mean one person.
    const lower = input.username.toLowerCase();
    if ((await this.#reserved.list()).some((entry) => entry.user.toLowerCase() === lower)) {
      throw new AccountConflictError("username");
    }
    const account: Account = {
      id: crypto.randomUUID(),
      email,
      username: input.username,
      passwordHash: await hashPassword(input.password),
      activated: options.activated ?? false,
      disabled: false,
      admin: options.admin ?? false,
      createdAt: new Date(this.#now()),
    };
    await this.#store.create(account);
    return account;
  }

  /** A new single-use link token of `purpose` for the account; older ones of that purpose stop working. */
  async issueToken(account: Account, purpose: "activation" | "reset"): Promise<string> {
    const token = newSecretToken();
    const hours = purpose === "activation" ? ACTIVATION_HOURS : RESET_HOURS;
    await this.#store.addToken({
      hash: secretTokenHash(token),
      accountId: account.id,
      purpose,
      expiresAt: new Date(this.#now() + hours * 3_600_000),
    });
    return token;
  }

  /** Activates the account of an activation token; null when the token is unknown, used or expired. */
  async activate(token: string): Promise<Account | null> {
    const id = await this.#store.takeToken(secretTokenHash(token), "activation", new Date(this.#now()));
    if (id === null || !await this.#store.update(id, { activated: true })) return null;
    return await this.#store.byId(id);
  }

  /**
   * The account when `login` (username or email) and password match, or null.
   * `refused` tells a person with the right password why they still cannot log in.
   */
  async login(
    login: string,
    password: string,
  ): Promise<{ account: Account; refused: "awaiting activation" | "deactivated" | null } | null> {
    // Usernames may contain "@" too: an email match first, then the username.
    const account = (login.includes("@") ? await this.#store.byEmail(login.trim().toLowerCase()) : null) ??
      await this.#store.byUsername(login.trim());
    const matches = await verifyPassword(password, account?.passwordHash ?? await (dummyHash ??= hashPassword("x")));
    if (account === null || !matches) return null;
    return { account, refused: mayLogIn(account) ? null : account.disabled ? "deactivated" : "awaiting activation" };
  }

  /** The account with this email and a fresh reset token, or null when there is none (the caller says nothing). */
  async requestReset(email: string): Promise<{ account: Account; token: string } | null> {
    let normalised: string;
    try {
      normalised = normaliseEmail(email);
    } catch {
      return null;
    }
    const account = await this.#store.byEmail(normalised);
    if (account === null) return null;
    return { account, token: await this.issueToken(account, "reset") };
  }

  /**
   * Sets a new password with a reset token and ends every session of the
   * account; null when the token is unknown, used or expired. The password is
   * checked before the token is spent, so a too-short password can be retried.
   */
  async resetPassword(token: string, password: string): Promise<Account | null> {
    checkPassword(password);
    const id = await this.#store.takeToken(secretTokenHash(token), "reset", new Date(this.#now()));
    if (id === null) return null;
    // The link came by email, so whoever opened it owns the address: that also proves activation
    // (but never lifts an admin's deactivation).
    await this.#store.update(id, { passwordHash: await hashPassword(password), activated: true });
    await this.#store.deleteSessions(id);
    return await this.#store.byId(id);
  }
}
