/**
 * The guarded HTTPS front. Deno.serve with TLS has no handshake or header
 * timeout: a client that connects and stays silent (or trickles a TLS record)
 * would hold a file descriptor for ever. So the public HTTPS port is a plain
 * TCP listener of ours, with the same kind of limits as the device sockets
 * (tcp/listener.ts): a cap on connections in all and per client IP, checked
 * before anything else, a handshake timeout, a deadline for the first
 * request's headers and an idle timeout. Each connection's bytes pass
 * unchanged to the app's Deno.serve, which ends TLS itself (rustls, HTTP/2)
 * on a private loopback port.
 *
 * Not TLS termination here: Deno's node:tls socket ignores pause(), so an
 * upload faster than the app reads piles up in memory (a 100 MiB PATCH grew
 * the process by over 200 MiB). Plain sockets hold back (https/pass_through.ts).
 */
import { getLogger } from "@logtape/logtape";
import type { HttpsLimits } from "../config.ts";
import { cannotListen } from "../tcp/bind.ts";
import { clientIp, PerIpConnections, settled } from "../tcp/client_limits.ts";
import type { BridgedClients } from "./bridged_clients.ts";
import { PassThrough } from "./pass_through.ts";

/** Where to listen and where to pass connections to. */
export interface HttpsFrontOptions {
  hostname: string;
  /** 0 = any free port (see {@link HttpsFront.port}). */
  port: number;
  limits: HttpsLimits;
  /** Loopback port of the inner HTTPS server for new connections. */
  innerPort: number;
  /** Where the real client of each bridge connection is recorded for the inner server. */
  clients: BridgedClients;
}

/** A running front. */
export interface HttpsFront {
  /** The port actually bound. */
  readonly port: number;
  /** New connections go to the inner server on `innerPort` from now on; open ones stay where they are. */
  retarget(innerPort: number): void;
  /** Resolves once no open connection goes to the inner server on `innerPort`. */
  released(innerPort: number): Promise<void>;
  /**
   * Stops accepting, closes connections with no request in flight, and the
   * others once their answer is sent; after `graceSeconds`, whatever is left.
   * Shut the inner server down only afterwards: Deno.serve's shutdown cuts an
   * HTTP/1.1 request body that is still arriving.
   */
  close(graceSeconds?: number): Promise<void>;
}

const FORCED_CLOSE_WAIT_MS = 1000;
/** After a failed accept (e.g. out of file descriptors), so the loop does not spin. */
const ACCEPT_RETRY_MS = 100;
const log = getLogger(["fieldgate", "https"]);

/** Binds the public HTTPS port; throws if it cannot (port taken). */
export function startHttpsFront(options: HttpsFrontOptions): HttpsFront {
  return new Front(options);
}

class Front implements HttpsFront {
  readonly port: number;
  readonly #listener: Deno.TcpListener;
  readonly #accepting: Promise<void>;
  readonly #options: HttpsFrontOptions;
  readonly #perIp: PerIpConnections;
  readonly #sessions = new Map<PassThrough, Promise<void>>();
  #innerPort: number;
  #released: { innerPort: number; resolve: () => void }[] = [];
  #closing?: Promise<void>;

  constructor(options: HttpsFrontOptions) {
    this.#options = options;
    this.#innerPort = options.innerPort;
    this.#perIp = new PerIpConnections(options.limits.maxConnectionsPerIp);
    const { hostname, port } = options;
    try {
      this.#listener = Deno.listen({ hostname, port });
    } catch (error) {
      throw cannotListen(hostname, port, error);
    }
    this.port = this.#listener.addr.port;
    this.#accepting = this.#acceptLoop();
  }

  retarget(innerPort: number): void {
    this.#innerPort = innerPort;
  }

  released(innerPort: number): Promise<void> {
    return new Promise((resolve) => {
      this.#released.push({ innerPort, resolve });
      this.#wakeReleased();
    });
  }

  close(graceSeconds = 10): Promise<void> {
    this.#closing ??= this.#shutdown(graceSeconds * 1000);
    return this.#closing;
  }

  async #shutdown(graceMs: number): Promise<void> {
    this.#listener.close();
    for (const connection of this.#sessions.keys()) connection.drain();
    if (!await settled([...this.#sessions.values()], graceMs)) {
      for (const connection of this.#sessions.keys()) connection.abort("server shutting down (grace period over)");
      await settled([...this.#sessions.values()], FORCED_CLOSE_WAIT_MS);
    }
    await this.#accepting;
  }

  async #acceptLoop(): Promise<void> {
    while (this.#closing === undefined) {
      try {
        this.#accept(await this.#listener.accept());
      } catch (error) {
        if (this.#closing !== undefined) return;
        log.warn("https: accept failed: {error}", { error: String(error) });
        await new Promise((resolve) => setTimeout(resolve, ACCEPT_RETRY_MS));
      }
    }
  }

  #accept(tcp: Deno.TcpConn): void {
    const peer = clientIp(tcp.remoteAddr.hostname);
    const refuse = (reason: string) => {
      tcp.close();
      log.warn("https {remote}: refused: {reason}", { remote: peer, reason });
    };
    // Over a limit: close before anything else.
    if (this.#sessions.size >= this.#options.limits.maxConnections) {
      return refuse(`${this.#sessions.size} connections open (https.maxConnections)`);
    }
    if (!this.#perIp.claim(peer)) return refuse("too many connections from this address (https.maxConnectionsPerIp)");
    const connection = new PassThrough(tcp, peer, this.#innerPort, this.#options.limits, this.#options.clients);
    const done = connection.run()
      .then((outcome) => {
        if (outcome === undefined) return;
        log.warn("https {remote}: {outcome} after {durationMs} ms", {
          remote: peer,
          outcome,
          durationMs: Math.round(performance.now() - connection.startedAt),
        });
      })
      .finally(() => {
        this.#perIp.release(peer);
        this.#sessions.delete(connection);
        this.#wakeReleased();
      });
    this.#sessions.set(connection, done);
  }

  #wakeReleased(): void {
    const inUse = new Set([...this.#sessions.keys()].map((connection) => connection.innerPort));
    const waiting = this.#released;
    this.#released = waiting.filter(({ innerPort }) => inUse.has(innerPort));
    for (const { innerPort, resolve } of waiting) if (!inUse.has(innerPort)) resolve();
  }
}
