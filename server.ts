/**
 * Starting and stopping fieldgate: data directory, certificate, storage,
 * users, then the HTTPS (and localhost HTTP) listeners and the device sockets.
 * Used by main.ts and by the integration tests, which start real servers on
 * free ports.
 */
import { getLogger } from "@logtape/logtape";
import { join, resolve } from "node:path";
import { createApp } from "./app.ts";
import { LoginBackoff } from "./auth/backoff.ts";
import { UsersFile } from "./auth/users_file.ts";
import { acmeSettings, ensureAcmeCertificateFiles } from "./certs/acme.ts";
import { ensureDevCertificate } from "./certs/dev_cert.ts";
import { watchCertificate } from "./certs/reloader.ts";
import { loadTlsMaterial } from "./certs/tls.ts";
import { startCertificateUpkeep, type UpkeepStatus } from "./certs/upkeep.ts";
import type { Config, TcpListenerConfig } from "./config.ts";
import { FileBlobStore } from "./storage/blob_fs.ts";
import { MaintenanceFile } from "./storage/maintenance_file.ts";
import { openRecordStore } from "./storage/open.ts";
import { scheduleUploadCleanup } from "./storage/tus_cleanup.ts";
import { restartRequest, tusUploads, uploadHooks } from "./routes/tus_setup.ts";
import type { RecordStore } from "./storage/types.ts";
import { confoHandler } from "./tcp/confo.ts";
import { type ConnectionHandler, listenDevices } from "./tcp/listener.ts";
import { meterHandler } from "./tcp/meter.ts";
import { ReadingFeed } from "./live/reading_feed.ts";
import { startMqttPublisher } from "./live/mqtt_publisher.ts";
import { VERSION } from "./version.ts";
import { openMailer } from "./mail/mailer.ts";
import { FirstAdminLink } from "./auth/first_admin.ts";
import { countConnections } from "./metrics/device_connections.ts";
import { listenHttps, serve } from "./https/listen.ts";

const log = getLogger(["fieldgate"]);

/** A started fieldgate; `close()` drains requests and connections, then closes storage. */
export interface RunningServer {
  httpsUrl: string;
  /** Null when plain HTTP is disabled. */
  httpUrl: string | null;
  /** Actual ports of the device sockets; null when disabled. */
  meterPort: number | null;
  confoPort: number | null;
  records: RecordStore;
  /** Renewal state of the served certificate (ACME schedule, failures). */
  certificateUpkeep(): UpkeepStatus;
  close(): Promise<void>;
}

