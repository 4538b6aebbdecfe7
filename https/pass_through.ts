/**
 * One connection of the guarded HTTPS front (https/front.ts) from accept to
 * close: the client's bytes passed to the inner HTTPS server and back, with
 * backpressure both ways, under the handshake, header and idle deadlines.
 *
 * Deno's own sockets, one read/write loop per direction: each read waits
 * until the previous chunk is written, which is the backpressure, and the
 * buffer is reused. node:net's streams (a compat layer in Deno) cost more
 * per chunk. A direction that fills its buffer (an upload) moves to a larger
 * one: a 1 GiB tus upload took some 19,000 reads of 57 KiB on average with
 * 64 KiB, and each read and write is an op on the main thread, which also
 * runs the inner server.
 */
import type { HttpsLimits } from "../config.ts";
import type { BridgedClients } from "./bridged_clients.ts";
import { TlsRecordWatch } from "./tls_records.ts";
import { errorMessage } from "../domain/error_message.ts";

// End reasons that are no news: not logged.
const CLOSED = "closed";
const SHUTTING_DOWN = "server shutting down";
/** Above the largest TLS record (16 KiB + overhead), so one read usually carries several. */
const BUFFER_BYTES = 64 * 1024;
/**
 * What a direction grows to once a read fills its buffer; larger (1 MiB)
 * measured no faster. Only a connection that moves bulk data grows, and it
 * keeps the larger buffer until it closes.
 */
const BULK_BUFFER_BYTES = 256 * 1024;

/** One client connection; {@link run} drives it, the front may {@link drain} or {@link abort} it. */
export class PassThrough {
  readonly startedAt = performance.now();
  readonly innerPort: number;
  readonly #tcp: Deno.TcpConn;
  readonly #peer: string;
  readonly #limits: HttpsLimits;
  readonly #clients: BridgedClients;
  readonly #timers: ReturnType<typeof setTimeout>[] = [];
  #inner?: Deno.TcpConn;
  #bridgePort?: number;
  #endReason?: string;
  #lastActivity = Date.now();

  constructor(tcp: Deno.TcpConn, peer: string, innerPort: number, limits: HttpsLimits, clients: BridgedClients) {
    this.#tcp = tcp;
    this.#peer = peer;
    this.innerPort = innerPort;
    this.#limits = limits;
    this.#clients = clients;
    tcp.setNoDelay(true);
  }

  /** Closes both sockets now (pending reads and writes fail); the first reason is the one logged. */
  abort(reason: string): void {
    this.#endReason ??= reason;
    for (const conn of [this.#inner, this.#tcp]) {
      try {
        conn?.close();
      } catch {
        // already closed
      }
    }
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
      this.#inner?.closeWrite().catch(() => {});
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
    const fromClient = new Uint8Array(BUFFER_BYTES);
    try {
      // The inner connection waits for the client's first bytes: a silent client costs one socket, not three.
      const firstBytes = await this.#tcp.read(fromClient);
      if (firstBytes === null) throw new Error("closed by the client before the TLS handshake");
      const inner = this.#inner = await Deno.connect({ hostname: "127.0.0.1", port: this.innerPort }).catch((error) => {
        throw new Error(`inner server unreachable: ${errorMessage(error)}`);
      });
      if (this.#endReason !== undefined) return this.#outcome(); // aborted while it connected
      inner.setNoDelay(true);
      this.#bridgePort = inner.localAddr.port;
      clients.add(
        this.#bridgePort,
        { transport: "tcp", hostname: this.#peer, port: this.#tcp.remoteAddr.port },
        () => clearTimeout(headerTimer),
      );
      const watch = (chunk: Uint8Array) => {
        if (!handshake.applicationData && handshake.push(chunk)) clearTimeout(handshakeTimer);
      };
      this.#armIdleTimer(limits.idleTimeoutSeconds * 1000);
      await Promise.all([
        this.#relay(this.#tcp, inner, fromClient, firstBytes, watch),
        // Once the inner server closed, the answer has gone out: the client need not be waited for.
        this.#relay(inner, this.#tcp, new Uint8Array(BUFFER_BYTES), 0, () => {}).then(() => this.abort(CLOSED)),
      ]);
    } catch (error) {
      this.abort(errorMessage(error));
    } finally {
      for (const timer of this.#timers) clearTimeout(timer);
      this.abort(CLOSED);
      if (this.#bridgePort !== undefined) clients.remove(this.#bridgePort);
    }
    return this.#outcome();
  }

  /**
   * Copies `from` to `to` until `from` ends, then half-closes `to`; `pending`
   * bytes already read into `buffer` go first (a full read swaps `buffer` for
   * a larger one). A failure on either side (a reset, or the other loop's
   * abort) ends the whole connection, except writes refused after
   * {@link drain} half-closed the inner side: the client's late bytes have
   * nowhere to go, the answer still does.
   */
  async #relay(
    from: Deno.TcpConn,
    to: Deno.TcpConn,
    buffer: Uint8Array,
    pending: number,
    onChunk: (chunk: Uint8Array) => void,
  ): Promise<void> {
    let size = pending;
    try {
      while (true) {
        if (size > 0) {
          const chunk = buffer.subarray(0, size);
          onChunk(chunk);
          this.#lastActivity = Date.now();
          for (let written = 0; written < size;) written += await to.write(chunk.subarray(written));
          if (size === buffer.length && size < BULK_BUFFER_BYTES) buffer = new Uint8Array(BULK_BUFFER_BYTES);
        }
        const read = await from.read(buffer);
        if (read === null) break;
        size = read;
      }
      await to.closeWrite();
    } catch {
      if (this.#endReason !== SHUTTING_DOWN) this.abort(CLOSED);
    }
  }

  #outcome(): string | undefined {
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
