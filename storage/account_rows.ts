/**
 * Row ↔ object mapping shared by the SQLite and PostgreSQL account stores.
 * Times arrive as epoch milliseconds (SQLite) or Date (PostgreSQL), booleans
 * as 0/1 (SQLite) or boolean (PostgreSQL).
 */
import type { Account, AccountSession } from "./account_types.ts";

/** A row as either driver returns it. */
export type AccountRow = Record<string, unknown>;

/** Columns of `accounts` for an insert; times as Date, booleans as boolean. */
export function accountColumns(account: Account) {
  return {
    id: account.id,
    email: account.email,
    username: account.username,
    password_hash: account.passwordHash,
    activated: account.activated,
    disabled: account.disabled,
    admin: account.admin,
    created_at: account.createdAt,
  };
}

/** An `accounts` row as an {@link Account}. */
export function accountFromRow(row: AccountRow): Account {
  return {
    id: row.id as string,
    email: row.email as string,
    username: row.username as string,
    passwordHash: row.password_hash as string,
    activated: Boolean(row.activated),
    disabled: Boolean(row.disabled),
    admin: Boolean(row.admin),
    createdAt: toDate(row.created_at),
  };
}

/** An `account_sessions` row as an {@link AccountSession}. */
export function sessionFromRow(row: AccountRow): AccountSession {
  return {
    hash: row.session_hash as string,
    accountId: row.account_id as string,
    createdAt: toDate(row.created_at),
    lastSeenAt: toDate(row.last_seen_at),
  };
}

/** Which unique field a constraint violation names: the email column or the username index. */
export function conflictField(message: string): "email" | "username" {
  return /email/.test(message) ? "email" : "username";
}

function toDate(value: unknown): Date {
  return value instanceof Date ? value : new Date(Number(value));
}
