/**
 * The result-shaping every scenario shares: the columns they all report the
 * same way (server CPU, peak RSS, failures, latency percentiles), the metrics
 * behind them, and a builder that collects measured rows, ratios, warnings and
 * notes into one {@link ScenarioResult}.
 */
import type { Usage } from "./process.ts";
import type { Column, Ratio, Row, ScenarioResult } from "./report.ts";

/** User + system CPU of the server process tree ÷ wall time (`serverCores`). */
export const SERVER_CORES: Column = { key: "serverCores", label: "server CPU cores", digits: 2 };
/** `VmHWM` of the server process tree (`peakRssMiB`). */
export const PEAK_RSS: Column = { key: "peakRssMiB", label: "server peak RSS MiB", digits: 0 };
/** wrk's non-2xx responses plus socket errors (`failed`). */
export const HTTP_FAILED: Column = { key: "failed", label: "non-2xx + socket errors", digits: 0 };

/** `p50Ms` and `p99Ms` columns, headed "<prefix>p50 ms" and "<prefix>p99 ms". */
export function latencyColumns(digits: number, prefix = ""): Column[] {
  return [
    { key: "p50Ms", label: `${prefix}p50 ms`, digits },
    { key: "p99Ms", label: `${prefix}p99 ms`, digits },
  ];
}

/** The {@link SERVER_CORES} and {@link PEAK_RSS} metrics from usage read before and after `seconds` of load. */
export function serverUsage(before: Usage, after: Usage, seconds: number): { serverCores: number; peakRssMiB: number } {
  return { serverCores: (after.cpuSeconds - before.cpuSeconds) / seconds, peakRssMiB: after.peakRssMiB };
}

/** Collects one scenario's table: rows of every setup measured, their ratios, warnings and notes. */
export class ScenarioTable {
  readonly result: ScenarioResult;

  constructor(name: string, columns: Column[]) {
    this.result = { name, columns, rows: [], ratios: [], warnings: [], notes: [] };
  }

  /** Adds what one `measureContenders` call measured, and the ratios taken from its rows. */
  add(measured: { rows: Row[]; warnings: string[] }, ratios: Ratio[] = []): this {
    this.result.rows.push(...measured.rows);
    this.result.ratios.push(...ratios);
    this.result.warnings.push(...measured.warnings);
    return this;
  }

  /** A warning that belongs to no single measurement (scaled-down data, a skipped size). */
  warn(text: string): this {
    this.result.warnings.push(text);
    return this;
  }

  /** A line of context printed under the table. */
  note(text: string): this {
    this.result.notes!.push(text);
    return this;
  }
}
