/**
 * OTT scenario: HTTPS keep-alive POSTs of an 8 KB senddata transmission from
 * many concurrent loggers (wrk), against fieldgate (SQLite and PostgreSQL),
 * the ceiling (bench/peers/ceiling_ott.ts) and what users run today (Flask
 * under gunicorn, bench/peers/flask_ott.py), in the same repetition.
 * Throughput counts durable files on disk, not responses.
 *
 * Every logger posting the fixture as it is sends the same station's same
 * values, which fieldgate's values table folds into one set of rows. So
 * fieldgate also runs with each post under a station never seen before,
 * every value a new row, as many distinct loggers sending new data would.
 */
import { join } from "node:path";
import {
  type Contender,
  fieldgateContenders,
  measureContenders,
  type Measurement,
  ratiosAgainst,
} from "./lib/contenders.ts";
import { basicAuthHeader, BENCH_USER, type BenchContext } from "./lib/context.ts";
import { ensureDebianPackages } from "./lib/debian.ts";
import { type Backend, startFieldgate } from "./lib/fieldgate.ts";
import { startDenoPeer } from "./lib/peer.ts";
import { type Child, delay, spawnChild, succeeds } from "./lib/process.ts";
import type { Column, ScenarioResult } from "./lib/report.ts";
import { HTTP_FAILED, latencyColumns, PEAK_RSS, ScenarioTable, SERVER_CORES, serverUsage } from "./lib/table.ts";
import { ensureWrk, postPreamble, runWrk, writePostScript } from "./lib/wrk.ts";

/** How hard and how long to push. */
export interface OttOptions {
  durationS: number;
  loggers: number;
  repetitions: number;
  backends: Backend[];
}

/** A server ready for load: where to POST, what wrk sends, where its files land, how to count its rows. */
interface OttTarget {
  url: string;
  /** The wrk script: the fixture as it is, or under a new station each post. */
  script: string;
  filesDir: string;
  child: Child;
  /** Rows the server recorded (transmissions); absent for peers without a database. */
  rows?: () => Promise<number>;
  stop(): Promise<void>;
}

const STATION_ID = "0000452891";
/** The server name of fieldgate's rows whose posts each come from a new station. */
const NEW_STATIONS = "fieldgate, new station each post";
const BODY_BYTES = 8192;
const FIXTURE = new URL("../../shared/fixtures/ott-senddata.xml", import.meta.url);
const START_TIMEOUT_MS = 30_000;

const COLUMNS: Column[] = [
  { key: "postsPerS", label: "durable posts/s", digits: 0 },
  ...latencyColumns(1),
  { key: "files", label: "files", digits: 0 },
  { key: "rows", label: "rows", digits: 0 },
  HTTP_FAILED,
  SERVER_CORES,
  PEAK_RSS,
];

/** Runs the OTT scenario; every repetition measures every contender once, one after the other. */
export async function ottScenario(context: BenchContext, options: OttOptions): Promise<ScenarioResult> {
  await ensureWrk();
  await ensureDebianPackages(
    ["gunicorn", "python3-flask"],
    async () =>
      await succeeds("sh", ["-c", "command -v gunicorn"]) && await succeeds("/usr/bin/python3", ["-c", "import flask"]),
  );
  const bodyFile = join(context.root, "ott-senddata-8k.xml");
  await Deno.writeFile(bodyFile, await eightKilobyteBody());
  const headers = { "Content-Type": "application/xml", "Authorization": basicAuthHeader() };
  const script = join(context.root, "ott-post.lua");
  await writePostScript(script, bodyFile, headers);
  const newStationScript = join(context.root, "ott-post-new-station.lua");
  await writeNewStationScript(newStationScript, bodyFile, headers);

  const contenders: Contender<OttTarget>[] = [
    ...fieldgateContenders(options.backends, (backend) => fieldgateTarget(context, backend, script)),
    ...options.backends.map((backend) => ({
      server: NEW_STATIONS,
      backend,
      start: () => fieldgateTarget(context, backend, newStationScript),
    })),
    { server: "ceiling: Deno.serve + file", backend: "-", start: () => ceilingTarget(context, script) },
    { server: "Flask + gunicorn (sync)", backend: "-", start: () => flaskTarget(context, script) },
  ];
  const setup = `${options.loggers} loggers, ${options.durationS} s`;
  const measured = await measureContenders(
    { scenario: "ott", setup, repetitions: options.repetitions, contenders },
    (target) => measure(target, options),
  );
  const [ceiling, flask] = measured.rows.slice(-2); // the peers come last, as listed above
  return new ScenarioTable("OTT: durable HTTPS posts of an 8 KB transmission", COLUMNS).add(measured, [
    ...ratiosAgainst(measured.rows, flask, "Flask", "postsPerS", "≥ 10"),
    ...ratiosAgainst(measured.rows, ceiling, "ceiling", "postsPerS"),
    ...ratiosAgainst(measured.rows, flask, "Flask", "postsPerS", "", NEW_STATIONS),
  ]).result;
}

