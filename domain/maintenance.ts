/**
 * Maintenance windows (seed 002's maintenanceon/off): announced ahead on every
 * page and API response, then web and API writes pause while device data
 * keeps flowing. Pure: what phase we are in, and which requests still pass.
 */
import { z } from "zod";
import { err, ok, type Result } from "./result.ts";
import { describeProblems } from "./zod_problems.ts";

/** A planned maintenance window. */
export interface MaintenanceWindow {
  startsAt: Date;
  message: string;
}

/** none: no window; announced: before its start; active: from its start until switched off. */
export type MaintenancePhase = "none" | "announced" | "active";

/** The phase of `window` at `now`. */
export function maintenancePhase(window: MaintenanceWindow | null, now: Date): MaintenancePhase {
  if (window === null) return "none";
  return now.getTime() < window.startsAt.getTime() ? "announced" : "active";
}

const WRITE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * Paths where devices deliver data: never refused because of maintenance
 * (OTT loggers, CMX notifications, tus uploads and their resumption).
 */
const DEVICE_INGESTION = [/^\/ottt?\/?$/, /^\/notification(\/area)?\/?$/, /^\/files\//];

/** True when a request must wait for the end of an active window: a web/API write that is not device data. */
export function pausedByMaintenance(method: string, path: string): boolean {
  return WRITE_METHODS.has(method.toUpperCase()) && !DEVICE_INGESTION.some((pattern) => pattern.test(path));
}

/** The announcement for headers and banners, e.g. `2026-12-01T18:00:00.000Z; Upgrade to 0.2`. */
export function announcement(window: MaintenanceWindow): string {
  return `${window.startsAt.toISOString()}; ${window.message}`;
}

const stored = z.object({ startsAt: z.iso.datetime({ offset: true }), message: z.string().max(500) });

/** Reads the JSON form written by {@link maintenanceJson}. */
export function parseMaintenanceJson(text: string): Result<MaintenanceWindow> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return err(`not JSON: ${(error as Error).message}`);
  }
  const parsed = stored.safeParse(value);
  if (!parsed.success) {
    return err(describeProblems(parsed.error));
  }
  return ok({ startsAt: new Date(parsed.data.startsAt), message: parsed.data.message });
}

/** The JSON form of a window, as stored on disk. */
export function maintenanceJson(window: MaintenanceWindow): string {
  return JSON.stringify({ startsAt: window.startsAt.toISOString(), message: window.message }, null, 2) + "\n";
}
