/**
 * The public HTTPS listener in either of its two forms: the guarded front
 * (https/front.ts) passing connections to the app's Deno.serve (TLS) on a
 * private loopback port, the default; or that Deno.serve on the public port
 * directly (`https.guard = false`), for deployments behind a proxy that
 * already bounds slow clients.
 */
import type { Config } from "../config.ts";
import { type AppHandler, BridgedClients } from "./bridged_clients.ts";
import { startHttpsFront } from "./front.ts";

/** A running HTTPS listener. */
export interface HttpsListener {
  /** The port actually bound. */
  readonly port: number;
  /** Serves new connections with this certificate, without a gap; open connections keep theirs. */
  reloadCertificate(tls: { cert: string; key: string }): Promise<void>;
  /** Stops accepting, lets requests in flight finish, then closes every connection. */
  shutdown(): Promise<void>;
}

/** Starts the HTTPS listener `settings.guard` asks for; throws if the port is taken. */
export async function listenHttps(
  settings: Config["https"],
  tls: { cert: string; key: string },
  handler: AppHandler,
): Promise<HttpsListener> {
  return settings.guard ? await listenGuarded(settings, tls, handler) : listenDirect(settings, tls, handler);
}

async function listenGuarded(
  settings: Config["https"],
  tls: { cert: string; key: string },
  handler: AppHandler,
): Promise<HttpsListener> {
  const clients = new BridgedClients();
  const startInner = (certificate: { cert: string; key: string }) =>
    serve({ hostname: "127.0.0.1", port: 0, cert: certificate.cert, key: certificate.key }, clients.handler(handler));
  // More than one only while a renewed certificate takes over: the old server finishes its connections first.
  const inners = new Set([startInner(tls)]);
  let current = [...inners][0];
  try {
    const front = startHttpsFront({
      hostname: settings.hostname,
      port: settings.port,
      limits: settings,
      innerPort: current.addr.port,
      clients,
    });
    return {
      port: front.port,
      reloadCertificate(renewed) {
        const previous = current;
        current = startInner(renewed);
        inners.add(current);
        front.retarget(current.addr.port);
        front.released(previous.addr.port).then(async () => {
          await previous.shutdown();
          inners.delete(previous);
        });
        return Promise.resolve();
      },
      async shutdown() {
        await front.close();
        await Promise.all([...inners].map((inner) => inner.shutdown()));
      },
    };
  } catch (error) {
    await current.shutdown();
    throw error;
  }
}

function listenDirect(
  settings: Config["https"],
  tls: { cert: string; key: string },
  handler: AppHandler,
): HttpsListener {
  // SO_REUSEPORT lets a renewed certificate take over the port without a gap, but would also let a
  // second fieldgate share it silently: refuse a port that is already taken first.
  assertPortFree(settings.hostname, settings.port);
  const options = { hostname: settings.hostname, port: settings.port, reusePort: true };
  let server = serve({ ...options, cert: tls.cert, key: tls.key }, handler);
  return {
    port: server.addr.port,
    async reloadCertificate(renewed) {
      // New listener on the same port first, then drain the old one.
      const previous = server;
      server = serve({ ...options, port: previous.addr.port, cert: renewed.cert, key: renewed.key }, handler);
      await previous.shutdown();
    },
    shutdown: () => server.shutdown(),
  };
}

/** Binds a listener; Deno.serve binds synchronously, so a taken port fails here with a clear message. */
export function serve(
  options: { hostname: string; port: number; cert?: string; key?: string; reusePort?: boolean },
  handler: AppHandler,
): Deno.HttpServer<Deno.NetAddr> {
  try {
    return Deno.serve({ ...options, onListen: () => {} }, handler);
  } catch (error) {
    throw new Error(`cannot listen on ${options.hostname}:${options.port}: ${(error as Error).message}`);
  }
}

/** Throws the usual "address in use" error when another process listens on the port. */
function assertPortFree(hostname: string, port: number): void {
  if (port === 0) return;
  try {
    Deno.listen({ hostname, port }).close();
  } catch (error) {
    throw new Error(`cannot listen on ${hostname}:${port}: ${(error as Error).message}`);
  }
}
