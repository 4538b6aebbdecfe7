/**
 * SQLite account store. Writes are single statements (or one short
 * transaction) on the writer connection: logins and sign-ups are rare next
 * to device traffic, so they need no group commit.
 */
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import { accountColumns, accountFromRow, type AccountRow, conflictField, sessionFromRow } from "../account_rows.ts";
import {
  type Account,
  type AccountChanges,
  AccountConflictError,
  type AccountSession,
  type AccountStore,
  type AccountToken,
  type AccountTokenPurpose,
} from "../account_types.ts";
import { immediateTransaction } from "./migrations.ts";

/** {@link AccountStore} on SQLite: writes on `writer`, reads on `reader`. */
export class SqliteAccountStore implements AccountStore {
  readonly #writer: DatabaseSync;
  readonly #write: Record<
    | "account"
    | "dropTokens"
    | "token"
    | "takeToken"
    | "session"
    | "touch"
    | "endSession"
    | "endSessions"
    | "purgeTokens"
    | "purgeSessions",
    StatementSync
  >;
  readonly #read: Record<"byId" | "byUsername" | "byEmail" | "list" | "admin" | "session", StatementSync>;

  constructor(writer: DatabaseSync, reader: DatabaseSync) {
    this.#writer = writer;
    this.#write = {
      account: writer.prepare(`
        INSERT INTO accounts (id, email, username, password_hash, activated, disabled, admin, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      dropTokens: writer.prepare("DELETE FROM account_tokens WHERE account_id = ? AND purpose = ?"),
      token: writer.prepare(
        "INSERT INTO account_tokens (token_hash, account_id, purpose, expires_at) VALUES (?, ?, ?, ?)",
      ),
      takeToken: writer.prepare(
        "DELETE FROM account_tokens WHERE token_hash = ? AND purpose = ? RETURNING account_id, expires_at",
      ),
      session: writer.prepare(
        "INSERT INTO account_sessions (session_hash, account_id, created_at, last_seen_at) VALUES (?, ?, ?, ?)",
      ),
      touch: writer.prepare("UPDATE account_sessions SET last_seen_at = ? WHERE session_hash = ?"),
      endSession: writer.prepare("DELETE FROM account_sessions WHERE session_hash = ?"),
      endSessions: writer.prepare("DELETE FROM account_sessions WHERE account_id = ?"),
      purgeTokens: writer.prepare("DELETE FROM account_tokens WHERE expires_at < ?"),
      purgeSessions: writer.prepare("DELETE FROM account_sessions WHERE last_seen_at < ? OR created_at < ?"),
    };
    this.#read = {
      byId: reader.prepare("SELECT * FROM accounts WHERE id = ?"),
      byUsername: reader.prepare("SELECT * FROM accounts WHERE username = ?"),
      byEmail: reader.prepare("SELECT * FROM accounts WHERE email = ?"),
      list: reader.prepare("SELECT * FROM accounts ORDER BY created_at, id"),
      admin: reader.prepare(
        "SELECT EXISTS (SELECT 1 FROM accounts WHERE admin = 1 AND activated = 1 AND disabled = 0) AS found",
      ),
      session: reader.prepare("SELECT * FROM account_sessions WHERE session_hash = ?"),
    };
  }

  create(account: Account): Promise<void> {
    return Promise.try(() => {
      try {
        this.#write.account.run(...Object.values(accountColumns(account)).map(sqliteValue));
      } catch (error) {
        if ((error as { errcode?: number }).errcode !== SQLITE_CONSTRAINT_UNIQUE) throw error;
        throw new AccountConflictError(conflictField((error as Error).message));
      }
    });
  }

  byId(id: string): Promise<Account | null> {
    return this.#one(this.#read.byId, id);
  }

  byUsername(username: string): Promise<Account | null> {
    return this.#one(this.#read.byUsername, username);
  }

  byEmail(email: string): Promise<Account | null> {
    return this.#one(this.#read.byEmail, email);
  }

  list(): Promise<Account[]> {
    return Promise.try(() => (this.#read.list.all() as AccountRow[]).map(accountFromRow));
  }

  update(id: string, changes: AccountChanges): Promise<boolean> {
    return Promise.try(() => {
      const columns = Object.entries({
        activated: changes.activated,
        disabled: changes.disabled,
        admin: changes.admin,
        password_hash: changes.passwordHash,
      }).filter(([, value]) => value !== undefined);
      if (columns.length === 0) return this.#read.byId.get(id) !== undefined;
      // Column names come from the fixed list above, never from the caller.
      const assignments = columns.map(([column]) => `${column} = ?`).join(", ");
      const statement = this.#writer.prepare(`UPDATE accounts SET ${assignments} WHERE id = ?`);
      return statement.run(...columns.map(([, value]) => sqliteValue(value)), id).changes > 0;
    });
  }

  adminExists(): Promise<boolean> {
    return Promise.try(() => (this.#read.admin.get() as { found: number }).found === 1);
  }

  addToken(token: AccountToken): Promise<void> {
    return Promise.try(() =>
      immediateTransaction(this.#writer, () => {
        this.#write.dropTokens.run(token.accountId, token.purpose);
        this.#write.token.run(token.hash, token.accountId, token.purpose, token.expiresAt.getTime());
      })
    );
  }

  takeToken(hash: string, purpose: AccountTokenPurpose, now: Date): Promise<string | null> {
    return Promise.try(() => {
      const row = this.#write.takeToken.get(hash, purpose) as AccountRow | undefined;
      if (row === undefined || (row.expires_at as number) <= now.getTime()) return null;
      return row.account_id as string;
    });
  }

  createSession(session: AccountSession): Promise<void> {
    return Promise.try(() =>
      void this.#write.session.run(
        session.hash,
        session.accountId,
        session.createdAt.getTime(),
        session.lastSeenAt.getTime(),
      )
    );
  }

  session(hash: string): Promise<AccountSession | null> {
    return Promise.try(() => {
      const row = this.#read.session.get(hash) as AccountRow | undefined;
      return row === undefined ? null : sessionFromRow(row);
    });
  }

  touchSession(hash: string, at: Date): Promise<void> {
    return Promise.try(() => void this.#write.touch.run(at.getTime(), hash));
  }

  deleteSession(hash: string): Promise<void> {
    return Promise.try(() => void this.#write.endSession.run(hash));
  }

  deleteSessions(accountId: string): Promise<void> {
    return Promise.try(() => void this.#write.endSessions.run(accountId));
  }

  purgeExpired(now: Date, sessions: { seenBefore: Date; createdBefore: Date }): Promise<void> {
    return Promise.try(() =>
      immediateTransaction(this.#writer, () => {
        this.#write.purgeTokens.run(now.getTime());
        this.#write.purgeSessions.run(sessions.seenBefore.getTime(), sessions.createdBefore.getTime());
      })
    );
  }

  #one(statement: StatementSync, key: string): Promise<Account | null> {
    return Promise.try(() => {
      const row = statement.get(key) as AccountRow | undefined;
      return row === undefined ? null : accountFromRow(row);
    });
  }
}

/** SQLite's extended result code for a UNIQUE constraint violation. */
const SQLITE_CONSTRAINT_UNIQUE = 2067;

/** Dates as epoch milliseconds and booleans as 0/1, as the STRICT columns want them. */
function sqliteValue(value: unknown): SQLInputValue {
  if (value instanceof Date) return value.getTime();
  if (typeof value === "boolean") return value ? 1 : 0;
  return value as SQLInputValue;
}
