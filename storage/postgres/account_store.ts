/** PostgreSQL account store: accounts, hashed single-use tokens and sessions. */
import type postgres from "postgres";
import { accountColumns, accountFromRow, conflictField, sessionFromRow } from "../account_rows.ts";
import {
  type Account,
  type AccountChanges,
  AccountConflictError,
  type AccountSession,
  type AccountStore,
  type AccountToken,
  type AccountTokenPurpose,
} from "../account_types.ts";

/** PostgreSQL's SQLSTATE for a unique violation. */
const UNIQUE_VIOLATION = "23505";

/** {@link AccountStore} on PostgreSQL. */
export class PostgresAccountStore implements AccountStore {
  readonly #sql: postgres.Sql;

  constructor(sql: postgres.Sql) {
    this.#sql = sql;
  }

  async create(account: Account): Promise<void> {
    try {
      await this.#sql`insert into accounts ${this.#sql(accountColumns(account))}`;
    } catch (error) {
      const failure = error as { code?: string; constraint_name?: string };
      if (failure.code !== UNIQUE_VIOLATION) throw error;
      throw new AccountConflictError(conflictField(failure.constraint_name ?? ""));
    }
  }

  async byId(id: string): Promise<Account | null> {
    const [row] = await this.#sql`select * from accounts where id = ${id}`;
    return row === undefined ? null : accountFromRow(row);
  }

  async byUsername(username: string): Promise<Account | null> {
    const [row] = await this.#sql`select * from accounts where username = ${username}`;
    return row === undefined ? null : accountFromRow(row);
  }

  async byEmail(email: string): Promise<Account | null> {
    const [row] = await this.#sql`select * from accounts where email = ${email}`;
    return row === undefined ? null : accountFromRow(row);
  }

  async list(): Promise<Account[]> {
    return (await this.#sql`select * from accounts order by created_at, id`).map(accountFromRow);
  }

  async update(id: string, changes: AccountChanges): Promise<boolean> {
    const columns = Object.fromEntries(
      Object.entries({
        activated: changes.activated,
        disabled: changes.disabled,
        admin: changes.admin,
        password_hash: changes.passwordHash,
      })
        .filter(([, value]) => value !== undefined),
    );
    if (Object.keys(columns).length === 0) return (await this.byId(id)) !== null;
    const result = await this.#sql`update accounts set ${this.#sql(columns)} where id = ${id}`;
    return result.count > 0;
  }

  async adminExists(): Promise<boolean> {
    const [row] = await this.#sql`
      select exists (select 1 from accounts where admin and activated and not disabled) as found`;
    return row.found;
  }

  async addToken(token: AccountToken): Promise<void> {
    await this.#sql.begin(async (tx) => {
      await tx`delete from account_tokens where account_id = ${token.accountId} and purpose = ${token.purpose}`;
      await tx`
        insert into account_tokens (token_hash, account_id, purpose, expires_at)
        values (${token.hash}, ${token.accountId}, ${token.purpose}, ${token.expiresAt})`;
    });
  }

  async takeToken(hash: string, purpose: AccountTokenPurpose, now: Date): Promise<string | null> {
    const [row] = await this.#sql`
      delete from account_tokens where token_hash = ${hash} and purpose = ${purpose}
      returning account_id, expires_at`;
    if (row === undefined || (row.expires_at as Date) <= now) return null;
    return row.account_id;
  }

  async createSession(session: AccountSession): Promise<void> {
    await this.#sql`
      insert into account_sessions (session_hash, account_id, created_at, last_seen_at)
      values (${session.hash}, ${session.accountId}, ${session.createdAt}, ${session.lastSeenAt})`;
  }

  async session(hash: string): Promise<AccountSession | null> {
    const [row] = await this.#sql`select * from account_sessions where session_hash = ${hash}`;
    return row === undefined ? null : sessionFromRow(row);
  }

  async touchSession(hash: string, at: Date): Promise<void> {
    await this.#sql`update account_sessions set last_seen_at = ${at} where session_hash = ${hash}`;
  }

  async deleteSession(hash: string): Promise<void> {
    await this.#sql`delete from account_sessions where session_hash = ${hash}`;
  }

  async deleteSessions(accountId: string): Promise<void> {
    await this.#sql`delete from account_sessions where account_id = ${accountId}`;
  }

  async purgeExpired(now: Date, sessions: { seenBefore: Date; createdBefore: Date }): Promise<void> {
    await this.#sql`delete from account_tokens where expires_at < ${now}`;
    await this.#sql`
      delete from account_sessions
      where last_seen_at < ${sessions.seenBefore} or created_at < ${sessions.createdBefore}`;
  }
}
