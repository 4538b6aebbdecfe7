/**
 * `deno task bench [--quick] [options]`: bounded load tests on loopback, each
 * comparing fieldgate with a peer measured in the same run. Writes
 * `bench/results/<YYYY-MM-DD>.json` and prints a Markdown table.
 * `--help` lists the options.
 */
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createContext } from "./lib/context.ts";
import type { Backend } from "./lib/fieldgate.ts";
import { describePostgres } from "./lib/postgres.ts";
import { describeMachine, markdown, type ScenarioResult, writeResults } from "./lib/report.ts";
import { cmxScenario } from "./cmx.ts";
import { meterScenario } from "./meter.ts";
import { ottScenario } from "./ott.ts";

const HELP = `Usage: deno task bench [options]

  --quick                 smoke run (< 2 minutes): 1 repetition, 3 s, 100 meter connections,
                          CMX queries on 3,000 users and 100,000 history rows
  --only LIST             scenarios to run: ott,meter,cmx (default all)
  --backends LIST         fieldgate record stores: sqlite,postgres (default both)
  --repetitions N         repetitions of every measurement (default 3)
  --duration S            seconds of load per measurement (default 10)
  --loggers N             concurrent OTT loggers (default 64)
  --connections LIST      meter connection counts (default 100,1000)
  --window N              meter packets in flight per connection (default 16)
  --max-readings N        meter packets per measurement at most (default 8000000)
  --cmx-clients N         concurrent CMX notification posters (default 64)
  --cmx-batch N           notifications per CMX post (default 10)
  --cmx-users N           generated registered users for the CMX queries (default 30000; --quick 3000)
  --cmx-history N         generated distance_history rows (default 1000000; --quick 100000)
  --cmx-queries N         requests per /live endpoint and repetition (default 2000; --quick 500)
  --cmx-query-concurrency N   /live requests in flight (default 8)
  --postgres-url URL      admin connection used to create and drop a database per run
                          (default $FIELDGATE_BENCH_POSTGRES_URL or postgres://postgres@127.0.0.1:5432/postgres)
  --results-dir DIR       where <date>.json goes (default bench/results)
`;

const { values } = parseArgs({
  options: {
    help: { type: "boolean", default: false },
    quick: { type: "boolean", default: false },
    only: { type: "string", default: "ott,meter,cmx" },
    backends: { type: "string", default: "sqlite,postgres" },
    repetitions: { type: "string" },
    duration: { type: "string" },
    loggers: { type: "string", default: "64" },
    connections: { type: "string" },
    window: { type: "string", default: "16" },
    "max-readings": { type: "string", default: "8000000" },
    "cmx-clients": { type: "string", default: "64" },
    "cmx-batch": { type: "string", default: "10" },
    "cmx-users": { type: "string" },
    "cmx-history": { type: "string" },
    "cmx-queries": { type: "string" },
    "cmx-query-concurrency": { type: "string", default: "8" },
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
const positive = (name: string, text: string) => {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer, not "${text}"`);
  return value;
};
const scenarios = list(values.only);
for (const scenario of scenarios) {
  if (!["ott", "meter", "cmx"].includes(scenario)) throw new Error(`unknown scenario "${scenario}"`);
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

const context = await createContext(values["postgres-url"]);
const results: ScenarioResult[] = [];
try {
  const postgres = backends.includes("postgres") ? await describePostgres(context.postgresUrl) : undefined;
  const machine = await describeMachine(context.repoRoot, postgres);
  if (scenarios.includes("ott")) {
    results.push(
      await ottScenario(context, {
        durationS,
        loggers: positive("loggers", values.loggers),
        repetitions,
        backends,
      }),
    );
  }
  if (scenarios.includes("meter")) {
    results.push(
      await meterScenario(context, {
        durationS,
        connections,
        window: positive("window", values.window),
        maxReadings: positive("max-readings", values["max-readings"]),
        repetitions,
        backends,
      }),
    );
  }
  if (scenarios.includes("cmx")) {
    results.push(
      ...await cmxScenario(context, {
        durationS,
        clients: positive("cmx-clients", values["cmx-clients"]),
        batch: positive("cmx-batch", values["cmx-batch"]),
        repetitions,
        backends,
        users: positive("cmx-users", values["cmx-users"] ?? (values.quick ? "3000" : "30000")),
        historyRows: positive("cmx-history", values["cmx-history"] ?? (values.quick ? "100000" : "1000000")),
        queries: positive("cmx-queries", values["cmx-queries"] ?? (values.quick ? "500" : "2000")),
        queryConcurrency: positive("cmx-query-concurrency", values["cmx-query-concurrency"]),
      }),
    );
  }
  const report = { machine, command: ["deno task bench", ...Deno.args].join(" "), scenarios: results };
  const path = await writeResults(values["results-dir"], report);
  console.log(markdown(report));
  console.error(`results written to ${path}`);
} finally {
  await context.cleanup();
}
