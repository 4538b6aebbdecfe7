/**
 * The loop every scenario shares: each repetition starts, measures and stops
 * every contender in turn (never two servers at once), and ratios of fieldgate
 * against a peer are taken repetition by repetition.
 */
import type { Backend } from "./fieldgate.ts";
import type { Ratio, Row } from "./report.ts";
import { peersSkipped } from "./profile.ts";
import { ratioSpread } from "./stats.ts";

/** Something to measure: a name for the table and how to start it. */
export interface Contender<T extends { stop(): Promise<void> }> {
  server: string;
  /** "sqlite", "postgres", or "-" for peers without a database. */
  backend: string;
  start(): Promise<T>;
}

/** fieldgate on each of `backends`, started by `start`. */
export function fieldgateContenders<T extends { stop(): Promise<void> }>(
  backends: Backend[],
  start: (backend: Backend) => Promise<T>,
): Contender<T>[] {
  return backends.map((backend) => ({ server: "fieldgate", backend, start: () => start(backend) }));
}

/** One repetition's metrics for one contender, and anything a reader must be told about it. */
export interface Measurement {
  metrics: Record<string, number>;
  problems: string[];
}

/**
 * Measures every contender once per repetition, one after the other; returns one row per contender.
 * During a `--profile` pass only fieldgate runs, and the peers' rows stay empty.
 */
export async function measureContenders<T extends { stop(): Promise<void> }>(
  options: { scenario: string; setup: string; repetitions: number; contenders: Contender<T>[] },
  measure: (target: T) => Promise<Measurement>,
): Promise<{ rows: Row[]; warnings: string[] }> {
  const { contenders, setup, repetitions } = options;
  const skipped = (contender: Contender<T>) => peersSkipped() && contender.server !== "fieldgate";
  const rows = contenders.map((c): Row => ({ server: c.server, backend: c.backend, setup, runs: [] }));
  const warnings: string[] = [];
  for (let repetition = 1; repetition <= repetitions; repetition++) {
    for (const [index, contender] of contenders.entries()) {
      if (skipped(contender)) continue;
      const label = `${contender.server} ${contender.backend}, ${setup}, run ${repetition}/${repetitions}`;
      console.error(`${options.scenario}: ${label}`);
      const target = await contender.start();
      try {
        const { metrics, problems } = await measure(target);
        rows[index].runs.push(metrics);
        warnings.push(...problems.map((problem) => `${label}: ${problem}`));
      } finally {
        await target.stop();
      }
    }
  }
  return { rows, warnings };
}

/** `<server> <backend> ÷ <peer name>` of `key` for every row of `server` (fieldgate's by default). */
export function ratiosAgainst(
  rows: Row[],
  peer: Row,
  peerName: string,
  key: string,
  target = "",
  server = "fieldgate",
): Ratio[] {
  return rows.filter((row) => row.server === server).map((row) => ({
    label: `${server} ${row.backend} ÷ ${peerName}`,
    setup: row.setup,
    value: ratioSpread(row.runs, peer.runs, key),
    target,
  }));
}