/** One wrk run against a started target, then the durable count once the server has settled. */
async function measure(target: OttTarget, options: OttOptions): Promise<Measurement> {
  const before = await target.child.usage();
  const wrk = await runWrk({
    url: `${target.url}/ottt?stationid=${STATION_ID}&action=senddata`,
    connections: options.loggers,
    threads: 2,
    durationS: options.durationS,
    script: target.script,
  });
  const after = await target.child.usage();
  const files = await settledFileCount(target.filesDir);
  const rows = target.rows ? await target.rows() : NaN;
  const acknowledged = wrk.requests - wrk.non2xx;
  const failed = wrk.non2xx + wrk.socketErrors;
  const problems: string[] = [];
  if (failed > 0) problems.push(`${failed} non-2xx responses or socket errors`);
  if (!Number.isNaN(rows) && rows !== files) problems.push(`${files} files on disk but ${rows} transmissions recorded`);
  if (files < acknowledged) problems.push(`${acknowledged} acknowledged but only ${files} files on disk`);
  return {
    metrics: {
      postsPerS: files / wrk.durationS,
      p50Ms: wrk.p50Ms,
      p99Ms: wrk.p99Ms,
      acknowledged,
      files,
      rows,
      failed,
      ...serverUsage(before, after, wrk.durationS),
    },
    problems,
  };
}

async function fieldgateTarget(context: BenchContext, backend: Backend, script: string): Promise<OttTarget> {
  const server = await startFieldgate(context, { backend, meter: false });
  return {
    url: server.url,
    script,
    filesDir: join(server.dataDir, "ott", "senddata"),
    child: server.child,
    rows: async () => {
      const status = await server.getJson<{ stations: { transmissions: number }[] }>("/server-status?format=json");
      return status.stations.reduce((sum, station) => sum + station.transmissions, 0);
    },
    async stop() {
      try {
        await setFilesAside(context, join(server.dataDir, "ott"));
      } finally {
        await server.stop();
      }
    },
  };
}

async function ceilingTarget(context: BenchContext, script: string): Promise<OttTarget> {
  const dataDir = await context.newDir("ceiling-ott-");
  const peer = await startDenoPeer(context, "ceiling_ott.ts", ["--data-dir", dataDir]);
  return peerTarget(`https://127.0.0.1:${peer.port}`, script, dataDir, peer.child, context);
}

async function flaskTarget(context: BenchContext, script: string): Promise<OttTarget> {
  const dataDir = await context.newDir("flask-ott-");
  const workers = 2 * navigator.hardwareConcurrency + 1;
  const child = spawnChild({
    command: "gunicorn",
    args: [
      ...["--chdir", join(context.repoRoot, "bench/peers"), "--workers", String(workers), "--worker-class", "sync"],
      ...["--bind", "127.0.0.1:0", "--certfile", context.certFile, "--keyfile", context.keyFile, "flask_ott:app"],
    ],
    env: { BENCH_DATA_DIR: dataDir, BENCH_USER: BENCH_USER.name, BENCH_PASSWORD: BENCH_USER.password },
    logFile: `${dataDir}.log`,
  });
  try {
    const port = await child.waitFor(
      (line) => /Listening at: https:\/\/[\d.]+:(\d+)/.exec(line)?.[1],
      START_TIMEOUT_MS,
    );
    await child.waitFor((line) => line.includes("Booting worker") || undefined, START_TIMEOUT_MS);
    return peerTarget(`https://127.0.0.1:${port}`, script, dataDir, child, context);
  } catch (error) {
    await child.stop();
    throw error;
  }
}

