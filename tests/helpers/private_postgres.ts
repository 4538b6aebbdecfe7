/**
 * A throwaway PostgreSQL cluster of a test's own, for tests that stop the
 * database (outages): the shared test server must keep running for everyone
 * else. initdb + pg_ctl from the installed PostgreSQL, run as the `postgres`
 * OS user (the tests run as root, as CI does), on a free port in a temp dir,
 * trust authentication, fsync on.
 */
import { join } from "node:path";
import { run } from "./command.ts";
import { freePort } from "./daemon.ts";

/** A private cluster; `await using` stops it and removes its directory, also when the test fails. */
export interface PrivatePostgres extends AsyncDisposable {
  /** Superuser URL of its `postgres` database. */
  url: string;
  /** Crash-stops the server (`pg_ctl stop -m immediate`): connections drop, uncommitted work is lost. */
  stop(): Promise<void>;
  /** Starts it again (crash recovery included) and waits until it accepts connections. */
  start(): Promise<void>;
  /** The server log so far, for failure messages. */
  log(): Promise<string>;
}

/** Creates and starts a private cluster. */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = await postgresBinDir();
  const dir = await Deno.makeTempDir({ prefix: "fieldgate-pg-" });
  const dataDir = join(dir, "data");
  const logFile = join(dir, "server.log");
  const port = freePort();
  // The socket directory is private too, so this cluster never collides with the shared one's.
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c fsync=on`;
  const pgCtl = (...args: string[]) => asPostgres(join(bin, "pg_ctl"), "-D", dataDir, ...args);
  const cluster: PrivatePostgres = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: () => pgCtl("stop", "-m", "immediate", "-w"),
    start: () => pgCtl("start", "-w", "-t", "30", "-l", logFile, "-o", options),
    log: () => Deno.readTextFile(logFile).catch(() => ""),
    async [Symbol.asyncDispose]() {
      // Stopping a cluster that is already down fails; the directory goes either way.
      await cluster.stop().catch(() => {});
      await Deno.remove(dir, { recursive: true });
    },
  };
  try {
    await run("chown", "postgres:postgres", dir);
    // --no-sync only skips initdb's own flush of the template files; the server itself runs with fsync on.
    await asPostgres(join(bin, "initdb"), "-D", dataDir, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8");
    await cluster.start();
  } catch (error) {
    await cluster[Symbol.asyncDispose]();
    throw error;
  }
  return cluster;
}

/** The newest installed PostgreSQL's bin directory (Debian layout). */
async function postgresBinDir(): Promise<string> {
  const versions: number[] = [];
  for await (const entry of Deno.readDir("/usr/lib/postgresql")) {
    if (/^\d+$/.test(entry.name)) versions.push(Number(entry.name));
  }
  if (versions.length === 0) throw new Error("no PostgreSQL under /usr/lib/postgresql: apt-get install postgresql");
  return `/usr/lib/postgresql/${Math.max(...versions)}/bin`;
}

/** PostgreSQL refuses to run as root: its tools run as the `postgres` OS user. */
function asPostgres(command: string, ...args: string[]): Promise<void> {
  return run("runuser", "-u", "postgres", "--", command, ...args);
}
