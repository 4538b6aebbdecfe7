/**
 * A TCP relay in front of a server whose connections a test can cut all at
 * once, as a dropped network link does: both sides see their sockets die
 * mid-stream. New connections are relayed again afterwards.
 */

/** A running relay on 127.0.0.1. */
export interface CutProxy {
  port: number;
  /** Closes every relayed connection now (both the client and the server side). */
  cut(): void;
  /** Stops listening and cuts what is still open. */
  close(): void;
}

/** Relays 127.0.0.1:<new port> to `target`. */
export function startCutProxy(target: { hostname: string; port: number }): CutProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  const closeQuietly = (conn: Deno.Conn) => {
    open.delete(conn);
    try {
      conn.close();
    } catch {
      // Already closed by the other direction or by cut().
    }
  };
  const relay = async (client: Deno.Conn) => {
    const upstream = await Deno.connect(target).catch(() => null);
    if (upstream === null) return closeQuietly(client);
    open.add(client).add(upstream);
    await Promise.allSettled([
      client.readable.pipeTo(upstream.writable),
      upstream.readable.pipeTo(client.writable),
    ]);
    closeQuietly(client);
    closeQuietly(upstream);
  };
  (async () => {
    for await (const conn of listener) relay(conn);
  })().catch(() => {});
  const cut = () => [...open].forEach(closeQuietly);
  return {
    port: (listener.addr as Deno.NetAddr).port,
    cut,
    close() {
      listener.close();
      cut();
    },
  };
}
