/**
 * Binding a node:net server with a clear error for a taken port, for the
 * device sockets.
 */
import type net from "node:net";

/**
 * Listens on `hostname:port` and resolves with the port bound; a failure
 * (port taken, address not ours) rejects with `cannot listen on …`. Later
 * accept errors (e.g. out of file descriptors) go to `onAcceptError` while
 * the server keeps listening.
 */
export async function bindServer(
  server: net.Server,
  hostname: string,
  port: number,
  onAcceptError: (error: Error) => void,
): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: hostname, port }, () => {
      server.off("error", reject);
      resolve();
    });
  }).catch((error) => {
    throw new Error(`cannot listen on ${hostname}:${port}: ${error instanceof Error ? error.message : String(error)}`);
  });
  server.on("error", onAcceptError);
  return (server.address() as net.AddressInfo).port;
}
