/**
 * One connection of the guarded HTTPS front (https/front.ts) from accept to
 * close: the client's bytes passed to the inner HTTPS server and back, with
 * backpressure both ways, under the handshake, header and idle deadlines.
 */
import type net from "node:net";
import { connect } from "node:net";
import type { HttpsLimits } from "../config.ts";
import type { BridgedClients } from "./bridged_clients.ts";
import { TlsRecordWatch } from "./tls_records.ts";

// End reasons that are no news: not logged.
const CLOSED = "closed";
const SHUTTING_DOWN = "server shutting down";

/** One client connection; {@link run} drives it, the front may {@link drain} or {@link abort} it. */
export class PassThrough {
  readonly startedAt = performance.now();
  readonly innerPort: number;
  readonly #tcp: net.Socket;
  readonly #peer: string;
  readonly #limits: HttpsLimits;
  readonly #clients: BridgedClients;
  readonly #timers: ReturnType<typeof setTimeout>[] = [];
  #inner?: net.Socket;
  #bridgePort?: number;
  #endReason?: string;
  #lastActivity = Date.now();

  constructor(tcp: net.Socket, peer: string, innerPort: number, limits: HttpsLimits, clients: BridgedClients) {
    this.#tcp = tcp;
    this.#peer = peer;
    this.innerPort = innerPort;
    this.#limits = limits;
    this.#clients = clients;
    // Errors end the connection through "close"; without a listener they would crash the process.
    tcp.on("error", () => {});
    tcp.setNoDelay(true);
  }

  /** Closes both sockets now; the first reason is the one logged. */
  abort(reason: string): void {
    this.#endReason ??= reason;
    this.#inner?.destroy();
    this.#tcp.destroy();
  }

  /**
   * Closes the connection once no request is in flight on it (now, before it
   * is bridged): half-closing the inner side lets the answer already on its
   * way pass before the inner server ends the connection.
   */
  drain(): void {
    if (this.#bridgePort === undefined) return this.abort(SHUTTING_DOWN);
    this.#clients.idle(this.#bridgePort).then(() => {
      this.#endReason ??= SHUTTING_DOWN;
      this.#inner?.end();
    });
  }

  /**
   * Runs the connection to its end; resolves to why it ended abnormally (to
   * be logged), or undefined for an ordinary close. Never rejects.
   */
  async run(): Promise<string | undefined> {
    const limits = this.#limits;
    const clients = this.#clients;
    const handshake = new TlsRecordWatch();
    const handshakeTimer = this.#after(limits.handshakeTimeoutSeconds, () => this.abort("TLS handshake timeout"));
    const headerTimer = this.#after(limits.headerTimeoutSeconds, () => this.abort("request headers timeout"));
    const tcp = this.#tcp;
    try {
      // The inner connection waits for the client's first bytes: a silent client costs one socket, not three.
      const first = await firstChunk(tcp);
      const inner = this.#inner = connect({ host: "127.0.0.1", port: this.innerPort, allowHalfOpen: true });
      inner.on("error", () => {});
      inner.setNoDelay(true);
      // Watched from the start: a client leaving while the inner connection opens closes that too.
      const over = bothClosed(tcp, inner);
      await connected(inner);
      this.#bridgePort = inner.localPort!;
      clients.add(
        this.#bridgePort,
        { transport: "tcp", hostname: this.#peer, port: tcp.remotePort ?? 0 },
        () => clearTimeout(headerTimer),
      );
      const fromClient = (chunk: Uint8Array) => {
        this.#lastActivity = Date.now();
        if (!handshake.applicationData && handshake.push(chunk)) clearTimeout(handshakeTimer);
        if (!inner.write(chunk)) tcp.pause();
      };
      fromClient(first);
      tcp.on("data", fromClient);
      inner.on("drain", () => tcp.resume());
      inner.on("data", (chunk: Uint8Array) => {
        this.#lastActivity = Date.now();
        if (!tcp.write(chunk)) inner.pause();
      });
      tcp.on("drain", () => inner.resume());
      tcp.on("end", () => inner.end());
      inner.on("end", () => tcp.end());
      tcp.resume();
      this.#armIdleTimer(limits.idleTimeoutSeconds * 1000);
      await over;
    } catch (error) {
      this.abort(message(error));
    } finally {
      for (const timer of this.#timers) clearTimeout(timer);
      this.abort(CLOSED);
      if (this.#bridgePort !== undefined) clients.remove(this.#bridgePort);
    }
    return this.#endReason === CLOSED || this.#endReason === SHUTTING_DOWN ? undefined : this.#endReason;
  }

  #after(seconds: number, action: () => void): ReturnType<typeof setTimeout> {
    const timer = setTimeout(action, seconds * 1000);
    this.#timers.push(timer);
    return timer;
  }

  /** One timer, re-armed when it fires rather than on every chunk. */
  #armIdleTimer(ms: number): void {
    const idleMs = this.#limits.idleTimeoutSeconds * 1000;
    this.#timers.push(setTimeout(() => {
      const quiet = Date.now() - this.#lastActivity;
      if (quiet >= idleMs) return this.abort("idle timeout");
      this.#armIdleTimer(idleMs - quiet);
    }, ms));
  }
}

/** The first chunk the client sends; the socket is left paused after it. Rejects if the client leaves first. */
function firstChunk(tcp: net.Socket): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const gone = () => reject(new Error("closed by the client before the TLS handshake"));
    tcp.once("close", gone);
    tcp.once("end", gone);
    tcp.once("data", (chunk: Uint8Array) => {
      tcp.pause();
      tcp.off("close", gone);
      tcp.off("end", gone);
      resolve(chunk);
    });
  });
}

/** Resolves once `socket` connected; rejects if it closes first. */
function connected(socket: net.Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("close", () => reject(new Error("inner server unreachable")));
  });
}

/**
 * Resolves when the connection is over: both sockets closed. A client that is
 * gone has nobody left to answer, so its inner connection is closed at once;
 * once the inner connection is gone, the client's side is closed as soon as
 * what it sent has gone out: waiting for the client to close as well would let
 * it hold the connection.
 */
function bothClosed(tcp: net.Socket, inner: net.Socket): Promise<void> {
  const closed = (socket: net.Socket, then: () => void) =>
    new Promise<void>((resolve) =>
      socket.once("close", () => {
        then();
        resolve();
      })
    );
  return Promise.all([closed(tcp, () => inner.destroy()), closed(inner, () => tcp.end(() => tcp.destroy()))])
    .then(() => {});
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
