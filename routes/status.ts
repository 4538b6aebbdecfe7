/**
 * `GET /ping` (public liveness) and `GET /server-status` (authenticated):
 * one look tells whether fieldgate is healthy — uptime, database, disk,
 * certificate, and what every station last sent. JSON for tools, HTML for people.
 */
import { Hono, type MiddlewareHandler } from "hono";
import { statfs } from "node:fs/promises";
import type { MeterSummary, RecordStore, StationSummary, StoredOttAlarm } from "../storage/types.ts";
import { renderStatusPage } from "./status_page.ts";
import { type MaintenancePhase, maintenancePhase, type MaintenanceWindow } from "../domain/maintenance.ts";

/** Where the status numbers come from. */
export interface StatusSources {
  records: RecordStore;
  dataDir: string;
  startedAt: Date;
  version: string;
  /** The maintenance window in force, if any. */
  maintenance: () => Promise<MaintenanceWindow | null>;
  /** The serving certificate, read at call time so a reload shows at once. */
  certificate: () => { subject: string; notAfter: Date };
}

/** The status report; also the JSON body of `/server-status`. */
export interface StatusReport {
  healthy: boolean;
  version: string;
  startedAt: string;
  uptimeSeconds: number;
  storage: { backend: string; location: string; reachable: boolean; error: string | null };
  disk: { path: string; freeBytes: number; totalBytes: number };
  certificate: { subject: string; notAfter: string; daysLeft: number };
  maintenance: { phase: MaintenancePhase; startsAt: string; message: string } | null;
  stations: (Omit<StationSummary, "lastSeen"> & { lastSeen: string })[];
  meters: {
    pubId: number;
    deviceName: string | null;
    readings: number;
    latest: { createdAt: string; savedAt: string; voltage: number; frequency: number; protected: boolean } | null;
  }[];
  recentAlarms: (Omit<StoredOttAlarm, "time" | "receivedAt"> & { time: string | null; receivedAt: string })[];
}

/** Gathers a {@link StatusReport}; a failing database makes it unhealthy rather than throwing. */
export async function collectStatus(sources: StatusSources): Promise<StatusReport> {
  const now = Date.now();
  let storageError: string | null = null;
  let stations: StationSummary[] = [];
  let alarms: StoredOttAlarm[] = [];
  let meters: MeterSummary[] = [];
  try {
    await sources.records.ping();
    [stations, alarms, meters] = await Promise.all([
      sources.records.ott.stations(),
      sources.records.ott.recentAlarms(20),
      sources.records.meters.meters(),
    ]);
  } catch (error) {
    storageError = (error as Error).message;
  }
  const fs = await statfs(sources.dataDir);
  const certificate = sources.certificate();
  const window = await sources.maintenance();
  return {
    healthy: storageError === null,
    version: sources.version,
    startedAt: sources.startedAt.toISOString(),
    uptimeSeconds: Math.round((now - sources.startedAt.getTime()) / 1000),
    storage: {
      backend: sources.records.backend,
      location: sources.records.location,
      reachable: storageError === null,
      error: storageError,
    },
    disk: { path: sources.dataDir, freeBytes: fs.bavail * fs.bsize, totalBytes: fs.blocks * fs.bsize },
    certificate: {
      subject: certificate.subject,
      notAfter: certificate.notAfter.toISOString(),
      daysLeft: Math.floor((certificate.notAfter.getTime() - now) / 86_400_000),
    },
    maintenance: window && {
      phase: maintenancePhase(window, new Date(now)),
      startsAt: window.startsAt.toISOString(),
      message: window.message,
    },
    stations: stations.map((station) => ({ ...station, lastSeen: station.lastSeen.toISOString() })),
    meters: meters.map((meter) => ({
      pubId: meter.pubId,
      deviceName: meter.deviceName,
      readings: meter.readings,
      latest: meter.latest && {
        createdAt: meter.latest.createdAt.toISOString(),
        savedAt: meter.latest.savedAt.toISOString(),
        voltage: meter.latest.voltage,
        frequency: meter.latest.frequency,
        protected: meter.latest.protected,
      },
    })),
    recentAlarms: alarms.map((alarm) => ({
      ...alarm,
      time: alarm.time?.toISOString() ?? null,
      receivedAt: alarm.receivedAt.toISOString(),
    })),
  };
}

/** `/ping` and `/server-status` as a Hono sub-app. */
export function statusRoutes(sources: StatusSources, guard: MiddlewareHandler): Hono {
  const app = new Hono();
  app.get("/ping", (c) => c.text("pong"));
  app.get("/server-status", guard, async (c) => {
    const report = await collectStatus(sources);
    const status = report.healthy ? 200 : 503;
    const wantsHtml = c.req.query("format") !== "json" &&
      (c.req.query("format") === "html" || (c.req.header("accept") ?? "").includes("text/html"));
    return wantsHtml ? c.html(renderStatusPage(report), status) : c.json(report, status);
  });
  return app;
}
