/**
 * CMX scenario, two parts.
 * Ingest: wrk POSTs batches of movement notifications (distinct devices,
 * advancing timestamps and coordinates) over HTTPS keep-alive to
 * `/notification`, against fieldgate (SQLite and PostgreSQL) and the ceiling
 * (bench/peers/ceiling_cmx.ts), in the same repetition; fieldgate's stored
 * notification count is checked against the acknowledged ones.
 * Queries: generated users and `distance_history` rows, then a fixed number
 * of `/live/leaderboard` and `/live/username_data` requests, timed one by one.
 */
import { join } from "node:path";
import {
  type Contender,
  fieldgateContenders,
  measureContenders,
  type Measurement,
  ratiosAgainst,
} from "./lib/contenders.ts";
import { BENCH_USERNAME_PREFIX, benchUsername, type CmxData, generateCmxData, movementScript } from "./lib/cmx_data.ts";
import { basicAuthHeader, type BenchContext } from "./lib/context.ts";
import { type Backend, type Fieldgate, startFieldgate } from "./lib/fieldgate.ts";
import { startDenoPeer } from "./lib/peer.ts";
import type { Child } from "./lib/process.ts";
import type { Column, ScenarioResult } from "./lib/report.ts";
import { HTTP_FAILED, latencyColumns, PEAK_RSS, ScenarioTable, SERVER_CORES, serverUsage } from "./lib/table.ts";
import { timeRequests } from "./lib/requests.ts";
import { ensureWrk, runWrk, writeGeneratedPostScript } from "./lib/wrk.ts";

/** How hard, how long and how much data. */
export interface CmxOptions {
  durationS: number;
  /** Concurrent wrk connections (CMX servers posting). */
  clients: number;
  /** Notifications per post. */
  batch: number;
  repetitions: number;
  backends: Backend[];
  /** Generated registered users and history rows for the query part. */
  users: number;
  historyRows: number;
  /** Requests per endpoint and repetition, and how many in flight. */
  queries: number;
  queryConcurrency: number;
  /**
   * Then the same requests again at this steady rate per endpoint (open loop), the latency users see at a given
   * load rather than at saturation; 0 skips it.
   */
  queryRate: number;
}

/** The issue's sizes (issue 5 and 8); smaller runs say so. */
const FULL_USERS = 30_000;
const FULL_HISTORY_ROWS = 1_000_000;
const DEVICES_PER_WRK_THREAD = 20_000;
const WRK_THREADS = 2;
const WARMUP_REQUESTS = 100;
/** Seconds of each wrk run against a /live endpoint. */
const WRK_QUERY_SECONDS = 3;
const LEADERS = 10;
const QUERY_CEILING = "ceiling: Deno.serve, fixed answers";
const NOTIFICATION_USER = { name: "bench", password: "cmx notification password for loopback only" };
const API_USER = { name: "benchapi", password: "cmx api password for loopback only" };
const API_HEADERS = { "Content-Type": "application/json", "Authorization": basicAuthHeader(API_USER) };
/** Step through the generated users: 7919 is prime, so every user is asked for before any twice. */
const USER_STRIDE = 7919;
const FIXTURE = new URL("../../shared/fixtures/cmx-movement.json", import.meta.url);

const CREDENTIALS = [
  ...["--cmx-notification-user", NOTIFICATION_USER.name, "--cmx-notification-password", NOTIFICATION_USER.password],
  ...["--cmx-api-user", API_USER.name, "--cmx-api-password", API_USER.password],
];

type QueryPath = "leaderboard" | "username_data";

/** A server ready for notification posts and /live queries; `stored` counts what it recorded (fieldgate only). */
interface CmxTarget {
  url: string;
  child: Child;
  stored?: () => Promise<number>;
  stop(): Promise<void>;
}

