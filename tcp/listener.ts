/**
 * The device-socket listener the meter and confo handlers run on: TLS
 * (rustls, 1.2+) or plain TCP behind a TLS terminator that sends a PROXY
 * header. Every connection is isolated: whatever one peer does (garbage, a
 * failed handshake, a reset, a handler that throws) ends that connection with
 * one log line and nothing else.
 *
 * Built on node:net + node:tls rather than Deno.listenTls: a Deno TlsConn
 * closed before its handshake completes keeps its socket open until the client
 * moves (Deno finishes the handshake in the background), so neither the
 * handshake timeout nor the connection caps could really close anything. Here
 * the TCP socket is ours: TLS starts only after the caps are checked, and
 * destroying the socket closes it at once.
 */
import { getLogger } from "@logtape/logtape";
import net from "node:net";
import type tls from "node:tls";
import type { TcpLimits } from "../config.ts";
import { bindServer } from "./bind.ts";
import { clientIp, PerIpConnections, settled } from "./client_limits.ts";
import { type DeviceConnection, DeviceSocket } from "./connection.ts";
import { readProxyHeader, secureContext, tlsHandshake } from "./handshake.ts";
import { errorMessage } from "../domain/error_message.ts";

export type { DeviceConnection } from "./connection.ts";

/** Serves one connection; may throw (the connection is then closed and the error logged). */
export type ConnectionHandler = (connection: DeviceConnection) => Promise<void>;

/** Where and how to listen. */
export interface DeviceListenerOptions {
  /** Listener name for logs, e.g. "meter" or "confo". */
  name: string;
  hostname: string;
  /** 0 = any free port (see {@link DeviceListener.port}). */
  port: number;
  /** "tls": TLS ends here; "proxy": plain TCP from a terminator, each connection starting with a PROXY header. */
  mode: "tls" | "proxy";
  /** Timeouts are in seconds and may be fractional. */
  limits: TcpLimits;
  /** PEM chain (leaf first) and key; ignored in proxy mode. */
  tls: { cert: string; key: string };
}

/** A running listener. */
export interface DeviceListener {
  /** The port actually bound. */
  readonly port: number;
  /** Serves NEW connections with this certificate; connected devices keep theirs. No-op in proxy mode. */
  reloadCertificate(tls: { cert: string; key: string }): Promise<void>;
  /**
   * Stops accepting; ends idle connections at once and lets the others finish
   * the line in hand, for up to `graceSeconds`; then closes what is left.
   */
  close(graceSeconds?: number): Promise<void>;
}

const log = getLogger(["fieldgate", "tcp"]);
// After the grace period and a forced close, how long handlers get to notice before close() returns anyway.
const FORCED_CLOSE_WAIT_MS = 1000;

/** Starts listening; resolves once the port is bound, rejects if it cannot be (port taken, bad certificate). */
export async function listenDevices(
  options: DeviceListenerOptions,
  handler: ConnectionHandler,
): Promise<DeviceListener> {
  const listener = new Listener(options, handler);
  await listener.listen();
  return listener;
}

interface Outcome {
  level: "info" | "warning" | "error";
  text: string;
}

class Listener implements DeviceListener {
  port = 0;
  // allowHalfOpen: replies still go out after the device has half-closed.
  readonly #server = net.createServer({ allowHalfOpen: true });
  readonly #options: DeviceListenerOptions;
  readonly #handler: ConnectionHandler;
  readonly #sessions = new Map<DeviceSocket, Promise<void>>();
  readonly #perIp: PerIpConnections;
  #context?: tls.SecureContext;
  #closing?: Promise<void>;

  constructor(options: DeviceListenerOptions, handler: ConnectionHandler) {
    this.#options = options;
    this.#handler = handler;
    this.#perIp = new PerIpConnections(options.limits.maxConnectionsPerIp);
    if (options.mode === "tls") this.#context = secureContext(options.tls);
    this.#server.on("connection", (tcp: net.Socket) => this.#serve(tcp));
  }

  async listen(): Promise<void> {
    const { hostname, port, name } = this.#options;
    this.port = await bindServer(
      this.#server,
      hostname,
      port,
      (error) => log.warn("{name}: accept failed: {error}", { name, error: String(error) }),
    );
  }

