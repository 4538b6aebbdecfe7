/**
 * Meter scenario: N TLS connections sending NDJSON readings with a window of
 * packets in flight (bench/meter_client.ts, its own process), against
 * fieldgate's meter socket (SQLite and PostgreSQL) and the ceiling, a plain
 * Deno TLS server that answers without storing (bench/peers/ceiling_meter.ts).
 * After each fieldgate run the rows are counted and compared with the acks.
 */
import { join } from "node:path";
import {
  type Contender,
  fieldgateContenders,
  measureContenders,
  type Measurement,
  ratiosAgainst,
} from "./lib/contenders.ts";
import type { BenchContext } from "./lib/context.ts";
import { type Backend, startFieldgate } from "./lib/fieldgate.ts";
import { startDenoPeer } from "./lib/peer.ts";
import { type Child, spawnChild } from "./lib/process.ts";
import type { Column, ScenarioResult } from "./lib/report.ts";
import { PEAK_RSS, ScenarioTable, SERVER_CORES, serverUsage } from "./lib/table.ts";
import { FLOOR_BATCH, floorContenders } from "./floor.ts";

/** How many devices, how hard and how long. */
export interface MeterOptions {
  durationS: number;
  /** One measurement per entry, e.g. [100, 1000]. */
  connections: number[];
  /** Packets in flight per connection. */
  window: number;
  maxReadings: number;
  repetitions: number;
  backends: Backend[];
}

/** A server ready for devices: its meter port and how to count what it stored. */
export interface MeterTarget {
  port: number;
  child: Child;
  /** Readings the server stored; absent for the ceiling, which stores nothing. */
  rows?: () => Promise<number>;
  stop(): Promise<void>;
}

/** What bench/meter_client.ts prints last. */
export interface ClientReport {
  connectS: number;
  elapsedS: number;
  sent: number;
  acked: number;
  errors: number;
  firstError: string;
  failedConnections: number;
  firstFailure: string;
  readingsPerS: number;
  clientCpuSeconds: number;
  /** Paced mode: connections × 1000 ÷ interval. */
  offeredPerS: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  /** Paced mode: readings sent after the first interval, when every device has sent its first. */
  steadyP50Ms: number;
  steadyP99Ms: number;
}

/** Seconds the client waits for replies after sending stops, before counting them missing. */
export const GRACE_S = 30;
// Connecting 1,000+ TLS clients takes a while on 2 cores; the client must still stop by itself.
const CLIENT_TIMEOUT_EXTRA_S = 120;
const CONNECT_ALLOWANCE_MS_PER_CONNECTION = 15;
/** How long `connections` TLS handshakes may take, beyond load and grace, before the client is stopped. */
export const connectAllowanceS = (connections: number) =>
  CLIENT_TIMEOUT_EXTRA_S + Math.ceil(connections * CONNECT_ALLOWANCE_MS_PER_CONNECTION / 1000);
/** A pessimistic drain rate for the readings still in flight when sending stops. */
const DRAIN_READINGS_PER_S = 5_000;

/** Acknowledgement latency columns of a meter client report, shared with the fleet scenario. */
export const ACK_LATENCY_COLUMNS: Column[] = [
  { key: "p50Ms", label: "p50 ms", digits: 2 },
  { key: "p99Ms", label: "p99 ms", digits: 2 },
  { key: "p999Ms", label: "p99.9 ms", digits: 2 },
];

/** Delivery columns of a meter client report (what was acknowledged, stored and failed), shared with the fleet. */
export const DELIVERY_COLUMNS: Column[] = [
  { key: "acked", label: "acked", digits: 0 },
  { key: "rows", label: "rows", digits: 0 },
  { key: "failed", label: "errors", digits: 0 },
  { key: "connectS", label: "connect s", digits: 1 },
];

/** Process usage columns closing both meter tables. */
export const USAGE_COLUMNS: Column[] = [
  SERVER_CORES,
  { key: "clientCores", label: "client CPU cores", digits: 2 },
  PEAK_RSS,
];

const COLUMNS: Column[] = [
  { key: "readingsPerS", label: "acked readings/s", digits: 0 },
  ...ACK_LATENCY_COLUMNS,
  ...DELIVERY_COLUMNS,
  ...USAGE_COLUMNS,
];

/** Runs the meter scenario for every connection count; each repetition measures every contender once. */
export async function meterScenario(context: BenchContext, options: MeterOptions): Promise<ScenarioResult> {
  const contenders = meterContenders(context, options.backends);
  const table = new ScenarioTable("Meter socket: durable readings over TLS", COLUMNS);
  for (const connections of options.connections) {
    const setup = `${connections} conn × ${options.window} in flight, ${options.durationS} s`;
    const measured = await measureContenders(
      { scenario: "meter", setup, repetitions: options.repetitions, contenders },
      (target) => measure(context, target, connections, options),
    );
    table.add(measured, ratiosAgainst(measured.rows, measured.rows.at(-1)!, "ceiling", "readingsPerS"));
  }
  await addFloor(context, options, table);
  return table.result;
}

/** fieldgate's meter socket on each backend, then the ceiling (last, so ratios can take `rows.at(-1)`). */
export function meterContenders(context: BenchContext, backends: Backend[]): Contender<MeterTarget>[] {
  return [
    ...fieldgateContenders(backends, (backend) => fieldgateTarget(context, backend)),
    { server: "ceiling: Deno TLS, no storage", backend: "-", start: () => ceilingTarget(context) },
  ];
}

