/**
 * The SQLite floor of the meter scenario, run as its own process: the
 * database's own rate for meter-reading rows inserted in transactions of
 * `--batch` rows by one writer, each also counting the readings on their
 * pubs as fieldgate does, on a database fieldgate's migrations created,
 * with the pragmas of storage/sqlite/store.ts (WAL, synchronous FULL, foreign
 * keys, busy timeout). Prints one JSON line with the counts.
 *
 * `deno run -A bench/floor_sqlite.ts --database PATH --batch 500 --duration 10 --pubs 100`
 */
import { cpuUsage } from "node:process";
import { DatabaseSync } from "node:sqlite";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    database: { type: "string" },
    batch: { type: "string", default: "500" },
    duration: { type: "string", default: "10" },
    pubs: { type: "string", default: "100" },
  },
});
const batch = Number(values.batch);
const pubs = Number(values.pubs);

const db = new DatabaseSync(values.database!);
db.exec("PRAGMA busy_timeout = 5000");
db.exec("PRAGMA foreign_keys = ON");
db.exec("PRAGMA journal_mode = WAL");
db.exec("PRAGMA synchronous = FULL");
const now = Date.now();
const addPub = db.prepare("INSERT OR IGNORE INTO pub (pub_id, created_at) VALUES (?, ?)");
for (let pub = 1; pub <= pubs; pub++) addPub.run(pub, now);
// Counts each batch's readings on their pubs, as fieldgate's meter writer does.
const count = db.prepare(`
  INSERT INTO pub (pub_id, created_at, readings) VALUES (?, ?, ?)
  ON CONFLICT (pub_id) DO UPDATE SET readings = readings + excluded.readings`);
const insert = db.prepare(`
  INSERT INTO meter_readings (pub_id, created_at, saved_at, voltage, frequency, protected)
  VALUES (?, ?, ?, ?, ?, ?)`);

let transactions = 0;
let inserted = 0;
const started = performance.now();
const until = started + Number(values.duration) * 1000;
while (performance.now() < until) {
  db.exec("BEGIN IMMEDIATE");
  const at = Date.now();
  const counts = new Map<number, number>();
  for (let i = 0; i < batch; i++, inserted++) {
    const pub = 1 + inserted % pubs;
    insert.run(pub, at, at, 229 + (inserted % 30) / 10, 50, 0);
    counts.set(pub, (counts.get(pub) ?? 0) + 1);
  }
  for (const [pub, readings] of counts) count.run(pub, at, readings);
  db.exec("COMMIT");
  transactions++;
}
const elapsedS = (performance.now() - started) / 1000;
const { rows } = db.prepare("SELECT count(*) AS rows FROM meter_readings").get() as { rows: number };
db.close();
const cpu = cpuUsage();
console.log(JSON.stringify({ transactions, rows, elapsedS, cpuSeconds: (cpu.user + cpu.system) / 1e6 }));
