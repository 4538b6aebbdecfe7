/** Open device connections per socket, for the dashboard and `/metrics`. */
import type { ConnectionHandler } from "../tcp/listener.ts";

const open = new Map<string, number>();
const total = new Map<string, number>();

/** Wraps a socket's handler so its connections are counted under `socket` while they are served. */
export function countConnections(socket: string, handler: ConnectionHandler): ConnectionHandler {
  open.set(socket, open.get(socket) ?? 0);
  total.set(socket, total.get(socket) ?? 0);
  return async (connection) => {
    open.set(socket, open.get(socket)! + 1);
    total.set(socket, total.get(socket)! + 1);
    try {
      await handler(connection);
    } finally {
      open.set(socket, open.get(socket)! - 1);
    }
  };
}

/** Per socket: connections open now and served since start. */
export function deviceConnections(): { socket: string; open: number; total: number }[] {
  return [...open.keys()].sort().map((socket) => ({ socket, open: open.get(socket)!, total: total.get(socket)! }));
}