function peerTarget(url: string, script: string, dataDir: string, child: Child, context: BenchContext): OttTarget {
  return {
    url,
    script,
    filesDir: join(dataDir, "senddata"),
    child,
    async stop() {
      await child.stop();
      await setFilesAside(context, dataDir);
    },
  };
}

/**
 * Moves a contender's stored files out of the way instead of deleting them; the run's cleanup
 * removes them. On ext4 without a journal (this machine's disk), every inode deleted in the
 * last 5–40 s makes each new file's inode allocation skip it (`recently_deleted`), so deleting
 * tens of thousands of files between contenders slowed whichever contender ran next.
 */
async function setFilesAside(context: BenchContext, directory: string): Promise<void> {
  try {
    await Deno.rename(directory, join(context.root, `spent-${crypto.randomUUID()}`));
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

/** Counts the stored files (not hidden temp files) once the count stops changing; in-flight posts finish first. */
async function settledFileCount(directory: string): Promise<number> {
  let previous = -1;
  for (let attempt = 0; attempt < 50; attempt++) {
    const count = await countFiles(directory);
    if (count === previous) return count;
    previous = count;
    await delay(200);
  }
  return previous;
}

async function countFiles(directory: string): Promise<number> {
  let count = 0;
  try {
    for await (const entry of Deno.readDir(directory)) {
      if (entry.isDirectory) count += await countFiles(join(directory, entry.name));
      else if (entry.isFile && !entry.name.startsWith(".")) count++;
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return count;
}

/**
 * Writes a wrk script that POSTs the body in `bodyFile` with its station id, in the query and the body,
 * replaced by one no post has used: wrk thread number and request count, ten digits like the fixture's.
 */
async function writeNewStationScript(path: string, bodyFile: string, headers: Record<string, string>): Promise<void> {
  const lines = [
    ...postPreamble(headers),
    `local file = assert(io.open(${JSON.stringify(bodyFile)}, "rb"))`,
    'local template = file:read("*a")',
    "file:close()",
    "local threads = 0",
    'function setup(thread) threads = threads + 1; thread:set("thread_number", threads) end',
    "local i = 0",
    "function request()",
    "  i = i + 1",
    '  local station = string.format("%03d%07d", thread_number, i)',
    `  local body = string.gsub(template, "${STATION_ID}", station)`,
    '  return wrk.format(nil, "/ottt?stationid=" .. station .. "&action=senddata", nil, body)',
    "end",
  ];
  await Deno.writeTextFile(path, lines.join("\n") + "\n");
}

/**
 * The fixture (iso-8859-1, byte for byte) grown to 8 KB: more `VT` values in its first
 * channel, 15 minutes apart, inserted before the first `</Values>`.
 */
async function eightKilobyteBody(): Promise<Uint8Array> {
  const fixture = await Deno.readFile(FIXTURE);
  // One byte per character, so a string index is a byte index.
  const at = new TextDecoder("latin1").decode(fixture).indexOf("      </Values>");
  if (at < 0) throw new Error(`${FIXTURE.pathname} has no </Values>`);
  const lines: string[] = [];
  const start = Date.parse("2024-03-05T10:45:00Z");
  for (let i = 0, size = fixture.length; size < BODY_BYTES; i++) {
    const t = new Date(start + i * 900_000).toISOString().slice(0, 19);
    const line = `        <VT t="${t}">${(0.85 + (i % 50) / 1000).toFixed(3)}</VT>\n`;
    lines.push(line);
    size += line.length;
  }
  const extra = new TextEncoder().encode(lines.join(""));
  const body = new Uint8Array(fixture.length + extra.length);
  body.set(fixture.subarray(0, at));
  body.set(extra, at);
  body.set(fixture.subarray(at), at + extra.length);
  return body;
}