const INGEST_COLUMNS: Column[] = [
  { key: "notificationsPerS", label: "acked notifications/s", digits: 0 },
  ...latencyColumns(1, "post "),
  { key: "acknowledged", label: "acked notifications", digits: 0 },
  { key: "stored", label: "stored notifications", digits: 0 },
  HTTP_FAILED,
  SERVER_CORES,
  PEAK_RSS,
];

const QUERY_COLUMNS: Column[] = [
  { key: "leaderboardP50Ms", label: "leaderboard p50 ms", digits: 2 },
  { key: "leaderboardP99Ms", label: "leaderboard p99 ms", digits: 2 },
  { key: "leaderboardPerS", label: "leaderboard req/s", digits: 0 },
  { key: "usernameDataP50Ms", label: "username_data p50 ms", digits: 2 },
  { key: "usernameDataP99Ms", label: "username_data p99 ms", digits: 2 },
  { key: "usernameDataPerS", label: "username_data req/s", digits: 0 },
  { key: "pacedLeaderboardP99Ms", label: "paced: leaderboard p99 ms", digits: 2 },
  { key: "pacedUsernameDataP99Ms", label: "paced: username_data p99 ms", digits: 2 },
  { key: "wrkLeaderboardP99Ms", label: "HTTP/1.1 (wrk): leaderboard p99 ms", digits: 2 },
  { key: "wrkUsernameDataP99Ms", label: "HTTP/1.1 (wrk): username_data p99 ms", digits: 2 },
  { key: "failed", label: "failed", digits: 0 },
  PEAK_RSS,
];

/** Runs both parts; returns the ingest table and the query table. */
export async function cmxScenario(context: BenchContext, options: CmxOptions): Promise<ScenarioResult[]> {
  return [await ingestPart(context, options), await queryPart(context, options)];
}

async function ingestPart(context: BenchContext, options: CmxOptions): Promise<ScenarioResult> {
  await ensureWrk();
  const script = join(context.root, "cmx-movement.lua");
  await Deno.writeTextFile(
    script,
    movementScript(await Deno.readTextFile(FIXTURE), {
      batch: options.batch,
      devicesPerThread: DEVICES_PER_WRK_THREAD,
      headers: { "Content-Type": "application/json", "Authorization": basicAuthHeader(NOTIFICATION_USER) },
    }),
  );
  const contenders: Contender<CmxTarget>[] = [
    ...fieldgateContenders(options.backends, (backend) => fieldgateCmxTarget(context, backend)),
    { server: "ceiling: Deno.serve + JSON.parse", backend: "-", start: () => ceilingTarget(context) },
  ];
  const setup = `${options.clients} clients × ${options.batch}/post, ${options.durationS} s`;
  const measured = await measureContenders(
    { scenario: "cmx ingest", setup, repetitions: options.repetitions, contenders },
    (target) => measureIngest(target, script, options),
  );
  return new ScenarioTable("CMX ingest: durable movement notifications over HTTPS (target ≥ 10,000/s)", INGEST_COLUMNS)
    .add(measured, ratiosAgainst(measured.rows, measured.rows.at(-1)!, "ceiling", "notificationsPerS")).result;
}

async function measureIngest(target: CmxTarget, script: string, options: CmxOptions): Promise<Measurement> {
  const before = await target.child.usage();
  const wrk = await runWrk({
    url: `${target.url}/notification`,
    connections: options.clients,
    threads: WRK_THREADS,
    durationS: options.durationS,
    script,
  });
  const after = await target.child.usage();
  // A 200 means every notification of the post is committed (the ceiling: merely parsed).
  const acknowledged = (wrk.requests - wrk.non2xx) * options.batch;
  const stored = target.stored ? await target.stored() : NaN;
  const failed = wrk.non2xx + wrk.socketErrors;
  const problems: string[] = [];
  if (failed > 0) problems.push(`${failed} non-2xx responses or socket errors`);
  if (stored < acknowledged) problems.push(`${acknowledged} notifications acknowledged but only ${stored} stored`);
  return {
    metrics: {
      notificationsPerS: acknowledged / wrk.durationS,
      p50Ms: wrk.p50Ms,
      p99Ms: wrk.p99Ms,
      acknowledged,
      stored,
      failed,
      ...serverUsage(before, after, wrk.durationS),
    },
    problems,
  };
}

