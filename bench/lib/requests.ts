/**
 * A fixed number of HTTPS requests from the harness process (fetch,
 * keep-alive, verifying the bench certificate), timing each one: for query
 * latency, where a count matters more than a duration. Either closed loop (a
 * fixed number in flight, each answer starting the next request: the most a
 * server answers, with latency that is mostly queueing) or open loop (a fixed
 * rate, as many users' pages would send them).
 */
import { percentile } from "./stats.ts";

/** One batch of requests. */
export interface RequestLoad {
  url: string;
  headers: Record<string, string>;
  /** Body of request `i`. */
  body(i: number): string;
  count: number;
  /** Closed loop: requests in flight. */
  concurrency: number;
  /**
   * Open loop instead: requests started per second, evenly spaced whether or
   * not earlier ones were answered; each latency counts from the request's
   * scheduled start, so a server falling behind is not hidden by the client
   * waiting for it (coordinated omission).
   */
  ratePerS?: number;
  /** PEM the server certificate must chain to. */
  caCert: string;
}

/** What the requests saw; latencies in milliseconds. */
export interface RequestReport {
  requests: number;
  /** Responses outside 2xx, and requests that failed. */
  failed: number;
  firstFailure: string;
  requestsPerS: number;
  p50Ms: number;
  p99Ms: number;
}

/** Sends `count` POSTs, closed or open loop (see {@link RequestLoad}), and reports their latency. */
export async function timeRequests(load: RequestLoad): Promise<RequestReport> {
  const client = Deno.createHttpClient({ caCerts: [load.caCert] });
  const latencies = new Float64Array(load.count);
  let failed = 0;
  let firstFailure = "";
  const send = async (i: number, startedAt: number) => {
    try {
      const response = await fetch(load.url, { method: "POST", client, headers: load.headers, body: load.body(i) });
      const text = await response.text();
      if (!response.ok) {
        failed++;
        firstFailure ||= `${response.status} ${text.slice(0, 200)}`;
      }
    } catch (error) {
      failed++;
      firstFailure ||= String(error);
    }
    latencies[i] = performance.now() - startedAt;
  };
  const started = performance.now();
  try {
    await (load.ratePerS ? openLoop(load.count, load.ratePerS, send) : closedLoop(load.count, load.concurrency, send));
  } finally {
    client.close();
  }
  const elapsedS = (performance.now() - started) / 1000;
  const sorted = latencies.sort();
  return {
    requests: load.count,
    failed,
    firstFailure,
    requestsPerS: load.count / elapsedS,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
  };
}

type Send = (i: number, startedAt: number) => Promise<void>;

/** `concurrency` senders, each starting its next request when its last one is answered. */
async function closedLoop(count: number, concurrency: number, send: Send): Promise<void> {
  let next = 0;
  const sender = async () => {
    for (let i = next++; i < count; i = next++) await send(i, performance.now());
  };
  await Promise.all(Array.from({ length: concurrency }, sender));
}

/** Request i starts at `i / ratePerS` seconds; a timer that fires late starts every request already due. */
async function openLoop(count: number, ratePerS: number, send: Send): Promise<void> {
  const intervalMs = 1000 / ratePerS;
  const started = performance.now();
  const sent: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = started + i * intervalMs;
    const wait = due - performance.now();
    if (wait >= 1) await new Promise((resolve) => setTimeout(resolve, wait));
    sent.push(send(i, due));
  }
  await Promise.all(sent);
}
