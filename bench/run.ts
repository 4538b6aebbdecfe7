/**
 * `deno task bench [--quick] [options]`: bounded load tests on loopback, each
 * comparing fieldgate with a peer measured in the same run. Writes
 * `bench/results/<YYYY-MM-DD>.json` and prints a Markdown table.
 * `--help` lists the options.
 */
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type BenchContext, createContext } from "./lib/context.ts";
import type { Backend } from "./lib/fieldgate.ts";
import { describePostgres } from "./lib/postgres.ts";
import { startProfiling, stopProfiling } from "./lib/profile.ts";
import {
  describeMachine,
  markdown,
  type ProfileTarget,
  type Report,
  type ScenarioResult,
  writeResults,
} from "./lib/report.ts";
import { cmxScenario } from "./cmx.ts";
import { meterScenario } from "./meter.ts";
import { FLEET_CLIENTS, meterFleetScenario } from "./meter_fleet.ts";
import { ottScenario } from "./ott.ts";
import { UPLOAD_CLIENTS, type UploadClient } from "./lib/tus_clients.ts";
import { tusScenario } from "./tus.ts";

const HELP = `Usage: deno task bench [options]

  --quick                 smoke run (< 2 minutes): 1 repetition, 3 s, 100 meter connections,
                          1,000 paced meter devices, CMX queries on 3,000 users and 100,000 history rows
  --only LIST             scenarios to run: ott,meter,meter-fleet,cmx,tus (default all but meter-fleet;
                          --quick: all)
  --backends LIST         fieldgate record stores: sqlite,postgres (default both)
  --repetitions N         repetitions of every measurement (default 3)
  --duration S            seconds of load per measurement (default 10)
  --loggers N             concurrent OTT loggers (default 64)
  --connections LIST      meter connection counts (default 100,1000)
  --window N              meter packets in flight per connection (default 16)
  --max-readings N        meter packets per measurement at most (default 8000000)
  --fleet-devices N       meter-fleet: connected devices (default 10000; --quick 1000)
  --fleet-interval-ms N   meter-fleet: milliseconds between one device's readings (default 2000)
  --fleet-duration S      meter-fleet: seconds of paced readings (default 30; --quick: --duration); each
                          device's first reading registers its pub, so short runs weigh that more
  --fleet-idle-s N        meter-fleet: seconds the fleet stays idle before sending, RSS read halfway (default 6;
                          --quick 2)
  --fleet-clients N       meter-fleet: client processes the devices are split over (default 4)
  --cmx-clients N         concurrent CMX notification posters (default 64)
  --cmx-batch N           notifications per CMX post (default 10)
  --cmx-users N           generated registered users for the CMX queries (default 30000; --quick 3000)
  --cmx-history N         generated distance_history rows (default 1000000; --quick 100000)
  --cmx-queries N         requests per /live endpoint and repetition (default 2000; --quick 500)
  --cmx-query-concurrency N   /live requests in flight (default 8)
  --cmx-query-rate N      then the same requests at N per second and endpoint, open loop (default 1000;
                          0 skips that part)
  --tus-size-mib N        tus upload size in MiB (default 1024; --quick 128)
  --tus-clients LIST      tus-js-client,curl,curl-http1.1 (default tus-js-client; --quick the first two): curl PATCH
                          negotiates HTTP/2 where offered, curl-http1.1 forces HTTP/1.1; curl PATCH at 1 GiB
                          costs about 60 s per repetition, which the 15-minute default run cannot afford
  --tus-10g               also upload 10 GiB (skipped, loudly, unless df shows 25 GiB free)
  --profile [SCENARIO]    after the run, one more fieldgate-only pass of SCENARIO (default: the one with the
                          lowest fieldgate ÷ peer ratio) under the V8 inspector; writes .cpuprofile and .txt
                          into --results-dir and prints the top 15 functions by self time
  --postgres-url URL      admin connection used to create and drop a database per run
                          (default $FIELDGATE_BENCH_POSTGRES_URL or postgres://postgres@127.0.0.1:5432/postgres)
  --results-dir DIR       where <date>.json goes (default bench/results)
`;

const SCENARIOS = ["ott", "meter", "meter-fleet", "cmx", "tus"];
// 10,000 paced devices take about 1.5 minutes per contender and repetition, too long for the 15-minute default run.
const DEFAULT_SCENARIOS = "ott,meter,cmx,tus";

