/**
 * A fixed number of HTTPS requests at a fixed concurrency from the harness
 * process (fetch, keep-alive, verifying the bench certificate), timing each
 * one: for query latency, where a count matters more than a duration.
 */
import { percentile } from "./stats.ts";

/** One batch of requests. */
export interface RequestLoad {
  url: string;
  headers: Record<string, string>;
  /** Body of request `i`. */
  body(i: number): string;
  count: number;
  concurrency: number;
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

/** Sends `count` POSTs, `concurrency` at a time, and reports their latency. */
export async function timeRequests(load: RequestLoad): Promise<RequestReport> {
  const client = Deno.createHttpClient({ caCerts: [load.caCert] });
  const latencies = new Float64Array(load.count);
  let next = 0;
  let failed = 0;
  let firstFailure = "";
  const worker = async () => {
    for (let i = next++; i < load.count; i = next++) {
      const sentAt = performance.now();
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
      latencies[i] = performance.now() - sentAt;
    }
  };
  const started = performance.now();
  try {
    await Promise.all(Array.from({ length: load.concurrency }, worker));
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