/** Starts every listener of fieldgate according to `config`. */
export async function startFieldgate(config: Config): Promise<RunningServer> {
  const dataDir = resolve(config.dataDir);
  await Deno.mkdir(dataDir, { recursive: true });
  const certificateFiles = await certificatePaths(config, dataDir);
  let tls = await loadTlsMaterial(certificateFiles.certFile, certificateFiles.keyFile);
  const records = await openRecordStore(config);
  log.info("storage: {backend} at {location}", { backend: records.backend, location: records.location });

  const ottFiles = new FileBlobStore(join(dataDir, "ott"), config.ott.tempSuffix);
  const leftovers = await ottFiles.sweepTempFiles();
  if (leftovers.length > 0) {
    log.warn("removed {count} unfinished temp files from an earlier crash (never acknowledged)", {
      count: leftovers.length,
    });
  }
  const mailer = await openMailer(config.mail);
  const firstAdmin = new FirstAdminLink();
  // Base of the links in emails; called once httpsUrl is set. Never the request's Host: a forged one could poison links.
  const publicUrl = () => (config.accounts.publicUrl || httpsUrl).replace(/\/+$/, "");
  const uploads = tusUploads(records, join(dataDir, "uploads"), uploadHooks(config, records, mailer, publicUrl));
  // Finished uploads a crash left in plaintext (storage/tus_at_rest.ts): sealed again, then announced.
  for (const upload of await uploads.atRest.recover()) {
    uploads.sealer.add(upload, (stored) => uploads.hooks.postFinish(upload, stored, restartRequest(upload)));
  }
  const uploadCleanup = scheduleUploadCleanup(
    records.dropoff,
    uploads.files,
    uploads.locks,
    config.tus.cleanupIntervalSeconds,
  );
  const users = new UsersFile(config.auth.usersFile);
  const readingFeed = new ReadingFeed();
  const mqtt = config.meter.mqttUrl ? await startMqttPublisher(config.meter.mqttUrl, readingFeed) : null;
  const app = createApp({
    config,
    records,
    ottFiles,
    uploads,
    users,
    backoff: new LoginBackoff(config.auth),
    readingFeed,
    maintenance: new MaintenanceFile(dataDir),
    status: { startedAt: new Date(), version: VERSION, certificate: () => tls },
    mailer,
    firstAdmin,
    publicUrl,
  });

  const https = await listenHttps(config.https, tls, app.fetch);
  const http = config.http.enabled
    ? serve({ hostname: config.http.hostname, port: config.http.port }, app.fetch)
    : null;
  const httpsUrl = `https://${urlHost(config.https.hostname)}:${https.port}`;
  const httpUrl = http ? `http://${urlHost(config.http.hostname)}:${http.addr.port}` : null;

  const devices = async (name: string, listener: TcpListenerConfig, handler: ConnectionHandler) =>
    listener.enabled
      ? await listenDevices({ name, ...listener, limits: config.tcp, tls }, countConnections(name, handler))
      : null;
  const meter = await devices(
    "meter",
    config.meter,
    meterHandler({
      store: records.meters,
      unknownPub: config.meter.unknownPub,
      onStored: (reading) => readingFeed.publish(reading),
    }),
  );
  const confo = await devices("confo", config.confo, confoHandler(records.confo));

  const watch = watchCertificate(certificateFiles, config.tls.reloadCheckSeconds * 1000, async (renewed) => {
    await Promise.all([
      https.reloadCertificate(renewed),
      meter?.reloadCertificate(renewed),
      confo?.reloadCertificate(renewed),
    ]);
    tls = renewed;
  });
  // After the listeners: an ACME order needs the plain-HTTP listener to answer the CA's challenge.
  const upkeep = startCertificateUpkeep({
    files: certificateFiles,
    acme: acmeSettings(config),
    retrySeconds: config.acme.retrySeconds,
  });

  log.info("fieldgate {version} listening on {urls}", {
    version: VERSION,
    urls: [httpsUrl, httpUrl].filter(Boolean).join(" and "),
    httpsPort: https.port,
    httpPort: http?.addr.port ?? null,
    meterPort: meter?.port ?? null,
    confoPort: confo?.port ?? null,
  });
  log.info(
    "OTT transmissions are stored under {path}; users file {usersFile}; meter socket {meter}, confo socket {confo}",
    {
      path: ottFiles.root,
      usersFile: config.auth.usersFile,
      meter: meter ? `${config.meter.mode} ${config.meter.hostname}:${meter.port}` : "off",
      confo: confo ? `${config.confo.mode} ${config.confo.hostname}:${confo.port}` : "off",
    },
  );
  if ((await users.list()).length === 0) {
    log.warn(
      "no users yet: add a logger account with `deno task user add dl001`, then POST to {url}/ottt?stationid=…&action=senddata",
      { url: httpsUrl },
    );
  }
  log.info("emails go to {mailer}", { mailer: mailer.description });
  if (!await records.accounts.adminExists()) {
    // The link holds a secret: it is printed once, works once, and only until an admin exists.
    log.warn(
      "no admin account yet: open {setupUrl} once to create it, or run `deno task user account add EMAIL NAME --admin`",
      { setupUrl: `${publicUrl()}/account/setup?token=${firstAdmin.issue()}` },
    );
  }

  return {
    httpsUrl,
    httpUrl,
    meterPort: meter?.port ?? null,
    confoPort: confo?.port ?? null,
    records,
    certificateUpkeep: () => upkeep.status(),
    async close() {
      watch.stop();
      await upkeep.stop();
      await Promise.all([https.shutdown(), http?.shutdown(), meter?.close(), confo?.close(), mqtt?.close()]);
      await Promise.all([uploadCleanup.stop(), uploads.sealer.close()]);
      await records.close();
      ottFiles.close();
      mailer.close();
    },
  };
}

/** The configured certificate, or the dev certificate (generated when needed). */
async function certificatePaths(config: Config, dataDir: string): Promise<{ certFile: string; keyFile: string }> {
  if (config.tls.certFile !== "") return { certFile: config.tls.certFile, keyFile: config.tls.keyFile };
  const hostnames = config.tls.devHostnames.split(",").map((name) => name.trim()).filter(Boolean);
  if (config.acme.enabled) return await ensureAcmeCertificateFiles(dataDir, hostnames);
  const dev = await ensureDevCertificate(join(dataDir, "certs"), hostnames);
  if (dev.generated) {
    log.warn(
      "generated a self-signed development certificate {certFile} for {hostnames}; " +
        "devices will not trust it: set tls.certFile/tls.keyFile for production",
      { certFile: dev.certFile, hostnames: hostnames.join(", ") },
    );
  }
  return dev;
}

function urlHost(hostname: string): string {
  if (hostname === "0.0.0.0") return "localhost";
  return hostname.includes(":") ? `[${hostname}]` : hostname;
}
