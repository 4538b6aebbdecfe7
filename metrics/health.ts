/**
 * The cheap health figures shared by the dashboard and `/metrics`: database
 * (one ping with a timeout, so a hung database shows as down instead of
 * hanging the page), disk, certificate, maintenance and connections.
 */
import { statfs } from "node:fs/promises";
import { type MaintenancePhase, maintenancePhase } from "../domain/maintenance.ts";
import type { StatusSources } from "../routes/status.ts";
import { deviceConnections } from "./device_connections.ts";

/** How long the database ping may take before the database counts as down. */
export const DATABASE_TIMEOUT_MS = 2000;

/** A health snapshot. */
export interface Health {
  checkedAt: Date;
  version: string;
  uptimeSeconds: number;
  database: { backend: string; location: string; up: boolean; latencyMs: number; error: string | null };
  disk: { path: string; freeBytes: number; totalBytes: number };
  certificate: { subject: string; notAfter: Date; secondsLeft: number };
  maintenance: { phase: MaintenancePhase; startsAt: Date; message: string } | null;
  connections: { socket: string; open: number; total: number }[];
}

/** Runs `work`, or rejects once `ms` have passed. */
export async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Gathers a {@link Health} snapshot; never throws for a failing database. */
export async function collectHealth(sources: StatusSources): Promise<Health> {
  const checkedAt = new Date();
  const started = performance.now();
  let error: string | null = null;
  try {
    await withTimeout(sources.records.ping(), DATABASE_TIMEOUT_MS, "database ping");
  } catch (failure) {
    error = (failure as Error).message;
  }
  const latencyMs = Math.round((performance.now() - started) * 10) / 10;
  const fs = await statfs(sources.dataDir);
  const certificate = sources.certificate();
  const window = await sources.maintenance();
  return {
    checkedAt,
    version: sources.version,
    uptimeSeconds: Math.round((checkedAt.getTime() - sources.startedAt.getTime()) / 1000),
    database: {
      backend: sources.records.backend,
      location: sources.records.location,
      up: error === null,
      latencyMs,
      error,
    },
    disk: { path: sources.dataDir, freeBytes: fs.bavail * fs.bsize, totalBytes: fs.blocks * fs.bsize },
    certificate: {
      subject: certificate.subject,
      notAfter: certificate.notAfter,
      secondsLeft: Math.floor((certificate.notAfter.getTime() - checkedAt.getTime()) / 1000),
    },
    maintenance: window && {
      phase: maintenancePhase(window, checkedAt),
      startsAt: window.startsAt,
      message: window.message,
    },
    connections: deviceConnections(),
  };
}
