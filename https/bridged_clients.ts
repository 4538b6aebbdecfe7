/**
 * The real client behind each connection the guarded HTTPS front bridges to
 * the inner HTTPS server, and its requests as the app sees them. The inner
 * server sees every bridged connection come from 127.0.0.1; the bridge
 * socket's local port (the peer port the inner server sees) identifies the
 * client while that connection is open.
 */

interface Bridge {
  client: Deno.NetAddr;
  /** Requests the app has started on this connection and not finished answering. */
  requests: number;
  /** Called once `requests` drops to 0. */
  waiters: (() => void)[];
  /** Called when a request arrives: its headers are complete. */
  onRequest: () => void;
}

/** The app as Deno.serve calls it. */
export type AppHandler = (
  request: Request,
  info: Deno.ServeHandlerInfo<Deno.NetAddr>,
) => Response | Promise<Response>;

/** Bridge connections by the bridge socket's local port. */
export class BridgedClients {
  readonly #byBridgePort = new Map<number, Bridge>();

  /**
   * Records that the bridge connection from local port `bridgePort` carries
   * `client`'s requests; `onRequest` runs as each one reaches the app.
   */
  add(bridgePort: number, client: Deno.NetAddr, onRequest: () => void): void {
    this.#byBridgePort.set(bridgePort, { client, requests: 0, waiters: [], onRequest });
  }

  /** Forgets a bridge connection once it closed (its port may be reused by the next one). */
  remove(bridgePort: number): void {
    const bridge = this.#byBridgePort.get(bridgePort);
    this.#byBridgePort.delete(bridgePort);
    for (const wake of bridge?.waiters.splice(0) ?? []) wake();
  }

  /** Resolves once no request is in flight on the bridge connection (at once if none is, or it is gone). */
  idle(bridgePort: number): Promise<void> {
    const bridge = this.#byBridgePort.get(bridgePort);
    if (bridge === undefined || bridge.requests === 0) return Promise.resolve();
    return new Promise((resolve) => bridge.waiters.push(resolve));
  }

  /**
   * Wraps the inner server's handler so that `info.remoteAddr` (what Hono's
   * getConnInfo reads) is the real client of a bridged connection, reports
   * and counts its requests; other connections keep their own address.
   */
  handler(fetch: AppHandler): AppHandler {
    return (request, info) => {
      const bridge = this.#byBridgePort.get(info.remoteAddr.port);
      if (bridge === undefined) return fetch(request, info);
      bridge.requests++;
      bridge.onRequest();
      // Settles once the answer is sent or failed; rejection is the client's problem, not ours.
      info.completed.catch(() => {}).finally(() => {
        if (--bridge.requests === 0) { for (const wake of bridge.waiters.splice(0)) wake(); }
      });
      return fetch(request, { remoteAddr: bridge.client, completed: info.completed });
    };
  }
}
