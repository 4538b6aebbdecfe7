/**
 * Fresh databases on the real PostgreSQL test server. An unreachable server is
 * a failure, never a skip: CI must not go green without PostgreSQL.
 */
import postgres from "postgres";
import { redactDatabaseUrl } from "../../storage/postgres/store.ts";

/** The admin URL of the test server; override with FIELDGATE_TEST_PG_URL. */
export const ADMIN_URL = Deno.env.get("FIELDGATE_TEST_PG_URL") ?? "postgres://postgres@127.0.0.1:5432/test";

/** A database created for one test; `drop()` removes it. */
export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** Creates a uniquely named empty database, starting the local cluster first if it does not answer. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const admin = await connectAdmin();
  const name = `fieldgate_test_${crypto.randomUUID().replaceAll("-", "")}`;
  try {
    await admin`create database ${admin(name)}`;
  } catch (error) {
    await admin.end();
    throw error;
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      try {
        await admin`drop database if exists ${admin(name)} with (force)`;
      } finally {
        await admin.end();
      }
    },
  };
}

let serverReady: Promise<void> | undefined;

/** An admin connection to the test server; the first call starts the local cluster if it does not answer. */
async function connectAdmin(): Promise<postgres.Sql> {
  // Settled once per file, so after one clear failure the remaining cases fail at once.
  serverReady ??= waitForServer();
  await serverReady;
  return await tryConnect();
}

async function waitForServer(): Promise<void> {
  let failure = await pingServer();
  if (!failure) return;
  await startLocalCluster();
  for (const deadline = Date.now() + 10_000; failure && Date.now() < deadline;) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    failure = await pingServer();
  }
  if (failure) {
    throw new Error(
      `PostgreSQL at ${redactDatabaseUrl(ADMIN_URL)} is unreachable (${failure.message}) even after trying to ` +
        "start the local cluster. Start PostgreSQL or point FIELDGATE_TEST_PG_URL at a server where this user " +
        "may CREATE DATABASE; these tests never skip.",
      { cause: failure },
    );
  }
}

/** Undefined when the server answers, otherwise why it did not. */
async function pingServer(): Promise<Error | undefined> {
  try {
    await (await tryConnect()).end();
  } catch (error) {
    return error as Error;
  }
}

async function tryConnect(): Promise<postgres.Sql> {
  const sql = postgres(ADMIN_URL, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`select 1`;
    return sql;
  } catch (error) {
    await sql.end({ timeout: 0 });
    throw error;
  }
}

async function startLocalCluster(): Promise<void> {
  const script = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start";
  try {
    // stderr is merged into stdout so the log keeps pg_ctlcluster's messages in order.
    const { code, stdout } = await new Deno.Command("sh", { args: ["-c", `${script} 2>&1`], stdout: "piped" }).output();
    if (code !== 0) console.error(`${script} exited with ${code}: ${new TextDecoder().decode(stdout).trim()}`);
  } catch (error) {
    console.error(`could not run ${script}: ${(error as Error).message}`);
  }
}
