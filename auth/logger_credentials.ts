/**
 * Setting a logger's password in the users file, shared by `deno task user add`
 * and the admin pages, so both apply the same name rules, password limits and
 * refusal of web-account names.
 */
import type { AccountStore } from "../storage/account_types.ts";
import { assertValidUsername, BCRYPT_MAX_PASSWORD_BYTES } from "./htpasswd.ts";
import type { UsersFile } from "./users_file.ts";

/** A logger password or name the rules refuse; nothing was changed. */
export class LoggerInputError extends Error {
  override name = "LoggerInputError";
}

/** Throws {@link LoggerInputError} for an empty password or one longer than bcrypt stores. */
export function assertLoggerPassword(password: string): void {
  if (password === "") throw new LoggerInputError("empty passwords are not allowed; nothing changed");
  if (new TextEncoder().encode(password).length > BCRYPT_MAX_PASSWORD_BYTES) {
    throw new LoggerInputError(
      `bcrypt uses only the first ${BCRYPT_MAX_PASSWORD_BYTES} bytes of a password; choose a shorter one. Nothing changed.`,
    );
  }
}

/** True when `name` is, ignoring case, the username of a web account. */
export async function isAccountName(store: AccountStore, name: string): Promise<boolean> {
  const lower = name.toLowerCase();
  return (await store.list()).some((account) => account.username.toLowerCase() === lower);
}

/**
 * Adds logger `name` or sets its new password (bcrypt, atomically); resolves
 * true if the logger is new. `accountNamed` answers whether a web account has
 * the name: loggers and accounts share one namespace (both own projects).
 * Throws `InvalidUsernameError` or {@link LoggerInputError}, changing nothing.
 */
export async function saveLoggerPassword(
  users: UsersFile,
  name: string,
  password: string,
  accountNamed: (name: string) => Promise<boolean>,
): Promise<boolean> {
  assertValidUsername(name);
  assertLoggerPassword(password);
  if (await accountNamed(name)) {
    throw new LoggerInputError(
      `"${name}" is the username of a web account, and loggers share names with accounts (both own projects). ` +
        "Choose another name; nothing changed.",
    );
  }
  return await users.add(name, password);
}
