/**
 * Starting and stopping fieldgate: data directory, certificate, storage,
 * users, then the HTTPS (and localhost HTTP) listeners. Used by main.ts and
 * by the integration tests, which start real servers on free ports.
 */
import { getLogger } from "@logtape/logtape";
import { join, resolve } from "node:path";
import { createApp } from "./app.ts";
import { LoginBackoff } from "./auth/backoff.ts";
import { UsersFile } from "./auth/users_file.ts";
import { ensureDevCertificate } from "./certs/dev_cert.ts";
import { loadTlsMaterial, type TlsMaterial } from "./certs/tls.ts";
import type { Config } from "./config.ts";
import { FileBlobStore } from "./storage/blob_fs.ts";
import { openRecordStore } from "./storage/open.ts";
import type { RecordStore } from "./storage/types.ts";
import { VERSION } from "./version.ts";

const log = getLogger(["fieldgate"]);

/** A started fieldgate; `close()` drains requests and closes storage. */
export interface RunningServer {
  httpsUrl: string;
  /** Null when plain HTTP is disabled. */
  httpUrl: string | null;
  records: RecordStore;
  close(): Promise<void>;
}

/** Starts every listener of fieldgate according to `config`. */
export async function startFieldgate(config: Config): Promise<RunningServer> {
  const dataDir = resolve(config.dataDir);
  await Deno.mkdir(dataDir, { recursive: true });
  const tls = await loadCertificate(config, dataDir);
  const records = await openRecordStore(config);
  log.info("storage: {backend} at {location}", { backend: records.backend, location: records.location });

  const ottFiles = new FileBlobStore(join(dataDir, "ott"), config.ott.tempSuffix);
  const leftovers = await ottFiles.sweepTempFiles();
  if (leftovers.length > 0) {
    log.warn("removed {count} unfinished temp files from an earlier crash (never acknowledged)", {
      count: leftovers.length,
    });
  }
  const users = new UsersFile(config.auth.usersFile);
  const app = createApp({
    config,
    records,
    ottFiles,
    users,
    backoff: new LoginBackoff(config.auth),
    status: { startedAt: new Date(), version: VERSION, certificate: () => tls },
  });

  const https = serve({
    hostname: config.https.hostname,
    port: config.https.port,
    cert: tls.cert,
    key: tls.key,
  }, app.fetch);
  const http = config.http.enabled
    ? serve({ hostname: config.http.hostname, port: config.http.port }, app.fetch)
    : null;
  const httpsUrl = `https://${urlHost(config.https.hostname)}:${https.addr.port}`;
  const httpUrl = http ? `http://${urlHost(config.http.hostname)}:${http.addr.port}` : null;
  log.info("fieldgate {version} listening on {urls}", {
    version: VERSION,
    urls: [httpsUrl, httpUrl].filter(Boolean).join(" and "),
    httpsPort: https.addr.port,
    httpPort: http?.addr.port ?? null,
  });
  log.info("OTT transmissions are stored under {path}; users file {usersFile}", {
    path: ottFiles.root,
    usersFile: config.auth.usersFile,
  });
  log.info(
    "next: add a logger account with `deno task user add dl001`, then POST to {url}/ottt?stationid=…&action=senddata",
    {
      url: httpsUrl,
    },
  );

  return {
    httpsUrl,
    httpUrl,
    records,
    async close() {
      await Promise.all([https.shutdown(), http?.shutdown()]);
      await records.close();
    },
  };
}

async function loadCertificate(config: Config, dataDir: string): Promise<TlsMaterial> {
  if (config.tls.certFile !== "") return await loadTlsMaterial(config.tls.certFile, config.tls.keyFile);
  const hostnames = config.tls.devHostnames.split(",").map((name) => name.trim()).filter(Boolean);
  const dev = await ensureDevCertificate(join(dataDir, "certs"), hostnames);
  if (dev.generated) {
    log.warn(
      "generated a self-signed development certificate {certFile} for {hostnames}; " +
        "devices will not trust it: set tls.certFile/tls.keyFile for production",
      {
        certFile: dev.certFile,
        hostnames: hostnames.join(", "),
      },
    );
  }
  return await loadTlsMaterial(dev.certFile, dev.keyFile);
}

/** Binds a listener; Deno.serve binds synchronously, so a taken port fails here with a clear message. */
function serve(
  options: { hostname: string; port: number; cert?: string; key?: string },
  handler: Deno.ServeHandler,
): Deno.HttpServer<Deno.NetAddr> {
  try {
    return Deno.serve({ ...options, onListen: () => {} }, handler);
  } catch (error) {
    throw new Error(`cannot listen on ${options.hostname}:${options.port}: ${(error as Error).message}`);
  }
}

function urlHost(hostname: string): string {
  if (hostname === "0.0.0.0") return "localhost";
  return hostname.includes(":") ? `[${hostname}]` : hostname;
}
