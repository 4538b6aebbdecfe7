/**
 * Meter load generator, run as its own process so its CPU is not the server's.
 *
 * Opens `--connections` TLS connections (verifying the server against `--ca-file`), then each
 * sends NDJSON packets `{"Id":…,"status":true,"voltage":…,"freq":50}` as a CC3220S would, keeping
 * `--window` packets in flight and reading one reply line per packet (replies come in order).
 * Sending stops after `--duration` seconds or `--max-readings` packets; outstanding replies are
 * awaited for at most `--grace` seconds. Prints one JSON line with the counts and ack latencies.
 *
 * `deno run -A bench/meter_client.ts --port N --ca-file PEM [--connections 100] [--window 16] …`
 */
import { cpuUsage } from "node:process";
import { parseArgs } from "node:util";
import { percentile } from "./lib/stats.ts";

const ACK = "Thank you";
const CONNECT_CONCURRENCY = 50;

const { values } = parseArgs({
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string" },
    "ca-file": { type: "string" },
    connections: { type: "string", default: "100" },
    window: { type: "string", default: "16" },
    duration: { type: "string", default: "10" },
    "max-readings": { type: "string", default: "8000000" },
    grace: { type: "string", default: "30" },
    "first-id": { type: "string", default: "100000" },
  },
});
const caCerts = [await Deno.readTextFile(values["ca-file"]!)];
const connections = Number(values.connections);
const window = Number(values.window);
const firstId = Number(values["first-id"]);
const encoder = new TextEncoder();

let budget = Number(values["max-readings"]);
let sent = 0;
let acked = 0;
let errors = 0;
let firstError = "";
// Milliseconds; float32 keeps microseconds and halves the memory of millions of samples.
const latencies = new Float32Array(budget);
let lastAckAt = 0;

/** One device: keeps `window` packets in flight until sending stops, then collects the remaining replies. */
async function device(conn: Deno.TlsConn, id: number, sendUntil: number): Promise<void> {
  const sentAt: number[] = [];
  let head = 0;
  const send = async (wanted: number) => {
    const count = Math.min(wanted, budget);
    if (count <= 0 || performance.now() >= sendUntil) return;
    budget -= count;
    let text = "";
    for (let i = 0; i < count; i++) {
      text += `{"Id":${id},"status":true,"voltage":${(229 + ((sent + i) % 30) / 10).toFixed(1)},"freq":50}\n`;
    }
    const bytes = encoder.encode(text);
    const now = performance.now();
    for (let i = 0; i < count; i++) sentAt.push(now);
    sent += count;
    for (let written = 0; written < bytes.length;) written += await conn.write(bytes.subarray(written));
  };

  const decoder = new TextDecoder();
  const buffer = new Uint8Array(16 * 1024);
  let pending = "";
  await send(window);
  while (head < sentAt.length) {
    const n = await conn.read(buffer);
    if (n === null) throw new Error(`connection of device ${id} closed with ${sentAt.length - head} replies missing`);
    pending += decoder.decode(buffer.subarray(0, n), { stream: true });
    let replies = 0;
    for (let end = pending.indexOf("\n"); end >= 0; end = pending.indexOf("\n")) {
      const line = pending.slice(0, end).replace(/\r$/, "");
      pending = pending.slice(end + 1);
      const now = performance.now();
      if (line === ACK) {
        latencies[acked++] = now - sentAt[head];
        lastAckAt = now;
      } else {
        errors++;
        firstError ||= line;
      }
      head++;
      replies++;
    }
    await send(replies);
  }
  conn.close();
}

async function connectAll(): Promise<Deno.TlsConn[]> {
  const opened: Deno.TlsConn[] = [];
  for (let i = 0; i < connections; i += CONNECT_CONCURRENCY) {
    const batch = Array.from({ length: Math.min(CONNECT_CONCURRENCY, connections - i) }, async () => {
      const conn = await Deno.connectTls({ hostname: values.host!, port: Number(values.port), caCerts });
      await conn.handshake();
      return conn;
    });
    opened.push(...await Promise.all(batch));
  }
  return opened;
}

const connectStarted = performance.now();
const conns = await connectAll();
const started = performance.now();
const sendUntil = started + Number(values.duration) * 1000;
const devices = Promise.allSettled(conns.map((conn, i) => device(conn, firstId + i, sendUntil)));
const graceTimer = setTimeout(() => {
  // Bounded: whatever is still unanswered now stays unanswered.
  for (const conn of conns) conn.close();
}, (Number(values.duration) + Number(values.grace)) * 1000);
const outcomes = await devices;
clearTimeout(graceTimer);

const cpu = cpuUsage();
const failures = outcomes.filter((outcome) => outcome.status === "rejected");
const sorted = latencies.subarray(0, acked).sort();
const elapsedS = ((lastAckAt || performance.now()) - started) / 1000;
console.log(JSON.stringify({
  connections,
  window,
  connectS: (started - connectStarted) / 1000,
  elapsedS,
  sent,
  acked,
  errors,
  firstError,
  failedConnections: failures.length,
  firstFailure: failures.length > 0 ? String((failures[0] as PromiseRejectedResult).reason) : "",
  readingsPerS: acked / elapsedS,
  clientCpuSeconds: (cpu.user + cpu.system) / 1e6,
  p50Ms: percentile(sorted, 0.5),
  p99Ms: percentile(sorted, 0.99),
  p999Ms: percentile(sorted, 0.999),
}));
