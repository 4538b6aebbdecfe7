/**
 * Meter fleet scenario: many devices, each sending one reading every few
 * seconds and waiting for the reply, as CC3220S meters do (bench/meter_client.ts
 * in paced mode). The offered load stays well below the socket's throughput,
 * so the acknowledgement latency is the service time, not a queue. Before
 * the readings start, every connection sits idle for a while and the server's
 * RSS is read: (RSS with the fleet idle − RSS before it connected) ÷ devices
 * is the memory per idle connection. fieldgate (SQLite, PostgreSQL) and the
 * ceiling (plain TLS echo) take the same fleet.
 */
import { measureContenders, type Measurement, ratiosAgainst } from "./lib/contenders.ts";
import type { BenchContext } from "./lib/context.ts";
import type { Backend } from "./lib/fieldgate.ts";
import { delay } from "./lib/process.ts";
import type { Column, Ratio, ScenarioResult } from "./lib/report.ts";
import { ScenarioTable, serverUsage } from "./lib/table.ts";
import {
  ACK_LATENCY_COLUMNS,
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
}

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
  const client = startMeterClient(context, target.port, [
    ...["--connections", String(devices), "--interval-ms", String(options.intervalMs)],
    ...["--idle-s", String(idleS), "--duration", String(durationS), "--grace", String(GRACE_S)],
  ]);
  const reportTimeoutS = connectAllowanceS(devices) + idleS + durationS + GRACE_S;
  let idle;
  let loadStart;
  try {
    await client.waitFor(connectedLine, connectAllowanceS(devices) * 1000);
    const connectedAt = performance.now();
    await delay(idleS * 500);
    idle = await target.child.usage();
    // The client starts sending idleS after it printed the line; CPU is counted from then.
    await delay(connectedAt + idleS * 1000 - performance.now());
    loadStart = { usage: await target.child.usage(), at: performance.now() };
  } catch (error) {
    await client.stop(0);
    throw error;
  }
  const report = await meterClientReport(client, reportTimeoutS);
  const wallS = (performance.now() - loadStart.at) / 1000;
  const clientWallS = (performance.now() - clientStartedAt) / 1000;
  const after = await target.child.usage();
  const rows = target.rows ? await target.rows() : NaN;
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
      // The client's CPU includes its handshakes, so it is spread over its whole life.
      clientCores: report.clientCpuSeconds / clientWallS,
    },
    problems: deliveryProblems(report, rows),
  };
}

/** The number of connections in the client's `{"connected":N}` line. */
function connectedLine(line: string): number | undefined {
  return line.startsWith('{"connected":') ? JSON.parse(line).connected : undefined;
}
