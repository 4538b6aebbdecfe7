/** The peer address of a request, for logs and stored rows. */
import type { Context } from "hono";
import { getConnInfo } from "hono/deno";

/** The remote IP of the connection, or `unknown` when the server did not provide it (e.g. in `app.request`). */
export function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    return "unknown";
  }
}
