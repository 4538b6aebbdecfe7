/**
 * Binding a node:net server with a clear error for a taken port, for the
 * device sockets; the guarded HTTPS front words its own bind failure the same.
 */
import type net from "node:net";
import { errorMessage } from "../domain/error_message.ts";

/** The error for a port that cannot be bound, naming the address; `cause` is what the bind threw. */
export function cannotListen(hostname: string, port: number, cause: unknown): Error {
  return new Error(`cannot listen on ${hostname}:${port}: ${errorMessage(cause)}`);
}

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
    throw cannotListen(hostname, port, error);
  });
  server.on("error", onAcceptError);
  return (server.address() as net.AddressInfo).port;
}
