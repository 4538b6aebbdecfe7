/** A fresh PostgreSQL database per fieldgate run, created and dropped through the admin connection. */
import postgres from "postgres";

/** A database that exists until {@link ScratchDatabase.drop}. */
export interface ScratchDatabase {
  /** Connection URL of the new database. */
  url: string;
  drop(): Promise<void>;
}

/** Creates `fieldgate_bench_<random>` on the server of `adminUrl`. */
export async function createScratchDatabase(adminUrl: string): Promise<ScratchDatabase> {
  const name = `fieldgate_bench_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  await admin(adminUrl, `CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    drop: () => admin(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

/**
 * `VACUUM ANALYZE` of the database at `url`, as an operator runs after a bulk
 * load (and autovacuum would within about a minute): the statistics decide
 * the plans the measured queries get.
 */
export async function vacuumAnalyze(url: string): Promise<void> {
  await admin(url, "VACUUM ANALYZE");
}

async function admin(adminUrl: string, statement: string): Promise<void> {
  await withAdmin(adminUrl, (sql) => sql.unsafe(statement));
}

async function withAdmin<T>(adminUrl: string, use: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    return await use(sql);
  } finally {
    await sql.end();
  }
}

/** Version and durability settings of the server, e.g. "PostgreSQL 15.20, fsync=on, synchronous_commit=on". */
export async function describePostgres(adminUrl: string): Promise<string> {
  const [row] = await withAdmin(
    adminUrl,
    (sql) =>
      sql`SELECT current_setting('server_version') AS version, current_setting('fsync') AS fsync,
      current_setting('synchronous_commit') AS synchronous_commit`,
  );
  return `PostgreSQL ${row.version}, fsync=${row.fsync}, synchronous_commit=${row.synchronous_commit}`;
}
