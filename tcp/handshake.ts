/**
 * The first phase of a device connection, before any line: the TLS handshake
 * (tls mode) or the PROXY header (proxy mode). Both run under the listener's
 * handshake timeout, which destroys the TCP socket to end them.
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import type net from "node:net";
import tls from "node:tls";
import { parseProxyHeader } from "./proxy_protocol.ts";
import { errorMessage } from "../domain/error_message.ts";

/** A TLS 1.2+ context; throws if the PEM does not parse or the key does not belong to the (leaf) certificate. */
export function secureContext(certificate: { cert: string; key: string }): tls.SecureContext {
  // createSecureContext accepts anything, and every handshake would fail later: check here instead.
  let matches: boolean;
  try {
    matches = new X509Certificate(certificate.cert).checkPrivateKey(createPrivateKey(certificate.key));
  } catch (error) {
    throw new Error(`invalid TLS certificate or key: ${errorMessage(error)}`);
  }
  if (!matches) throw new Error("invalid TLS certificate or key: the key does not belong to the certificate");
  return tls.createSecureContext({ cert: certificate.cert, key: certificate.key, minVersion: "TLSv1.2" });
}

/** Runs the server side of the TLS handshake on `tcp`; rejects on any failure or if the client leaves first. */
export function tlsHandshake(tcp: net.Socket, context: tls.SecureContext): Promise<tls.TLSSocket> {
  const secure = new tls.TLSSocket(tcp, { isServer: true, secureContext: context });
  // Failures are recorded by the listeners below and in DeviceSocket; an error without any listener would crash
  // the process.
  secure.on("error", () => {});
  return new Promise((resolve, reject) => {
    const stop = watch(secure, {
      secure() {
        stop();
        resolve(secure);
      },
      error(error) {
        stop();
        reject(new Error(`TLS handshake failed: ${errorMessage(error)}`));
      },
      end() {
        stop();
        reject(new Error("TLS handshake failed: the client closed the connection"));
      },
    });
    startTls(secure);
  });
}

/**
 * Does what tls.Server does right after wrapping an accepted socket (`_start()`: start the native TLS handle and
 * restart its reads). Without it Deno's TLSSocket still handshakes and carries data, but every reply waited longer
 * the more connections were open: at 10,000 devices the acknowledgement p50 of a plain echo went from 73 ms to 6 ms
 * with it (bench/README.md, meter fleet).
 */
function startTls(secure: tls.TLSSocket): void {
  (secure as unknown as { _start(): void })._start();
}

/**
 * Reads the PROXY header from `tcp`, leaving the socket paused: `initial`
 * holds the stream bytes that came with the header. The address is the
 * header's source, or `peer` for headers without one (LOCAL, UNKNOWN).
 */
export function readProxyHeader(tcp: net.Socket, peer: string): Promise<{ remote: string; initial: Uint8Array }> {
  // Grown by doubling, so a header dribbled in byte by byte costs linear, not quadratic, copying. Bounded: the
  // parser decides by 107 bytes (v1) or by the length the v2 preamble declares (at most 16 + 65535).
  let buffer = new Uint8Array(256);
  let filled = 0;
  return new Promise((resolve, reject) => {
    const stop = watch(tcp, {
      data(value) {
        const chunk = value as Uint8Array;
        if (filled + chunk.length > buffer.length) {
          const grown = new Uint8Array(Math.max(2 * buffer.length, filled + chunk.length));
          grown.set(buffer.subarray(0, filled));
          buffer = grown;
        }
        buffer.set(chunk, filled);
        filled += chunk.length;
        const result = parseProxyHeader(buffer.subarray(0, filled));
        if (result.status === "incomplete") return;
        stop();
        tcp.pause(); // what follows the header waits for the handler
        if (result.status === "invalid") return reject(new Error(`bad PROXY header: ${result.reason}`));
        resolve({ remote: result.header.source?.address ?? peer, initial: buffer.subarray(result.length, filled) });
      },
      error(error) {
        stop();
        reject(new Error(`connection lost before the PROXY header: ${errorMessage(error)}`));
      },
      end() {
        stop();
        reject(new Error("bad PROXY header: connection closed before the header was complete"));
      },
    });
  });
}

/**
 * Adds `handlers` to `socket` ("close" counts as "end": a destroyed socket
 * emits only "close"); returns the function that removes them again.
 */
function watch(
  socket: net.Socket,
  handlers: { end(): void; error(error: unknown): void } & Record<string, (value?: unknown) => void>,
): () => void {
  const entries = [...Object.entries(handlers), ["close", handlers.end] as const];
  for (const [event, handler] of entries) socket.on(event, handler);
  return () => {
    for (const [event, handler] of entries) socket.off(event, handler);
  };
}
