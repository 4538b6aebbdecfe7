/** Helpers for the device-socket tests: certificates, log capture, listeners and line clients. */
import { configure, type LogRecord, reset } from "@logtape/logtape";
import assert from "node:assert/strict";
import { join } from "node:path";
import { ensureDevCertificate } from "../../certs/dev_cert.ts";
import type { TcpLimits } from "../../config.ts";
import {
  type ConnectionHandler,
  type DeviceConnection,
  type DeviceListener,
  type DeviceListenerOptions,
  listenDevices,
} from "../../tcp/listener.ts";
import { serveLines } from "../../tcp/line_protocol.ts";
import { lineReader, writeAll } from "../helpers/device_client.ts";

/** PEM certificate (self-signed, so it is also its own CA) and key. */
export interface TestCertificate {
  cert: string;
  key: string;
}

/** A fresh RSA dev certificate for 127.0.0.1 and localhost. */
export async function makeCertificate(): Promise<TestCertificate> {
  const dir = await Deno.makeTempDir({ prefix: "fieldgate-tcp-cert-" });
  try {
    const { certFile, keyFile } = await ensureDevCertificate(join(dir, "certs"), ["127.0.0.1", "localhost"]);
    return { cert: await Deno.readTextFile(certFile), key: await Deno.readTextFile(keyFile) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

let shared: Promise<TestCertificate> | undefined;
/** One certificate shared by the tests of a file (RSA key generation is the slow part). */
export function certificate(): Promise<TestCertificate> {
  return shared ??= makeCertificate();
}

/** Rejects with `what` if `promise` does not settle within `ms`, so a broken server fails a test instead of hanging it. */
export async function within<T>(promise: Promise<T>, what: string, ms = 5000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Log records of the "fieldgate" category, with a way to wait for one. */
export interface CapturedLogs extends AsyncDisposable {
  records: LogRecord[];
  /** The connection log lines (category fieldgate.tcp) so far. */
  connections(): LogRecord[];
  /** Waits (bounded) for the `count`-th connection log line whose outcome contains or matches `outcome`. */
  waitForOutcome(outcome: string | RegExp, count?: number): Promise<LogRecord>;
}

/** Captures logs until disposed. */
export async function captureLogs(): Promise<CapturedLogs> {
  const records: LogRecord[] = [];
  const waiters = new Set<() => void>();
  await configure({
    sinks: {
      memory: (record: LogRecord) => {
        records.push(record);
        for (const wake of waiters) wake();
      },
    },
    loggers: [
      { category: ["fieldgate"], lowestLevel: "debug", sinks: ["memory"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: [] },
    ],
    reset: true,
  });
  const connections = () => records.filter((record) => "outcome" in record.properties);
  const matches = (record: LogRecord, outcome: string | RegExp) => {
    const text = String(record.properties.outcome);
    return typeof outcome === "string" ? text.includes(outcome) : outcome.test(text);
  };
  return {
    records,
    connections,
    async waitForOutcome(outcome, count = 1) {
      const found = () => connections().filter((record) => matches(record, outcome))[count - 1];
      const { promise, resolve } = Promise.withResolvers<void>();
      const wake = () => found() && resolve();
      waiters.add(wake);
      wake();
      try {
        await within(promise, `a connection log line with outcome ${outcome}; got ${outcomes(connections())}`);
        return found()!;
      } finally {
        waiters.delete(wake);
      }
    },
    [Symbol.asyncDispose]: () => reset(),
  };
}

function outcomes(records: LogRecord[]): string {
  return JSON.stringify(records.map((record) => record.properties.outcome));
}

/** Generous limits that tests tighten one at a time. */
export function testLimits(overrides: Partial<TcpLimits> = {}): TcpLimits {
  return {
    maxLineBytes: 4096,
    idleTimeoutSeconds: 10,
    handshakeTimeoutSeconds: 10,
    maxConnections: 100,
    maxConnectionsPerIp: 100,
    ...overrides,
  };
}

/** A listener on a free 127.0.0.1 port that closes itself at the end of the test (`await using`). */
export async function startListener(
  options: Partial<DeviceListenerOptions>,
  handler: ConnectionHandler = thankYou().handler,
): Promise<DeviceListener & AsyncDisposable> {
  const defaults = { name: "test", hostname: "127.0.0.1", port: 0, mode: "tls" as const, limits: testLimits() };
  const listener = await listenDevices({ ...defaults, tls: { cert: "", key: "" }, ...options }, handler);
  return Object.assign(listener, { [Symbol.asyncDispose]: () => listener.close(1) });
}

/** A handler like the meter's: "Thank you" per line; records what it saw. */
export function thankYou(): { handler: ConnectionHandler; lines: string[]; remotes: string[] } {
  const seen = { lines: [] as string[], remotes: [] as string[] };
  const handler = async (connection: DeviceConnection) => {
    seen.remotes.push(connection.remoteAddr);
    await serveLines(connection, (line) => {
      seen.lines.push(line);
      if (line === "boom") return Promise.reject(new Error("handler bug on purpose"));
      return Promise.resolve("Thank you");
    }, 1);
  };
  return { handler, ...seen };
}

/** A client that writes text and reads reply lines. */
export class LineClient implements Disposable {
  readonly conn: Deno.Conn;
  readonly #nextLine: () => Promise<string | null>;

  constructor(conn: Deno.Conn) {
    this.conn = conn;
    this.#nextLine = lineReader(conn);
  }

  /** A TLS client that trusts only `ca`. */
  static async tls(port: number, ca: string): Promise<LineClient> {
    const conn = await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [ca] });
    await conn.handshake();
    return new LineClient(conn);
  }

  /** A plain TCP client (proxy mode, or garbage for a TLS port). */
  static async plain(port: number): Promise<LineClient> {
    return new LineClient(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  /** Writes text or bytes as they are. */
  send(data: string | Uint8Array): Promise<void> {
    return writeAll(this.conn, data);
  }

  /** The next line, or null at end of stream. */
  async readLine(): Promise<string | null> {
    return await within(this.#nextLine(), "a reply line");
  }

  /** Sends a line and returns the reply. */
  async request(line: string): Promise<string | null> {
    await this.send(line + "\n");
    return await this.readLine();
  }

  /** Resolves with "eof" or the error name once the server has closed the connection. */
  async closedByServer(): Promise<string> {
    const drain = async () => {
      try {
        const buffer = new Uint8Array(65536);
        while (await this.conn.read(buffer) !== null) { /* skip whatever the server still sends */ }
        return "eof";
      } catch (error) {
        return (error as Error).name;
      }
    };
    return await within(drain(), "the server to close the connection");
  }

  [Symbol.dispose](): void {
    try {
      this.conn.close();
    } catch {
      // Already closed by the test.
    }
  }
}

/** Asserts that a new, well-behaved TLS client still gets "Thank you". */
export async function assertGoodTlsClient(port: number, ca: string): Promise<void> {
  using client = await within(LineClient.tls(port, ca), "a good TLS client to connect");
  assert.equal(await client.request('{"Id":1,"voltage":230.1,"freq":50,"status":true}'), "Thank you");
}

/** Asserts that a new, well-behaved proxy-mode client still gets "Thank you". */
export async function assertGoodProxyClient(port: number, source = "192.0.2.1"): Promise<void> {
  using client = await within(LineClient.plain(port), "a good plain client to connect");
  await client.send(`PROXY TCP4 ${source} 127.0.0.1 40000 38981\r\n`);
  assert.equal(await client.request('{"Id":1}'), "Thank you");
}