// A bare `--profile` (last, or before another option) means "the slowest scenario".
const args = Deno.args.map((arg, i, all) =>
  arg === "--profile" && (i === all.length - 1 || all[i + 1].startsWith("--")) ? "--profile=auto" : arg
);
const { values } = parseArgs({
  args,
  options: {
    help: { type: "boolean", default: false },
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    backends: { type: "string", default: "sqlite,postgres" },
    repetitions: { type: "string" },
    duration: { type: "string" },
    loggers: { type: "string", default: "64" },
    connections: { type: "string" },
    window: { type: "string", default: "16" },
    "max-readings": { type: "string", default: "8000000" },
    "fleet-devices": { type: "string" },
    "fleet-interval-ms": { type: "string", default: "2000" },
    "fleet-idle-s": { type: "string" },
    "fleet-duration": { type: "string" },
    "fleet-clients": { type: "string", default: String(FLEET_CLIENTS) },
    "cmx-clients": { type: "string", default: "64" },
    "cmx-batch": { type: "string", default: "10" },
    "cmx-users": { type: "string" },
    "cmx-history": { type: "string" },
    "cmx-queries": { type: "string" },
    "cmx-query-concurrency": { type: "string", default: "8" },
    "cmx-query-rate": { type: "string", default: "1000" },
    "tus-size-mib": { type: "string" },
    "tus-10g": { type: "boolean", default: false },
    "tus-clients": { type: "string" },
    profile: { type: "string" },
    "postgres-url": {
      type: "string",
      default: Deno.env.get("FIELDGATE_BENCH_POSTGRES_URL") ?? "postgres://postgres@127.0.0.1:5432/postgres",
    },
    "results-dir": { type: "string", default: fileURLToPath(new URL("./results", import.meta.url)) },
  },
});
if (values.help) {
  console.log(HELP);
  Deno.exit(0);
}

const list = (text: string) => text.split(",").map((item) => item.trim()).filter(Boolean);
const integerAtLeast = (least: number, what: string) => (name: string, text: string) => {
  const value = Number(text);
  if (!Number.isInteger(value) || value < least) throw new Error(`--${name} must be ${what}, not "${text}"`);
  return value;
};
const positive = integerAtLeast(1, "a positive integer");
const nonNegative = integerAtLeast(0, "a whole number (0 or more)");
const scenarios = list(values.only ?? (values.quick ? SCENARIOS.join(",") : DEFAULT_SCENARIOS));
for (const scenario of scenarios) {
  if (!SCENARIOS.includes(scenario)) throw new Error(`unknown scenario "${scenario}"`);
}
const tusClients = list(values["tus-clients"] ?? (values.quick ? "tus-js-client,curl" : "tus-js-client")).map(
  (client) => {
    if (!UPLOAD_CLIENTS.includes(client as UploadClient)) throw new Error(`unknown tus client "${client}"`);
    return client as UploadClient;
  },
);
const profile = values.profile;
if (profile !== undefined && profile !== "auto" && !SCENARIOS.includes(profile)) {
  throw new Error(`--profile: unknown scenario "${profile}"`);
}
const backends = list(values.backends) as Backend[];
for (const backend of backends) {
  if (backend !== "sqlite" && backend !== "postgres") throw new Error(`unknown backend "${backend}"`);
}
const repetitions = positive("repetitions", values.repetitions ?? (values.quick ? "1" : "3"));
const durationS = positive("duration", values.duration ?? (values.quick ? "3" : "10"));
const connections = list(values.connections ?? (values.quick ? "100" : "100,1000")).map((n) =>
  positive("connections", n)
);

