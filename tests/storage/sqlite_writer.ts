/**
 * Child process for the SQLite process tests: writes from 16 concurrent
 * writers and prints `ack <key>` the moment each write is committed.
 *
 * Usage: sqlite_writer.ts <ott|meters> <database path> <prefix> [count]  (no count = until killed)
 * - ott: records OTT transmissions; the key is the transmission's file name.
 * - meters: appends readings to pub 1 (registering it); the key is `<reading id>:<voltage>`.
 */
import { openSqliteStore } from "../../storage/sqlite/store.ts";
import type { RecordStore } from "../../storage/types.ts";

const [kind, path, prefix, count] = Deno.args;
const limit = count === undefined ? Infinity : Number(count);
const store = await openSqliteStore(path, { maxDelayMs: 2, maxBatch: 500 });
const encoder = new TextEncoder();
let next = 0;

const writes: Record<string, (store: RecordStore, i: number) => Promise<string>> = {
  ott: async (store, i) => {
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
    return file;
  },
  meters: async (store, i) => {
    const now = new Date();
    const id = await store.meters.append(
      { pubId: 1, createdAt: now, savedAt: now, voltage: i, frequency: 50, protected: false },
      { registerPub: true },
    );
    return `${id}:${i}`;
  },
};
const write = writes[kind];
if (!write) throw new Error(`unknown kind ${kind}: use ott or meters`);

async function writer(): Promise<void> {
  while (next < limit) {
    const key = await write(store, next++);
    // Synchronous, so the acknowledgement is in the pipe before this writer does anything else.
    const line = encoder.encode(`ack ${key}\n`);
    for (let written = 0; written < line.length;) written += Deno.stdout.writeSync(line.subarray(written));
  }
}

await Promise.all(Array.from({ length: 16 }, writer));
await store.close();