async function fieldgateCmxTarget(context: BenchContext, backend: Backend): Promise<CmxTarget> {
  const server = await startFieldgate(context, { backend, meter: false, args: CREDENTIALS });
  return { url: server.url, child: server.child, stored: () => storedNotifications(server), stop: server.stop };
}

/** Notifications fieldgate counted (`GET /cmx/admin?format=json`: its per-minute counters, last 120 minutes). */
async function storedNotifications(server: Fieldgate): Promise<number> {
  const summary = await server.getJson<{ perMinute: { notifications: number }[] }>("/cmx/admin?format=json");
  return summary.perMinute.reduce((sum, minute) => sum + minute.notifications, 0);
}

async function ceilingTarget(context: BenchContext): Promise<CmxTarget> {
  const peer = await startDenoPeer(context, "ceiling_cmx.ts");
  return { url: `https://127.0.0.1:${peer.port}`, child: peer.child, stop: () => peer.child.stop().then(() => {}) };
}

async function queryPart(context: BenchContext, options: CmxOptions): Promise<ScenarioResult> {
  const sizes = { users: options.users, historyRows: options.historyRows };
  const data = new Map<Backend, CmxData>();
  const table = new ScenarioTable(
    "CMX queries: /live over HTTPS on generated data (target p99 < 10 ms)",
    QUERY_COLUMNS,
  );
  if (options.users < FULL_USERS || options.historyRows < FULL_HISTORY_ROWS) {
    table.warn(
      `scaled down: ${options.users.toLocaleString("en-US")} users and ` +
        `${options.historyRows.toLocaleString("en-US")} history rows, not the issue's 30,000 and 1,000,000`,
    );
  }
  await ensureWrk();
  const scripts = await writeQueryScripts(context, options.users);
  try {
    for (const backend of options.backends) {
      const generated = await generateCmxData(context, backend, sizes);
      data.set(backend, generated);
      table.warn(`${backend}: generating the data took ${generated.generateS.toFixed(1)} s (not measured load)`);
    }
    const contenders: Contender<CmxTarget>[] = [
      ...fieldgateContenders(options.backends, async (backend) => {
        const server = await startFieldgate(context, {
          backend,
          meter: false,
          args: CREDENTIALS,
          data: data.get(backend),
        });
        return { url: server.url, child: server.child, stop: server.stop };
      }),
      { server: QUERY_CEILING, backend: "-", start: () => ceilingTarget(context) },
    ];
    const setup = `${options.users.toLocaleString("en-US")} users, ${
      options.historyRows.toLocaleString("en-US")
    } rows, ${options.queries} req × ${options.queryConcurrency} in flight${
      options.queryRate ? `; paced: ${options.queryRate} req/s` : ""
    }; wrk: ${options.queryConcurrency} connections × ${WRK_QUERY_SECONDS} s`;
    const measured = await measureContenders(
      { scenario: "cmx queries", setup, repetitions: options.repetitions, contenders },
      (server) => measureQueries(context, server, options, scripts),
    );
    return table.add(measured)
      .note(
        `${QUERY_CEILING}: the same clients and requests against bench/peers/ceiling_cmx.ts, which parses each ` +
          "request and answers a fixed reply of the same size: the latency this machine and transport give at best",
      )
      .result;
  } finally {
    for (const generated of data.values()) await generated.remove();
  }
}

/** The leader board request of every client. */
function leaderBody(): string {
  return JSON.stringify({ number_leaders: LEADERS });
}

