/**
 * Meter fleet scenario: many devices, each sending one reading every few
 * seconds and waiting for the reply, as CC3220S meters do (bench/meter_client.ts
 * in paced mode). The offered load stays well below the socket's throughput,
 * so the acknowledgement latency is the service time, not a queue. Before
 * the readings start, every connection sits idle for a while and the server's
 * RSS is read: (RSS with the fleet idle − RSS before it connected) ÷ devices
 * is the memory per idle connection. fieldgate (SQLite, PostgreSQL) and the
 * ceiling (plain TLS echo) take the same fleet. The fleet is split over
 * several client processes that start sending together; their latencies are
 * merged into one distribution.
 */
import { join } from "node:path";
import { measureContenders, type Measurement, ratiosAgainst } from "./lib/contenders.ts";
import type { BenchContext } from "./lib/context.ts";
import type { Backend } from "./lib/fieldgate.ts";
import { delay } from "./lib/process.ts";
import type { Column, Ratio, ScenarioResult } from "./lib/report.ts";
import { percentile } from "./lib/stats.ts";
import { ScenarioTable, serverUsage } from "./lib/table.ts";
import {
  ACK_LATENCY_COLUMNS,
  type ClientReport,
  connectAllowanceS,
  DELIVERY_COLUMNS,
  deliveryProblems,
  GRACE_S,
  meterClientReport,
  meterContenders,
  type MeterTarget,
  startMeterClient,
  USAGE_COLUMNS,
} from "./meter.ts";

/** How big the fleet is, how often each device reports, and for how long. */
export interface FleetOptions {
  devices: number;
  /** Milliseconds between one device's readings. */
  intervalMs: number;
  /** Seconds every connection stays idle before the readings start; RSS is read halfway through. */
  idleS: number;
  durationS: number;
  repetitions: number;
  backends: Backend[];
  /** Client processes the fleet is split over, each with its share of the devices. */
  clients: number;
}

/**
 * Client processes by default. One JavaScript thread holding 10,000 TLS connections stalls for its own
 * garbage collection and work, and every reply that arrives meanwhile is timed late: with one client most
 * acknowledgements over 20 ms overlapped such a stall of the client's. With four processes of 2,500 devices
 * the echo's p99 fell from 35 to 12–15 ms (median of 3–6 runs of 20 s on 2 cores, 2026-11-24).
 */
export const FLEET_CLIENTS = 4;
const FIRST_DEVICE_ID = 100_000;

const KIB_PER_MIB = 1024;

const COLUMNS: Column[] = [
  { key: "offeredPerS", label: "offered readings/s", digits: 0 },
  { key: "readingsPerS", label: "acked readings/s", digits: 0 },
  ...ACK_LATENCY_COLUMNS,
  { key: "steadyP50Ms", label: "after 1st interval p50 ms", digits: 2 },
  { key: "steadyP99Ms", label: "after 1st interval p99 ms", digits: 2 },
  ...DELIVERY_COLUMNS,
  { key: "rssBeforeMiB", label: "RSS before MiB", digits: 0 },
  { key: "rssIdleMiB", label: "RSS idle fleet MiB", digits: 0 },
  { key: "kibPerConnection", label: "KiB per idle connection", digits: 1 },
  ...USAGE_COLUMNS,
];

/** Runs the fleet against fieldgate on every backend and the ceiling, `repetitions` times. */
export async function meterFleetScenario(context: BenchContext, options: FleetOptions): Promise<ScenarioResult> {
  const setup = `${options.devices} devices × 1 reading / ${options.intervalMs} ms, ${options.durationS} s`;
  const measured = await measureContenders(
    {
      scenario: "meter-fleet",
      setup,
      repetitions: options.repetitions,
      contenders: meterContenders(context, options.backends),
    },
    (target) => measureFleet(target, context, options),
  );
  const ceiling = measured.rows.at(-1)!;
  const named = (key: string, what: string): Ratio[] =>
    ratiosAgainst(measured.rows, ceiling, "ceiling", key).map((ratio) => ({
      ...ratio,
      label: `${ratio.label}, ${what}`,
    }));
  return new ScenarioTable("Meter fleet: paced devices over TLS, idle memory", COLUMNS)
    .add(measured, [
      ...named("p99Ms", "p99"),
      ...named("kibPerConnection", "KiB per idle connection"),
    ])
    .note(
      "Target (issue 4): p99 acknowledgement < 20 ms at 10,000 connected devices; the ratios above are " +
        "fieldgate ÷ ceiling, so lower is better for both.",
    )
    .result;
}

