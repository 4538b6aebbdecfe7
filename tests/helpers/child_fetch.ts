/** fetch against a child fieldgate (spawnServer), trusting the dev certificate in its data dir. */
import { join } from "node:path";
import type { ServerFetch } from "./dropoff.ts";
import type { ChildServer } from "./server.ts";

/** A fetch for `server` and the HTTP client to close afterwards. */
export async function childFetch(server: ChildServer, dataDir: string): Promise<{ fetch: ServerFetch; close(): void }> {
  const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(join(dataDir, "certs", "dev-cert.pem"))] });
  return {
    fetch: (path, init) => fetch(`${server.httpsUrl}${path}`, { ...init, client } as RequestInit),
    close: () => client.close(),
  };
}
