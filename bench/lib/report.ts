/**
 * Results of a benchmark run: the shapes the scenarios return, the machine
 * description, `bench/results/<date>.json` and the Markdown tables.
 */
import { join } from "node:path";
import { runCommand } from "./process.ts";
import type { Backend } from "./fieldgate.ts";
import { type Spread, spreadOf } from "./stats.ts";

/** A metric column: the key in each run's record, its heading and decimals. */
export interface Column {
  key: string;
  label: string;
  digits: number;
}

/** One server measured in one setup, every repetition. */
export interface Row {
  server: string;
  /** "sqlite", "postgres", or "-" for peers without a database. */
  backend: string;
  /** Human summary of the load, e.g. "64 loggers, 10 s". */
  setup: string;
  /** One record of metrics per repetition, in run order. */
  runs: Record<string, number>[];
}

/** A ratio computed repetition by repetition within the same run. */
export interface Ratio {
  label: string;
  setup: string;
  value: Spread;
  /** What the issues ask for, e.g. "≥ 10"; empty when there is no target. */
  target: string;
}

/** Everything one scenario measured. */
export interface ScenarioResult {
  name: string;
  columns: Column[];
  rows: Row[];
  ratios: Ratio[];
  /** Facts that need a reader's attention (durability mismatches, errors). */
  warnings: string[];
  /** Context printed under the table (RSS over time, profile summaries). */
  notes?: string[];
}

/** What a `--profile` pass profiled, and why. */
export interface ProfileTarget {
  scenario: string;
  backend: Backend;
  reason: string;
}

/** A whole run: where, how it was started, every scenario's result and the profile pass's summaries. */
export interface Report {
  machine: Machine;
  command: string;
  scenarios: ScenarioResult[];
  /** Scenarios that threw, with the first line of the error; the run goes on without them. */
  failures: string[];
  profile?: ProfileTarget & { summaries: string[] };
}

/** Where and on what the run happened. */
export interface Machine {
  date: string;
  cpus: number;
  cpuModel: string;
  memoryGiB: string;
  deno: string;
  commit: string;
  /** The PostgreSQL server's version and durability settings, when a PostgreSQL backend was measured. */
  postgres?: string;
}

/** Describes this machine and checkout (`nproc`, `free -g`, /proc/cpuinfo, `git rev-parse --short HEAD`). */
export async function describeMachine(repoRoot: string, postgres?: string): Promise<Machine> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo");
  const free = await runCommand("free", ["-g"], 10_000);
  return {
    date: new Date().toISOString(),
    cpus: Number((await runCommand("nproc", [], 10_000)).trim()),
    cpuModel: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? "unknown",
    memoryGiB: /^Mem:\s+(\d+)/m.exec(free)?.[1] ?? "unknown",
    deno: Deno.version.deno,
    commit: await describeCommit(repoRoot),
    postgres,
  };
}

/** `git rev-parse --short HEAD`, marked when the work tree has changes; "unknown" outside a git checkout. */
async function describeCommit(repoRoot: string): Promise<string> {
  const git = (...args: string[]) => runCommand("git", ["-C", repoRoot, ...args], 10_000);
  try {
    const dirty = (await git("status", "--porcelain")).trim() !== "";
    return (await git("rev-parse", "--short", "HEAD")).trim() + (dirty ? " + uncommitted changes" : "");
  } catch {
    return "unknown (not a git checkout)";
  }
}

/** Writes `bench/results/<YYYY-MM-DD>.json` (replacing a run of the same day) and returns its path. */
export async function writeResults(directory: string, report: Report): Promise<string> {
  await Deno.mkdir(directory, { recursive: true });
  const path = join(directory, `${report.machine.date.slice(0, 10)}.json`);
  const scenarios = report.scenarios.map((scenario) => ({
    ...scenario,
    rows: scenario.rows.map((row) => ({
      ...row,
      summary: Object.fromEntries(scenario.columns.map((column) => [column.key, spreadOf(row.runs, column.key)])),
    })),
  }));
  await Deno.writeTextFile(path, JSON.stringify({ ...report, scenarios }, null, 2) + "\n");
  return path;
}

/** The run as Markdown: a machine line, then per scenario a table of medians (min–max) and its ratios. */
export function markdown(report: Report): string {
  const { machine } = report;
  const out = [
    `Run ${machine.date.slice(0, 16).replace("T", " ")} UTC, commit ${machine.commit}, \`${report.command}\``,
    `Machine: ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB RAM, Deno ${machine.deno}` +
    (machine.postgres ? `, ${machine.postgres}` : ""),
    "Cells: median (min–max) over the repetitions; one value when they all agree; - when not measured.",
  ];
  for (const failure of report.failures) out.push("", `> ⚠ FAILED, not measured: ${failure}`);
  for (const scenario of report.scenarios) {
    out.push("", `### ${scenario.name}`, "");
    out.push(tableRow(["server", "backend", "load", ...scenario.columns.map((column) => column.label)]));
    out.push(tableRow(Array(3 + scenario.columns.length).fill("---")));
    for (const row of scenario.rows) {
      const cells = scenario.columns.map((column) => formatSpread(spreadOf(row.runs, column.key), column.digits));
      out.push(tableRow([row.server, row.backend, row.setup, ...cells]));
    }
    if (scenario.ratios.length > 0) {
      out.push("", tableRow(["ratio (same repetition)", "load", "median (min–max)", "target"]));
      out.push(tableRow(["---", "---", "---", "---"]));
      for (const ratio of scenario.ratios) {
        out.push(tableRow([ratio.label, ratio.setup, formatSpread(ratio.value, 2), ratio.target || "-"]));
      }
    }
    for (const warning of scenario.warnings) out.push("", `> ⚠ ${warning}`);
    if (scenario.notes?.length) out.push("", ...scenario.notes.map((note) => `- ${note}`));
  }
  if (report.profile) {
    const { scenario, backend, reason, summaries } = report.profile;
    out.push("", `### CPU profile: fieldgate ${backend}, ${scenario} (${reason})`);
    for (const summary of summaries) out.push("", "```", summary, "```");
  }
  return out.join("\n") + "\n";
}

function tableRow(cells: string[]): string {
  return `| ${cells.join(" | ")} |`;
}

function formatSpread(value: Spread, digits: number): string {
  const format = (n: number) =>
    Number.isFinite(n)
      ? n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })
      : "-";
  const [median, min, max] = [value.median, value.min, value.max].map(format);
  return min === max ? median : `${median} (${min}–${max})`;
}