/** wrk Lua scripts for the two /live queries, users spread over the whole range as in {@link measureQueries}. */
async function writeQueryScripts(context: BenchContext, users: number): Promise<Record<QueryPath, string>> {
  const scripts = {
    leaderboard: join(context.root, "cmx-leaderboard.lua"),
    username_data: join(context.root, "cmx-username-data.lua"),
  };
  await writeGeneratedPostScript(scripts.leaderboard, JSON.stringify(leaderBody()), API_HEADERS);
  await writeGeneratedPostScript(
    scripts.username_data,
    `'{"username":"${BENCH_USERNAME_PREFIX}' .. ((i * ${USER_STRIDE}) % ${users}) .. '"}'`,
    API_HEADERS,
  );
  return scripts;
}

async function measureQueries(
  context: BenchContext,
  server: CmxTarget,
  options: CmxOptions,
  scripts: Record<QueryPath, string>,
): Promise<Measurement> {
  const query = async (path: string, body: (i: number) => string, count: number, ratePerS?: number) =>
    await timeRequests({
      url: `${server.url}/live/${path}`,
      headers: API_HEADERS,
      body,
      count,
      concurrency: options.queryConcurrency,
      ratePerS,
      caCert: context.caCert,
    });
  const userBody = (i: number) => JSON.stringify({ username: benchUsername((i * USER_STRIDE) % options.users) });
  await query("leaderboard", leaderBody, WARMUP_REQUESTS);
  await query("username_data", userBody, WARMUP_REQUESTS);
  const before = await server.child.usage();
  const leaderboard = await query("leaderboard", leaderBody, options.queries);
  const usernameData = await query("username_data", (i) => userBody(i + WARMUP_REQUESTS), options.queries);
  const paced = options.queryRate
    ? [
      await query("leaderboard", leaderBody, options.queries, options.queryRate),
      await query("username_data", (i) => userBody(i + WARMUP_REQUESTS), options.queries, options.queryRate),
    ]
    : [];
  // The same requests from wrk over HTTP/1.1 keep-alive: a client of C, not the harness's own fetch over HTTP/2.
  const wrk = (path: QueryPath) =>
    runWrk({
      url: `${server.url}/live/${path}`,
      connections: options.queryConcurrency,
      threads: 1,
      durationS: WRK_QUERY_SECONDS,
      script: scripts[path],
    });
  const wrkLeaderboard = await wrk("leaderboard");
  const wrkUsernameData = await wrk("username_data");
  const after = await server.child.usage();
  const reports = [leaderboard, usernameData, ...paced];
  // Latencies of failed requests say nothing about the queries.
  for (const report of reports) {
    if (report.failed > 0) [report.p50Ms, report.p99Ms, report.requestsPerS] = [NaN, NaN, NaN];
  }
  const wrkFailed = [wrkLeaderboard, wrkUsernameData].reduce((sum, run) => sum + run.non2xx + run.socketErrors, 0);
  const problems = reports
    .filter((report) => report.failed > 0)
    .map((report) => `${report.failed} failed requests, first: ${report.firstFailure}`);
  if (wrkFailed > 0) problems.push(`wrk: ${wrkFailed} non-2xx responses or socket errors`);
  return {
    metrics: {
      leaderboardP50Ms: leaderboard.p50Ms,
      leaderboardP99Ms: leaderboard.p99Ms,
      leaderboardPerS: leaderboard.requestsPerS,
      usernameDataP50Ms: usernameData.p50Ms,
      usernameDataP99Ms: usernameData.p99Ms,
      usernameDataPerS: usernameData.requestsPerS,
      pacedLeaderboardP99Ms: paced[0]?.p99Ms ?? NaN,
      pacedUsernameDataP99Ms: paced[1]?.p99Ms ?? NaN,
      wrkLeaderboardP99Ms: wrkFailed ? NaN : wrkLeaderboard.p99Ms,
      wrkUsernameDataP99Ms: wrkFailed ? NaN : wrkUsernameData.p99Ms,
      failed: reports.reduce((sum, report) => sum + report.failed, 0) + wrkFailed,
      peakRssMiB: after.peakRssMiB,
      serverCpuSeconds: after.cpuSeconds - before.cpuSeconds,
    },
    problems,
  };
}