async function measureFleet(target: MeterTarget, context: BenchContext, options: FleetOptions): Promise<Measurement> {
  const { devices, idleS, durationS } = options;
  const before = await target.child.usage();
  const clientStartedAt = performance.now();
  const samplesDir = await context.newDir("meter-fleet-samples-");
  const clients = splitFleet(devices, options.clients).map((share, index) =>
    startMeterClient(context, target.port, [
      ...["--connections", String(share.devices), "--first-id", String(share.firstId)],
      ...["--interval-ms", String(options.intervalMs), "--idle-s", String(idleS), "--duration", String(durationS)],
      ...["--grace", String(GRACE_S), "--wait-start", "--samples-file", join(samplesDir, `${index}.f32`)],
    ])
  );
  const reportTimeoutS = connectAllowanceS(devices) + idleS + durationS + GRACE_S;
  let idle;
  let loadStart;
  try {
    await Promise.all(clients.map((client) => client.waitFor(connectedLine, connectAllowanceS(devices) * 1000)));
    // Every client idles idleS from this signal, so the whole fleet starts sending at the same time.
    for (const client of clients) Deno.kill(client.pid, "SIGUSR1");
    const connectedAt = performance.now();
    await delay(idleS * 500);
    idle = await target.child.usage();
    // The clients start sending idleS after the signal; CPU is counted from then.
    await delay(connectedAt + idleS * 1000 - performance.now());
    loadStart = { usage: await target.child.usage(), at: performance.now() };
  } catch (error) {
    await Promise.all(clients.map((client) => client.stop(0)));
    throw error;
  }
  const reports = await Promise.all(clients.map((client) => meterClientReport(client, reportTimeoutS)));
  const wallS = (performance.now() - loadStart.at) / 1000;
  const clientWallS = (performance.now() - clientStartedAt) / 1000;
  const after = await target.child.usage();
  const rows = target.rows ? await target.rows() : NaN;
  const report = await mergeReports(reports as FleetClientReport[], clients.length, samplesDir, options.intervalMs);
  return {
    metrics: {
      offeredPerS: report.offeredPerS,
      readingsPerS: report.readingsPerS,
      p50Ms: report.p50Ms,
      p99Ms: report.p99Ms,
      p999Ms: report.p999Ms,
      steadyP50Ms: report.steadyP50Ms,
      steadyP99Ms: report.steadyP99Ms,
      acked: report.acked,
      rows,
      failed: report.errors + report.failedConnections,
      connectS: report.connectS,
      rssBeforeMiB: before.rssMiB,
      rssIdleMiB: idle.rssMiB,
      kibPerConnection: (idle.rssMiB - before.rssMiB) * KIB_PER_MIB / devices,
      ...serverUsage(loadStart.usage, after, wallS),
      // The clients' CPU includes their handshakes, so it is spread over their whole life.
      clientCores: report.clientCpuSeconds / clientWallS,
      clients: clients.length,
      clientLagP99Ms: report.lagP99Ms,
      clientLagMaxMs: report.lagMaxMs,
    },
    problems: deliveryProblems(report, rows),
  };
}

/** A client's report in paced mode: with its own event-loop lag while sending. */
interface FleetClientReport extends ClientReport {
  lagP99Ms: number;
  lagMaxMs: number;
}

/** `devices` split into `clients` shares as even as possible, each with its own range of device ids. */
function splitFleet(devices: number, clients: number): { devices: number; firstId: number }[] {
  const shares = [];
  for (let index = 0, firstId = FIRST_DEVICE_ID; index < Math.min(clients, devices); index++) {
    const share = Math.floor(devices / clients) + (index < devices % clients ? 1 : 0);
    shares.push({ devices: share, firstId });
    firstId += share;
  }
  return shares;
}

/**
 * One report for the whole fleet: counts and CPU summed, the slowest client's connect time and lag, and the
 * latency percentiles of every client's samples together (the files `--samples-file` wrote).
 */
async function mergeReports(
  reports: FleetClientReport[],
  clients: number,
  samplesDir: string,
  intervalMs: number,
): Promise<FleetClientReport> {
  const all: number[] = [];
  const steady: number[] = [];
  for (let index = 0; index < clients; index++) {
    const bytes = await Deno.readFile(join(samplesDir, `${index}.f32`));
    const samples = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / Float32Array.BYTES_PER_ELEMENT);
    const acked = samples.length / 2;
    for (let i = 0; i < acked; i++) {
      all.push(samples[i]);
      if (samples[acked + i] >= intervalMs) steady.push(samples[i]);
    }
  }
  all.sort((a, b) => a - b);
  steady.sort((a, b) => a - b);
  const sum = (key: keyof FleetClientReport) => reports.reduce((total, report) => total + Number(report[key]), 0);
  const max = (key: keyof FleetClientReport) => Math.max(...reports.map((report) => Number(report[key])));
  return {
    connectS: max("connectS"),
    elapsedS: max("elapsedS"),
    sent: sum("sent"),
    acked: sum("acked"),
    errors: sum("errors"),
    firstError: reports.find((report) => report.firstError)?.firstError ?? "",
    failedConnections: sum("failedConnections"),
    firstFailure: reports.find((report) => report.firstFailure)?.firstFailure ?? "",
    readingsPerS: sum("readingsPerS"),
    clientCpuSeconds: sum("clientCpuSeconds"),
    offeredPerS: sum("offeredPerS"),
    p50Ms: percentile(all, 0.5),
    p99Ms: percentile(all, 0.99),
    p999Ms: percentile(all, 0.999),
    steadyP50Ms: percentile(steady, 0.5),
    steadyP99Ms: percentile(steady, 0.99),
    lagP99Ms: max("lagP99Ms"),
    lagMaxMs: max("lagMaxMs"),
  };
}

/** The number of connections in the client's `{"connected":N}` line. */
function connectedLine(line: string): number | undefined {
  return line.startsWith('{"connected":') ? JSON.parse(line).connected : undefined;
}
