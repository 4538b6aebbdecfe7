/**
 * Transactions that survive the database going away. postgres.js 3.4.9's
 * `sql.begin` answers a failed transaction body with a ROLLBACK; when the
 * failure was the connection closing, that ROLLBACK is written to a socket
 * that is already gone and the process dies with an uncatchable TypeError in
 * `nextWrite` (porsager/postgres#1154, #1208; unfixed upstream). Every
 * transaction goes through {@link transaction}, which never lets a ROLLBACK
 * or COMMIT be sent on a connection that closed: it has no transaction left.
 */
import postgres from "postgres";

/** postgres.js's own codes for a connection that closed under a query. */
const CLOSED_CODES = new Set(["CONNECTION_CLOSED", "CONNECTION_DESTROYED"]);

/**
 * True when `error` means the connection is gone (closed, reset, refused),
 * as opposed to an error the server reported on a live connection.
 */
export function connectionLost(error: unknown): boolean {
  if (!(error instanceof Error) || error instanceof postgres.PostgresError) return false;
  const code = (error as { code?: unknown }).code;
  // Socket errors carry Node's errno names (ECONNRESET, EPIPE, ETIMEDOUT, ...); a 'close' always follows them.
  return typeof code === "string" && (CLOSED_CODES.has(code) || /^E[A-Z]+$/.test(code));
}

/**
 * True when `error` says the database cannot be reached or is shutting down
 * or starting up, not that anything is wrong with the data: a lost connection,
 * a connect timeout, or a server error of class 08 (connection exception) or
 * 57P (operator intervention, e.g. "the database system is starting up").
 */
export function databaseUnavailable(error: unknown): boolean {
  if (error instanceof postgres.PostgresError) return /^(08|57P)/.test(error.code);
  return connectionLost(error) || (error as { code?: unknown } | null)?.code === "CONNECT_TIMEOUT";
}

/**
 * Runs `body` in one transaction (`sql.begin`) and resolves with its result
 * once committed. If the connection is lost, the call rejects with
 * postgres.js's CONNECTION_CLOSED, which `sql.begin` raises itself as soon as
 * the connection closes, and `body`'s outcome is withheld from `sql.begin`, so
 * neither a ROLLBACK nor a COMMIT is sent on the dead connection (also when
 * `body` was awaiting something else, such as the end of an upload, when the
 * connection closed). Server-reported errors roll back as usual. Nothing of
 * `body` is committed unless the call resolves.
 */
export async function transaction<T>(
  sql: postgres.Sql,
  body: (tx: postgres.TransactionSql) => Promise<T>,
): Promise<T> {
  let closed = false;
  // Never settles: sql.begin has rejected (or is about to) through its own close handler.
  const withheld = () => new Promise<never>(() => {});
  const run = sql.begin(async (tx) => {
    let result: T;
    try {
      result = await body(tx);
    } catch (error) {
      if (closed || connectionLost(error)) return withheld();
      throw error;
    }
    return closed ? withheld() : result;
  });
  run.catch(() => closed = true);
  return await run as T;
}