/**
 * Measures the database floor once per repetition (bench/floor.ts) and adds its rows and
 * fieldgate ÷ floor for every fieldgate row of the same backend, repetition i against repetition i.
 */
async function addFloor(context: BenchContext, options: MeterOptions, table: ScenarioTable): Promise<void> {
  const setup = `${FLOOR_BATCH} readings/transaction, 1 writer, ${options.durationS} s`;
  const floor = await measureContenders(
    {
      scenario: "meter floor",
      setup,
      repetitions: options.repetitions,
      contenders: floorContenders(context, options.backends),
    },
    (target) => target.insert(options.durationS),
  );
  table.add(
    floor,
    floor.rows.flatMap((floorRow) =>
      ratiosAgainst(
        table.result.rows.filter((row) => row.backend === floorRow.backend),
        floorRow,
        `${floorRow.backend} floor`,
        "readingsPerS",
      )
    ),
  );
}

async function measure(
  context: BenchContext,
  target: MeterTarget,
  connections: number,
  options: MeterOptions,
): Promise<Measurement> {
  const before = await target.child.usage();
  const startedAt = performance.now();
  const report = await runClient(context, target.port, connections, options);
  const wallS = (performance.now() - startedAt) / 1000;
  const after = await target.child.usage();
  const rows = target.rows ? await target.rows() : NaN;
  const problems = deliveryProblems(report, rows);
  return {
    metrics: {
      readingsPerS: report.readingsPerS,
      p50Ms: report.p50Ms,
      p99Ms: report.p99Ms,
      p999Ms: report.p999Ms,
      acked: report.acked,
      rows,
      failed: report.errors + report.failedConnections,
      connectS: report.connectS,
      ...serverUsage(before, after, wallS),
      clientCores: report.clientCpuSeconds / wallS,
    },
    problems,
  };
}

/** Error replies, failed connections, and stored rows that differ from the acknowledged readings. */
export function deliveryProblems(report: ClientReport, rows: number): string[] {
  const problems: string[] = [];
  if (report.errors > 0) problems.push(`${report.errors} error replies, first: ${report.firstError}`);
  if (report.failedConnections > 0) {
    problems.push(`${report.failedConnections} connections failed, first: ${report.firstFailure}`);
  }
  if (rows < report.acked) problems.push(`only ${rows} rows stored for ${report.acked} acknowledged readings`);
  if (rows > report.acked) problems.push(`${rows} rows stored, ${report.acked} acknowledged (replies not awaited)`);
  return problems;
}

/** Runs bench/meter_client.ts (window mode) to completion (bounded) and parses its JSON report. */
function runClient(
  context: BenchContext,
  port: number,
  connections: number,
  options: MeterOptions,
): Promise<ClientReport> {
  // 10,000 connections × 16 in flight is 160,000 readings queued when sending stops: give them time to drain,
  // and the TLS handshakes time to finish (about 60 s for 10,000 on 2 shared cores).
  const grace = GRACE_S + Math.ceil((connections * options.window) / DRAIN_READINGS_PER_S);
  const client = startMeterClient(context, port, [
    ...["--connections", String(connections), "--window", String(options.window)],
    ...["--duration", String(options.durationS), "--max-readings", String(options.maxReadings)],
    ...["--grace", String(grace)],
  ]);
  return meterClientReport(client, options.durationS + grace + connectAllowanceS(connections));
}

/** Starts bench/meter_client.ts against `port` (verifying the bench certificate) with `args`. */
export function startMeterClient(context: BenchContext, port: number, args: string[]): Child {
  return spawnChild({
    command: context.deno,
    args: [
      ...["run", "-A", join(context.repoRoot, "bench", "meter_client.ts"), "--port", String(port)],
      ...["--ca-file", context.certFile, ...args],
    ],
    logFile: join(context.root, `meter-client-${crypto.randomUUID().slice(0, 8)}.log`),
  });
}

/** Waits for the client to finish (killing it after `timeoutS`) and parses its last line, the JSON report. */
export async function meterClientReport(client: Child, timeoutS: number): Promise<ClientReport> {
  const timer = setTimeout(() => client.stop(0), timeoutS * 1000);
  const status = await client.status;
  clearTimeout(timer);
  const lastLine = (await client.log()).trimEnd().split("\n").at(-1) ?? "";
  // A client stopped after connecting ends with its `{"connected":N}` line, which is not a report.
  if (!status.success || !lastLine.startsWith('{"connections"')) {
    throw new Error(`meter client failed (code ${status.code}); log ${client.logFile}:\n${lastLine}`);
  }
  return JSON.parse(lastLine) as ClientReport;
}

async function fieldgateTarget(context: BenchContext, backend: Backend): Promise<MeterTarget> {
  const server = await startFieldgate(context, { backend, meter: true });
  return {
    port: server.meterPort!,
    child: server.child,
    rows: async () => {
      const meters = await server.getJson<{ readings: number }[]>("/api/meters");
      return meters.reduce((sum, meter) => sum + meter.readings, 0);
    },
    stop: server.stop,
  };
}

async function ceilingTarget(context: BenchContext): Promise<MeterTarget> {
  const peer = await startDenoPeer(context, "ceiling_meter.ts");
  return { port: peer.port, child: peer.child, stop: () => peer.child.stop().then(() => {}) };
}
