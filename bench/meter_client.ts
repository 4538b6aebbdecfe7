/**
 * Meter load generator, run as its own process so its CPU is not the server's.
 *
 * Opens `--connections` TLS connections (verifying the server against `--ca-file`), then each
 * sends NDJSON packets `{"Id":…,"status":true,"voltage":…,"freq":50}` as a CC3220S would, keeping
 * `--window` packets in flight and reading one reply line per packet (replies come in order).
 * With `--interval-ms N` (a paced fleet) each connection instead sends one packet, waits for its
 * reply, and sends the next N ms after the previous send, the first at a random offset within N, so
 * C connections offer C × 1000 ÷ N readings/s spread evenly. Once every connection is up the client
 * prints `{"connected":C}` and stays silent for `--idle-s` seconds (so the server's RSS can be read
 * with idle connections only) before sending.
 * With `--wait-start` it waits for SIGUSR1 after that line, so several clients sharing one fleet start
 * their idle time (and so their readings) together.
 * Sending stops after `--duration` seconds or `--max-readings` packets; outstanding replies are
 * awaited for at most `--grace` seconds. Prints one JSON line with the counts, ack latencies and the
 * client's own event-loop lag while sending (every latency it records includes that lag); with
 * `--samples-file PATH` it also writes each acknowledged packet's latency and send offset there
 * (see {@link writeSamples}), so the reports of several clients can be merged into one distribution.
 *
 * `deno run -A bench/meter_client.ts --port N --ca-file PEM [--connections 100] [--window 16]
 *  [--interval-ms 2000 --idle-s 5] …`
 */
import { cpuUsage } from "node:process";
import { parseArgs } from "node:util";
import { percentile } from "./lib/stats.ts";

const ACK = "Thank you";
const CONNECT_CONCURRENCY = 50;
const LAG_PROBE_MS = 5;

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
    "interval-ms": { type: "string", default: "0" },
    "idle-s": { type: "string", default: "0" },
    "wait-start": { type: "boolean", default: false },
    "samples-file": { type: "string" },
  },
});
const caCerts = [await Deno.readTextFile(values["ca-file"]!)];
const connections = Number(values.connections);
const window = Number(values.window);
const firstId = Number(values["first-id"]);
const intervalMs = Number(values["interval-ms"]);
const idleS = Number(values["idle-s"]);
const encoder = new TextEncoder();

let budget = Number(values["max-readings"]);
let sent = 0;
let acked = 0;
let errors = 0;
let firstError = "";
// Milliseconds; float32 keeps microseconds and halves the memory of millions of samples.
const latencies = new Float32Array(budget);
// When each acknowledged packet was sent, in ms after sending started: the paced report splits off the first interval.
const sentOffsets = new Float32Array(budget);
let lastAckAt = 0;
let started = 0;

/** `{"Id":…}` packets as a CC3220S sends them, voltage varying with the packet number. */
function packets(id: number, count: number): Uint8Array {
  let text = "";
  for (let i = 0; i < count; i++) {
    text += `{"Id":${id},"status":true,"voltage":${(229 + ((sent + i) % 30) / 10).toFixed(1)},"freq":50}\n`;
  }
  return encoder.encode(text);
}

async function writeAll(conn: Deno.TlsConn, bytes: Uint8Array): Promise<void> {
  for (let written = 0; written < bytes.length;) written += await conn.write(bytes.subarray(written));
}

/** The reply lines of one connection, grouped by the read that completed them. */
async function* replyBatches(conn: Deno.TlsConn): AsyncGenerator<string[]> {
  const decoder = new TextDecoder();
  const buffer = new Uint8Array(16 * 1024);
  let pending = "";
  for (let n = await conn.read(buffer); n !== null; n = await conn.read(buffer)) {
    pending += decoder.decode(buffer.subarray(0, n), { stream: true });
    const lines: string[] = [];
    for (let end = pending.indexOf("\n"); end >= 0; end = pending.indexOf("\n")) {
      lines.push(pending.slice(0, end).replace(/\r$/, ""));
      pending = pending.slice(end + 1);
    }
    if (lines.length > 0) yield lines;
  }
}

/** Counts one reply to a packet sent at `sentAt`. */
function record(line: string, sentAt: number): void {
  const now = performance.now();
  if (line === ACK) {
    sentOffsets[acked] = sentAt - started;
    latencies[acked++] = now - sentAt;
    lastAckAt = now;
  } else {
    errors++;
    firstError ||= line;
  }
}

/** One device: keeps `window` packets in flight until sending stops, then collects the remaining replies. */
async function windowDevice(conn: Deno.TlsConn, id: number, sendUntil: number): Promise<void> {
  const sentAt: number[] = [];
  let head = 0;
  const send = async (wanted: number) => {
    const count = Math.min(wanted, budget);
    if (count <= 0 || performance.now() >= sendUntil) return;
    budget -= count;
    const bytes = packets(id, count);
    const now = performance.now();
    for (let i = 0; i < count; i++) sentAt.push(now);
    sent += count;
    await writeAll(conn, bytes);
  };

  await send(window);
  if (head < sentAt.length) {
    for await (const lines of replyBatches(conn)) {
      for (const line of lines) record(line, sentAt[head++]);
      await send(lines.length);
      if (head >= sentAt.length) break;
    }
  }
  if (head < sentAt.length) {
    throw new Error(`connection of device ${id} closed with ${sentAt.length - head} replies missing`);
  }
  conn.close();
}

/**
 * One paced device: a packet every `intervalMs` (the first at `firstAt`), each reply awaited before the next.
 * It leaves its connection open: closing thousands of TLS connections costs both sides seconds of CPU, which
 * must not delay the devices still sending, so every connection is closed once all are done.
 */
