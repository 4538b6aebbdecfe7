/**
 * How every HTTPS peer (ceiling_cmx.ts, ceiling_ott.ts, ceiling_tus.ts)
 * listens: `Deno.serve` on 127.0.0.1, any free port, with the bench
 * certificate, printing `{"port":N}` once it listens, which is how
 * bench/lib/peer.ts learns the port.
 */

/** Serves `handler` over HTTPS with the PEM files `certFile` and `keyFile`. */
export async function serveHttpsPeer(certFile: string, keyFile: string, handler: Deno.ServeHandler): Promise<void> {
  Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert: await Deno.readTextFile(certFile),
    key: await Deno.readTextFile(keyFile),
    onListen: ({ port }) => console.log(JSON.stringify({ port })),
  }, handler);
}
