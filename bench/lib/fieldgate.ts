/**
 * fieldgate under test: `main.ts` as a child process on free loopback ports,
 * with a fresh data directory and, for PostgreSQL, a fresh database.
 */
import { join } from "node:path";
import { basicAuthHeader, type BenchContext } from "./context.ts";
import { createScratchDatabase } from "./postgres.ts";
import { type Child, spawnChild } from "./process.ts";
import { attachProfiler, INSPECT_FLAG, type Profiler, profileRequest } from "./profile.ts";

/** The record stores fieldgate can run on. */
export type Backend = "sqlite" | "postgres";

/** A running fieldgate child. */
export interface Fieldgate {
  /** `https://127.0.0.1:<port>` */
  url: string;
  /** Port of the meter socket; null when it was not asked for. */
  meterPort: number | null;
  dataDir: string;
  child: Child;
  /** GET `path` over HTTPS with the bench login and parse the JSON answer. */
  getJson<T>(path: string): Promise<T>;
  /** Stops the process (draining), drops its database and removes its data directory (unless prepared). */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 60_000;

/**
 * V8 flags for fieldgate alone (not the load generators or peers), e.g.
 * `FIELDGATE_BENCH_V8_FLAGS=--trace-gc,--trace-gc-nvp`: passed as `--v8-flags=`.
 * `DENO_V8_FLAGS` would reach every Deno child, and a trace on the meter clients' stdout corrupts their reports.
 */
const V8_FLAGS = Deno.env.get("FIELDGATE_BENCH_V8_FLAGS") ?? "";
/** Where fieldgate's logs (its stdout and stderr, e.g. a GC trace) go and stay; default: the run's temp root, removed. */
const LOG_DIR = Deno.env.get("FIELDGATE_BENCH_LOG_DIR") ?? "";

interface ListeningProperties {
  httpsPort: number;
  meterPort?: number | null;
}

/** Data prepared before fieldgate starts (generated rows); its owner removes it, not {@link Fieldgate.stop}. */
export interface PreparedData {
  dataDir: string;
  /** PostgreSQL URL; empty for SQLite under `dataDir`. */
  databaseUrl: string;
}

/** How to start fieldgate. */
export interface FieldgateOptions {
  backend: Backend;
  /** Also the meter socket (confo stays off). */
  meter: boolean;
  /** More command-line options, e.g. the CMX credentials. */
  args?: string[];
  /** Run on this data instead of a fresh data directory and database. */
  data?: PreparedData;
}

/** Starts fieldgate on `backend` with a fresh data directory and database, or on `options.data`. */
export async function startFieldgate(context: BenchContext, options: FieldgateOptions): Promise<Fieldgate> {
  const dataDir = options.data?.dataDir ?? await context.newDir(`fieldgate-${options.backend}-`);
  const database = options.data
    ? (options.data.databaseUrl ? { url: options.data.databaseUrl, drop: () => Promise.resolve() } : null)
    : options.backend === "postgres"
    ? await createScratchDatabase(context.postgresUrl)
    : null;
  const profile = profileRequest();
  if (LOG_DIR) await Deno.mkdir(LOG_DIR, { recursive: true });
  const child = spawnChild({
    command: context.deno,
    args: [
      "run",
      "-A",
      ...(profile ? [INSPECT_FLAG] : []),
      ...(V8_FLAGS ? [`--v8-flags=${V8_FLAGS}`] : []),
      join(context.repoRoot, "main.ts"),
      ...["--data-dir", dataDir, "--https-hostname", "127.0.0.1", "--https-port", "0", "--http-enabled", "false"],
      ...["--tls-cert-file", context.certFile, "--tls-key-file", context.keyFile],
      ...["--auth-users-file", context.usersFile, "--log-format", "json"],
      ...(database ? ["--database-url", database.url] : []),
      ...["--meter-enabled", String(options.meter), "--meter-hostname", "127.0.0.1", "--meter-port", "0"],
      // One load generator opens every connection from 127.0.0.1.
      ...["--tcp-max-connections", "20000", "--tcp-max-connections-per-ip", "20000", "--confo-enabled", "false"],
      ...["--https-max-connections", "20000", "--https-max-connections-per-ip", "20000"],
      ...(options.args ?? []),
    ],
    // In the data directory, so a fieldgate.toml in the checkout does not apply.
    cwd: dataDir,
    // One log per start: a prepared data directory is started again, and an old log's port line must not match.
    logFile: join(LOG_DIR || context.root, `${dataDir.split("/").at(-1)}-${crypto.randomUUID().slice(0, 8)}.log`),
  });
  const client = Deno.createHttpClient({ caCerts: [context.caCert] });
  let profiler: Profiler | undefined;
  const stop = async () => {
    try {
      await profiler?.finish();
    } finally {
      await child.stop();
      client.close();
    }
    if (options.data) return;
    await database?.drop();
    await Deno.remove(dataDir, { recursive: true });
  };
  try {
    const listening = await child.waitFor(listeningProperties, START_TIMEOUT_MS);
    if (options.meter && !listening.meterPort) {
      throw new Error(`fieldgate started without a meter socket (log: ${child.logFile})`);
    }
    const url = `https://127.0.0.1:${listening.httpsPort}`;
    if (profile) profiler = await attachProfiler(child, profile);
    return {
      url,
      meterPort: listening.meterPort ?? null,
      dataDir,
      child,
      async getJson<T>(path: string): Promise<T> {
        const response = await fetch(`${url}${path}`, { client, headers: { authorization: basicAuthHeader() } });
        if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
        return await response.json() as T;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The properties of fieldgate's JSON "listening" log line, or undefined for any other line. */
function listeningProperties(line: string): ListeningProperties | undefined {
  if (!line.startsWith("{") || !line.includes('"httpsPort"')) return undefined;
  const properties = JSON.parse(line).properties as ListeningProperties;
  return typeof properties?.httpsPort === "number" ? properties : undefined;
}
