/**
 * What the guarded HTTPS front (https/front.ts) costs: fieldgate (SQLite) with
 * `https.guard` on and off, alternating in the same run, under wrk: a trivial
 * GET on keep-alive connections, the same with a new TLS connection per
 * request, and the OTT senddata POST (durable) both ways. Prints requests/s per mode
 * and the guarded ÷ direct ratio, repetition by repetition.
 *
 *   flock /tmp/fieldgate-bench.lock npx -y deno@2.9.6 run -A bench/https_front.ts [--duration 10] [--repetitions 3]
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { basicAuthHeader, createContext } from "./lib/context.ts";
import { startFieldgate } from "./lib/fieldgate.ts";
import { spread } from "./lib/stats.ts";
import { ensureWrk, postPreamble, runWrk } from "./lib/wrk.ts";

const { values } = parseArgs({
  options: {
    duration: { type: "string", default: "10" },
    repetitions: { type: "string", default: "3" },
    connections: { type: "string", default: "64" },
    "postgres-url": { type: "string", default: "postgres://postgres@127.0.0.1:5432/postgres" },
  },
});
const durationS = Number(values.duration);
const repetitions = Number(values.repetitions);
const connections = Number(values.connections);

const OTT_PATH = "/ottt?stationid=0000452891&action=senddata";
const MODES = { guarded: [], direct: ["--https-guard", "false"] } as const;
type Mode = keyof typeof MODES;

await ensureWrk();
const context = await createContext(values["postgres-url"]);
const body = await Deno.readTextFile(new URL("../../shared/fixtures/ott-senddata.xml", import.meta.url));
const lua = (lines: string[]) => lines.map((line) => line + "\n").join("");
const workloads = [
  { name: "GET /ping, keep-alive", path: "/ping", script: lua([]) },
  { name: "GET /ping, new TLS connection each", path: "/ping", script: lua(['wrk.headers["Connection"] = "close"']) },
];
const ottPost = [
  ...postPreamble({ "Authorization": basicAuthHeader(), "Content-Type": "application/xml" }),
  `wrk.body = ${JSON.stringify(body)}`,
];
workloads.push(
  { name: "OTT senddata POST (durable), keep-alive", path: OTT_PATH, script: lua(ottPost) },
  {
    name: "OTT senddata POST (durable), new TLS connection each",
    path: OTT_PATH,
    script: lua([...ottPost, 'wrk.headers["Connection"] = "close"']),
  },
);

const results = new Map<string, Record<Mode, number[]>>();
try {
  for (let repetition = 1; repetition <= repetitions; repetition++) {
    for (const mode of Object.keys(MODES) as Mode[]) {
      const fieldgate = await startFieldgate(context, { backend: "sqlite", meter: false, args: [...MODES[mode]] });
      try {
        for (const workload of workloads) {
          const script = join(context.root, `https-front-${workloads.indexOf(workload)}.lua`);
          await Deno.writeTextFile(script, workload.script);
          const result = await runWrk({
            url: fieldgate.url + workload.path,
            connections,
            threads: 2,
            durationS,
            script,
          });
          if (result.non2xx > 0 || result.socketErrors > 0) {
            console.error(`${mode} ${workload.name}: ${result.non2xx} non-2xx, ${result.socketErrors} socket errors`);
          }
          const entry = results.get(workload.name) ?? { guarded: [], direct: [] };
          entry[mode].push(result.requestsPerS);
          results.set(workload.name, entry);
          console.error(`run ${repetition}/${repetitions} ${mode} ${workload.name}: ${result.requestsPerS} req/s`);
        }
      } finally {
        await fieldgate.stop();
      }
    }
  }
} finally {
  await context.cleanup();
}

console.log(
  `| workload (${connections} connections, ${durationS} s, ${repetitions} runs) | guarded req/s | direct req/s | guarded ÷ direct (median, runs) |`,
);
console.log("| --- | ---: | ---: | --- |");
for (const [name, runs] of results) {
  const ratios = runs.guarded.map((value, i) => value / runs.direct[i]);
  const median = (values: number[]) => spread(values).median.toFixed(0);
  console.log(
    `| ${name} | ${median(runs.guarded)} | ${median(runs.direct)} | ${spread(ratios).median.toFixed(2)} (${
      ratios.map((ratio) => ratio.toFixed(2)).join(", ")
    }) |`,
  );
}
