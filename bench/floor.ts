/**
 * The meter scenario's floor: the database's own rate for rows shaped like
 * meter readings (fieldgate's migrations, so the same table, index and
 * foreign key), inserted by one writer in transactions as large as
 * fieldgate's group commit (`commit.maxBatch`), each also counting the
 * readings on their pubs as fieldgate does. PostgreSQL: `pgbench -f` with
 * one statement per transaction; SQLite: bench/floor_sqlite.ts with
 * node:sqlite prepared statements. fieldgate ÷ floor says what its socket,
 * parsing and queueing leave of what the database alone can take.
 */
import { join } from "node:path";
import { loadConfig } from "../config.ts";
import { openRecordStore } from "../storage/open.ts";
import type { Contender, Measurement } from "./lib/contenders.ts";
import type { BenchContext } from "./lib/context.ts";
import type { Backend } from "./lib/fieldgate.ts";
import { createScratchDatabase } from "./lib/postgres.ts";
import { runCommand, spawnChild } from "./lib/process.ts";

/** A migrated, empty database and how to insert into it for `durationS`. */
export interface FloorTarget {
  insert(durationS: number): Promise<Measurement>;
  stop(): Promise<void>;
}

/** Readings per transaction: fieldgate's group commit batch (its default `commit.maxBatch`). */
export const FLOOR_BATCH = loadConfig().commit.maxBatch;
/** Devices the rows are spread over, one pub row each. */
const PUBS = 100;
const TIMEOUT_EXTRA_MS = 60_000;

/** One floor contender per backend. */
export function floorContenders(context: BenchContext, backends: Backend[]): Contender<FloorTarget>[] {
  return backends.map((backend) => ({
    server: backend === "postgres"
      ? `floor: pgbench, ${FLOOR_BATCH}-row INSERT`
      : `floor: node:sqlite, ${FLOOR_BATCH} rows`,
    backend,
    start: () => backend === "postgres" ? postgresFloor(context) : sqliteFloor(context),
  }));
}

/** A fresh data directory migrated by fieldgate's own store, then closed; the database URL for PostgreSQL. */
async function migratedStore(context: BenchContext, backend: Backend) {
  const dataDir = await context.newDir(`floor-${backend}-`);
  const database = backend === "postgres" ? await createScratchDatabase(context.postgresUrl) : null;
  const store = await openRecordStore(loadConfig({ overrides: { dataDir, databaseUrl: database?.url ?? "" } }));
  const location = store.location;
  await store.close();
  return {
    dataDir,
    location,
    databaseUrl: database?.url ?? "",
    async remove() {
      await database?.drop();
      await Deno.remove(dataDir, { recursive: true });
    },
  };
}

async function sqliteFloor(context: BenchContext): Promise<FloorTarget> {
  const store = await migratedStore(context, "sqlite");
  return {
    async insert(durationS) {
      const child = spawnChild({
        command: context.deno,
        args: [
          ...["run", "-A", join(context.repoRoot, "bench", "floor_sqlite.ts"), "--database", store.location],
          ...["--batch", String(FLOOR_BATCH), "--duration", String(durationS), "--pubs", String(PUBS)],
        ],
        logFile: `${store.dataDir}.log`,
      });
      const timer = setTimeout(() => child.stop(0), durationS * 1000 + TIMEOUT_EXTRA_MS);
      const status = await child.status;
      clearTimeout(timer);
      const lastLine = (await child.log()).trimEnd().split("\n").at(-1) ?? "";
      if (!status.success || !lastLine.startsWith("{")) {
        throw new Error(`SQLite floor failed (code ${status.code}); log ${child.logFile}:\n${lastLine}`);
      }
      const report = JSON.parse(lastLine) as {
        transactions: number;
        rows: number;
        elapsedS: number;
        cpuSeconds: number;
      };
      return floorMeasurement(report.rows, report.transactions, report.elapsedS, report.cpuSeconds / report.elapsedS);
    },
    stop: store.remove,
  };
}

async function postgresFloor(context: BenchContext): Promise<FloorTarget> {
  const store = await migratedStore(context, "postgres");
  const script = join(store.dataDir, "floor.sql");
  await Deno.writeTextFile(
    script,
    `INSERT INTO pub (pub_id) SELECT generate_series(1, ${PUBS}) ON CONFLICT DO NOTHING;\n`,
  );
  await runCommand("psql", ["-q", "-v", "ON_ERROR_STOP=1", "-f", script, store.databaseUrl], TIMEOUT_EXTRA_MS);
  // One statement per transaction, as fieldgate's: the pubs' reading counters and the readings.
  await Deno.writeTextFile(
    script,
    `WITH counted AS (
  INSERT INTO pub (pub_id, readings)
  SELECT 1 + i % ${PUBS}, count(*) FROM generate_series(1, ${FLOOR_BATCH}) AS i GROUP BY 1 ORDER BY 1
  ON CONFLICT (pub_id) DO UPDATE SET readings = pub.readings + excluded.readings
)
INSERT INTO meter_readings (pub_id, created_at, saved_at, voltage, frequency, protected)
  SELECT 1 + i % ${PUBS}, now(), now(), 229 + (i % 30) / 10.0, 50, false FROM generate_series(1, ${FLOOR_BATCH}) AS i;\n`,
  );
  return {
    async insert(durationS) {
      const output = await runCommand(
        "pgbench",
        ["-n", "-c", "1", "-T", String(durationS), "-f", script, store.databaseUrl],
        durationS * 1000 + TIMEOUT_EXTRA_MS,
      );
      const transactions = Number(/number of transactions actually processed: (\d+)/.exec(output)?.[1]);
      const tps = Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(output)?.[1]);
      const counted = await runCommand(
        "psql",
        ["-At", "-c", "SELECT count(*) FROM meter_readings", store.databaseUrl],
        TIMEOUT_EXTRA_MS,
      );
      return floorMeasurement(Number(counted.trim()), transactions, transactions / tps, NaN);
    },
    stop: store.remove,
  };
}

/** Readings/s from the rows actually stored, checked against the committed transactions. */
function floorMeasurement(rows: number, transactions: number, elapsedS: number, cores: number): Measurement {
  const expected = transactions * FLOOR_BATCH;
  return {
    metrics: { readingsPerS: rows / elapsedS, rows, serverCores: cores },
    problems: rows === expected ? [] : [`${rows} rows stored for ${transactions} transactions of ${FLOOR_BATCH}`],
  };
}