/** Runs scenario `name` with the command line's options, `runs` repetitions on `on` backends. */
async function runScenario(
  context: BenchContext,
  name: string,
  runs: number,
  on: Backend[],
): Promise<ScenarioResult[]> {
  const common = { durationS, repetitions: runs, backends: on };
  switch (name) {
    case "ott":
      return [await ottScenario(context, { ...common, loggers: positive("loggers", values.loggers) })];
    case "meter":
      return [
        await meterScenario(context, {
          ...common,
          connections,
          window: positive("window", values.window),
          maxReadings: positive("max-readings", values["max-readings"]),
        }),
      ];
    case "meter-fleet":
      return [
        await meterFleetScenario(context, {
          ...common,
          devices: positive("fleet-devices", values["fleet-devices"] ?? (values.quick ? "1000" : "10000")),
          intervalMs: positive("fleet-interval-ms", values["fleet-interval-ms"]),
          durationS: positive("fleet-duration", values["fleet-duration"] ?? (values.quick ? String(durationS) : "30")),
          idleS: positive("fleet-idle-s", values["fleet-idle-s"] ?? (values.quick ? "2" : "6")),
          clients: positive("fleet-clients", values["fleet-clients"]),
        }),
      ];
    case "cmx":
      return await cmxScenario(context, {
        ...common,
        clients: positive("cmx-clients", values["cmx-clients"]),
        batch: positive("cmx-batch", values["cmx-batch"]),
        users: positive("cmx-users", values["cmx-users"] ?? (values.quick ? "3000" : "30000")),
        historyRows: positive("cmx-history", values["cmx-history"] ?? (values.quick ? "100000" : "1000000")),
        queries: positive("cmx-queries", values["cmx-queries"] ?? (values.quick ? "500" : "2000")),
        queryConcurrency: positive("cmx-query-concurrency", values["cmx-query-concurrency"]),
        queryRate: nonNegative("cmx-query-rate", values["cmx-query-rate"]),
      });
    default:
      return [
        await tusScenario(context, {
          ...common,
          sizeMiB: positive("tus-size-mib", values["tus-size-mib"] ?? (values.quick ? "128" : "1024")),
          tenGiB: values["tus-10g"],
          clients: tusClients,
        }),
      ];
  }
}

/** The scenario and backend where fieldgate fell furthest below a peer: the lowest median fieldgate ÷ peer ratio. */
function slowest(measured: { scenario: string; result: ScenarioResult }[]): ProfileTarget {
  let lowest: (ProfileTarget & { median: number }) | null = null;
  for (const { scenario, result } of measured) {
    for (const ratio of result.ratios) {
      const backend = /^fieldgate (\w+) ÷/.exec(ratio.label)?.[1] as Backend | undefined;
      const median = ratio.value.median;
      if (!backend || !Number.isFinite(median) || (lowest && lowest.median <= median)) continue;
      const reason = `lowest fieldgate ÷ peer ratio of the run: ${ratio.label} = ${median.toFixed(2)}, ${ratio.setup}`;
      lowest = { scenario, backend, median, reason };
    }
  }
  if (!lowest) throw new Error("--profile: no fieldgate ÷ peer ratio was measured to choose the scenario from");
  return { scenario: lowest.scenario, backend: lowest.backend, reason: lowest.reason };
}

const context = await createContext(values["postgres-url"]);
try {
  const postgres = backends.includes("postgres") ? await describePostgres(context.postgresUrl) : undefined;
  const machine = await describeMachine(context.repoRoot, postgres);
  const measured: { scenario: string; result: ScenarioResult }[] = [];
  const failures: string[] = [];
  for (const scenario of scenarios) {
    try {
      for (const result of await runScenario(context, scenario, repetitions, backends)) {
        measured.push({ scenario, result });
      }
    } catch (error) {
      // One broken scenario must not throw away the others' minutes of measurement.
      console.error(`${scenario} failed:`, error);
      failures.push(`${scenario}: ${(error as Error).message.split("\n")[0]}`);
    }
  }
  const report: Report = {
    machine,
    command: ["deno task bench", ...Deno.args].join(" "),
    scenarios: measured.map(({ result }) => result),
    failures,
  };
  if (profile) {
    const target = profile === "auto"
      ? slowest(measured)
      : { scenario: profile, backend: backends[0], reason: `--profile ${profile}` };
    console.error(`profiling fieldgate ${target.backend} in ${target.scenario} (${target.reason})`);
    startProfiling({
      directory: values["results-dir"],
      name: `${machine.date.slice(0, 10)}-${target.scenario}-${target.backend}`,
    });
    try {
      await runScenario(context, target.scenario, 1, [target.backend]);
    } catch (error) {
      console.error("the profile pass failed:", error);
      failures.push(`profile pass of ${target.scenario}: ${(error as Error).message.split("\n")[0]}`);
    } finally {
      report.profile = { ...target, summaries: stopProfiling() };
    }
  }
  const path = await writeResults(values["results-dir"], report);
  console.log(markdown(report));
  console.error(`results written to ${path}`);
  if (failures.length > 0) Deno.exitCode = 1;
} finally {
  await context.cleanup();
}