async function pacedDevice(conn: Deno.TlsConn, id: number, sendUntil: number, firstAt: number): Promise<void> {
  const replies = replyBatches(conn);
  let nextAt = firstAt;
  while (nextAt < sendUntil && budget > 0) {
    await delay(nextAt - performance.now());
    budget--;
    const bytes = packets(id, 1);
    const sentAt = performance.now();
    sent++;
    await writeAll(conn, bytes);
    const reply = await replies.next();
    if (reply.done) throw new Error(`connection of device ${id} closed with its reply missing`);
    if (reply.value.length !== 1) throw new Error(`device ${id} got ${reply.value.length} replies to one packet`);
    record(reply.value[0], sentAt);
    // A late reply delays the next send: a real device waits for it too.
    nextAt = sentAt + intervalMs;
  }
}

/**
 * Starts the paced devices, each at a random offset within `intervalMs` of `started`, and resolves with their
 * outcomes in connection order. Each device starts when its first reading is due rather than all at once:
 * starting 10,000 devices in one go held this thread for 80–130 ms, and the readings due meanwhile then went
 * out together, a burst that no real fleet sends.
 */
async function pacedFleet(sendUntil: number): Promise<PromiseSettledResult<void>[]> {
  const schedule = conns.map((conn, index) => ({ conn, index, firstAt: started + Math.random() * intervalMs }))
    .sort((a, b) => a.firstAt - b.firstAt);
  const outcomes: Promise<PromiseSettledResult<void>>[] = [];
  for (const { conn, index, firstAt } of schedule) {
    if (firstAt > performance.now()) await delay(firstAt - performance.now());
    // Settled at once, so a device that fails while others are still starting is no unhandled rejection.
    outcomes[index] = pacedDevice(conn, firstId + index, sendUntil, firstAt).then(
      (): PromiseSettledResult<void> => ({ status: "fulfilled", value: undefined }),
      (reason): PromiseSettledResult<void> => ({ status: "rejected", reason }),
    );
  }
  return Promise.all(outcomes);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
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

/**
 * Samples how late a `LAG_PROBE_MS` interval fires: the time this thread could not react to a reply
 * (its own work, garbage collection, or waiting for a core). Returns the stop function and the lags in ms.
 */
function probeLag(): { stop(): void; lags: number[] } {
  const lags: number[] = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    lags.push(Math.max(0, now - last - LAG_PROBE_MS));
    last = now;
  }, LAG_PROBE_MS);
  return { stop: () => clearInterval(timer), lags };
}

/**
 * Writes the acknowledged packets' latencies, then their send offsets (ms after sending started), as
 * little-endian float32 arrays of `acked` entries each.
 */
async function writeSamples(path: string): Promise<void> {
  const samples = new Float32Array(acked * 2);
  samples.set(latencies.subarray(0, acked));
  samples.set(sentOffsets.subarray(0, acked), acked);
  await Deno.writeFile(path, new Uint8Array(samples.buffer));
}

/** Resolves on the first `signal`. */
function signalled(signal: Deno.Signal): Promise<void> {
  return new Promise((resolve) => {
    const listener = () => {
      Deno.removeSignalListener(signal, listener);
      resolve();
    };
    Deno.addSignalListener(signal, listener);
  });
}

const connectStarted = performance.now();
const conns = await connectAll();
const connectedAt = performance.now();
// Listening before the line is printed: SIGUSR1 without a listener would end the process.
const startSignal = values["wait-start"] ? signalled("SIGUSR1") : Promise.resolve();
console.log(JSON.stringify({ connected: conns.length }));
await startSignal;
await delay(idleS * 1000);
started = performance.now();
const lag = probeLag();
const sendUntil = started + Number(values.duration) * 1000;
const devices = intervalMs > 0
  ? pacedFleet(sendUntil)
  : Promise.allSettled(conns.map((conn, i) => windowDevice(conn, firstId + i, sendUntil)));
const graceTimer = setTimeout(() => {
  // Bounded: whatever is still unanswered now stays unanswered.
  for (const conn of conns) conn.close();
}, (Number(values.duration) + Number(values.grace)) * 1000);
const outcomes = await devices;
lag.stop();
clearTimeout(graceTimer);
if (intervalMs > 0) {
  for (const conn of conns) {
    try {
      conn.close();
    } catch {
      // Already closed by the grace timer.
    }
  }
}

if (values["samples-file"]) await writeSamples(values["samples-file"]);
const cpu = cpuUsage();
const lags = lag.lags.sort((a, b) => a - b);
const failures = outcomes.filter((outcome) => outcome.status === "rejected");
const sorted = latencies.slice(0, acked).sort();
// In the first interval every device sends its first packet (which registers its pub); after it, a steady fleet.
const steady = latencies.subarray(0, acked).filter((_, i) => sentOffsets[i] >= intervalMs).sort();
// Paced: the rate the fleet kept up over the sending window; otherwise until the last reply.
const elapsedS = intervalMs > 0 ? Number(values.duration) : ((lastAckAt || performance.now()) - started) / 1000;
console.log(JSON.stringify({
  connections,
  window: intervalMs > 0 ? 1 : window,
  intervalMs,
  offeredPerS: intervalMs > 0 ? connections * 1000 / intervalMs : NaN,
  connectS: (connectedAt - connectStarted) / 1000,
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
  steadyP50Ms: percentile(steady, 0.5),
  steadyP99Ms: percentile(steady, 0.99),
  lagP99Ms: percentile(lags, 0.99),
  lagMaxMs: lags.at(-1) ?? NaN,
}));
