/**
 * Child process for the SQLite process tests: records OTT transmissions from
 * 16 concurrent writers and prints `ack <file>` the moment each is committed.
 *
 * Usage: sqlite_writer.ts <database path> <file prefix> [count]  (no count = until killed)
 */
import { openSqliteStore } from "../../storage/sqlite/store.ts";

const [path, prefix, count] = Deno.args;
const limit = count === undefined ? Infinity : Number(count);
const store = await openSqliteStore(path, { maxDelayMs: 2, maxBatch: 500 });
const encoder = new TextEncoder();
let next = 0;

async function writer(): Promise<void> {
  while (next < limit) {
    const i = next++;
    const file = `${prefix}-${i}`;
    const time = new Date(Date.UTC(2024, 0, 1) + i * 1_000);
    await store.ott.record({
      transmission: {
        stationId: "W",
        action: "senddata",
        receivedAt: new Date(),
        file,
        bytes: 100,
        user: "logger",
        remoteAddr: "192.0.2.1",
        parseError: null,
      },
      values: [{
        stationId: "W",
        channelId: prefix,
        channelName: "level",
        unit: "m",
        time,
        value: i,
        rawValue: String(i),
        errorCode: null,
        errorText: null,
      }],
      alarm: null,
    });
    // Synchronous, so the acknowledgement is in the pipe before this writer does anything else.
    const line = encoder.encode(`ack ${file}\n`);
    for (let written = 0; written < line.length;) written += Deno.stdout.writeSync(line.subarray(written));
  }
}

await Promise.all(Array.from({ length: 16 }, writer));
await store.close();