  reloadCertificate(certificate: { cert: string; key: string }): Promise<void> {
    if (this.#options.mode !== "tls") return Promise.resolve();
    try {
      this.#context = secureContext(certificate);
    } catch (error) {
      return Promise.reject(error);
    }
    log.info("{name}: new certificate in use for new connections on port {port}", {
      name: this.#options.name,
      port: this.port,
    });
    return Promise.resolve();
  }

  close(graceSeconds = 10): Promise<void> {
    this.#closing ??= this.#shutdown(graceSeconds * 1000);
    return this.#closing;
  }

  async #shutdown(graceMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sessions.keys()) socket.drain();
    if (!await settled([...this.#sessions.values()], graceMs)) {
      for (const socket of this.#sessions.keys()) socket.abort("server shutting down (grace period over)");
      if (!await settled([...this.#sessions.values()], FORCED_CLOSE_WAIT_MS)) {
        log.error("{name}: {count} handlers still running after their connections were closed", {
          name: this.#options.name,
          count: this.#sessions.size,
        });
      }
    }
    await settled([closed], FORCED_CLOSE_WAIT_MS);
  }

  #serve(tcp: net.Socket): void {
    const { limits, mode } = this.#options;
    const peer = clientIp(tcp.remoteAddress);
    const socket = new DeviceSocket(tcp, { peer, ...limits });
    const startedAt = performance.now();
    const refuse = (text: string) => {
      socket.close();
      this.#log(socket, peer, startedAt, { level: "warning", text });
    };
    // Over a limit: close before any TLS work (and in TLS mode there is no way to send a line yet anyway).
    if (this.#sessions.size >= limits.maxConnections) {
      return refuse(`refused: ${this.#sessions.size} connections open (maxConnections)`);
    }
    if (mode === "tls" && !this.#perIp.claim(peer)) return refuse(`refused: too many connections from ${peer}`);
    tcp.setNoDelay(true); // a "Thank you" must not wait for Nagle
    const session = this.#session(socket, tcp, peer, startedAt)
      // #session handles every failure it knows of; this keeps a bug in it from ever reaching the process.
      .catch((error) => {
        socket.close();
        log.error("{name} {remote}: internal error: {error}", {
          name: this.#options.name,
          remote: peer,
          error: String(error),
        });
      })
      .finally(() => this.#sessions.delete(socket));
    this.#sessions.set(socket, session);
  }

  async #session(socket: DeviceSocket, tcp: net.Socket, peer: string, startedAt: number): Promise<void> {
    const { limits, mode } = this.#options;
    let claimed = mode === "tls" ? peer : undefined;
    let outcome: Outcome;
    try {
      const timer = setTimeout(() => socket.abort("handshake timeout"), limits.handshakeTimeoutSeconds * 1000);
      let start: { stream: net.Socket; remote: string; initial: Uint8Array };
      try {
        start = mode === "tls"
          ? { stream: await tlsHandshake(tcp, this.#context!), remote: peer, initial: new Uint8Array(0) }
          : { stream: tcp, ...await readProxyHeader(tcp, peer) };
      } finally {
        clearTimeout(timer);
      }
      socket.remoteAddr = start.remote;
      if (mode === "proxy") {
        if (!this.#perIp.claim(start.remote)) throw new Error(`refused: too many connections from ${start.remote}`);
        claimed = start.remote;
      }
      socket.start(start.stream, start.initial);
      outcome = await this.#runHandler(socket);
    } catch (error) {
      // Only the handshake / PROXY header phase throws: the handler's errors are an outcome of #runHandler.
      const text = socket.endReason ?? errorMessage(error);
      outcome = { level: text === "server shutting down" ? "info" : "warning", text };
    }
    try {
      await socket.finish();
    } finally {
      if (claimed !== undefined) this.#perIp.release(claimed);
    }
    this.#log(socket, peer, startedAt, outcome);
  }

  async #runHandler(socket: DeviceSocket): Promise<Outcome> {
    let thrown: { error: unknown } | undefined;
    try {
      await this.#handler(socket);
    } catch (error) {
      thrown = { error };
    }
    if (socket.endReason !== undefined) return { level: "warning", text: socket.endReason };
    if (socket.lineTooLong) return { level: "warning", text: `line longer than ${socket.maxLineBytes} bytes` };
    if (socket.ioError !== undefined) {
      return { level: "warning", text: `connection lost: ${errorMessage(socket.ioError)}` };
    }
    if (thrown) return { level: "error", text: `handler failed: ${errorMessage(thrown.error)}` };
    if (socket.draining) return { level: "info", text: "server shutting down" };
    return { level: "info", text: socket.eof ? "closed by client" : "closed by handler" };
  }

  #log(socket: DeviceSocket, peer: string, startedAt: number, outcome: Outcome): void {
    const properties = {
      name: this.#options.name,
      remote: socket.remoteAddr,
      peer,
      durationMs: Math.round(performance.now() - startedAt),
      lines: socket.lineCount,
      outcome: outcome.text,
    };
    const text = "{name} {remote}: {outcome} after {durationMs} ms, {lines} lines";
    if (outcome.level === "info") log.info(text, properties);
    else if (outcome.level === "warning") log.warn(text, properties);
    else log.error(text, properties);
  }
}
