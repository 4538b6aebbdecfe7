/**
 * Maintenance middleware: while a window is announced every response carries
 * `Fieldgate-Maintenance: <start>; <message>`; once it is active, web and API
 * writes get 503 with Retry-After while device ingestion goes on.
 */
import type { MiddlewareHandler } from "hono";
import { html } from "hono/html";
import {
  announcement,
  type MaintenancePhase,
  maintenancePhase,
  type MaintenanceWindow,
  pausedByMaintenance,
} from "../domain/maintenance.ts";
import type { MaintenanceFile } from "../storage/maintenance_file.ts";

const RETRY_AFTER_SECONDS = 300;

/** The maintenance middleware for the whole app. */
export function maintenance(file: MaintenanceFile): MiddlewareHandler {
  return async (c, next) => {
    const window = await file.current();
    const phase = maintenancePhase(window, new Date());
    if (phase === "none" || window === null) return await next();
    if (phase === "active" && pausedByMaintenance(c.req.method, c.req.path)) {
      c.header("Fieldgate-Maintenance", announcement(window));
      c.header("Retry-After", String(RETRY_AFTER_SECONDS));
      return c.json({
        error: `fieldgate is in maintenance since ${window.startsAt.toISOString()}: ${window.message}. ` +
          "Changes are paused; device data is still received. Try again later.",
      }, 503);
    }
    await next();
    c.header("Fieldgate-Maintenance", announcement(window));
    if ((c.res.headers.get("content-type") ?? "").startsWith("text/html")) {
      const page = await c.res.text();
      const banner = await maintenanceBanner(window, phase);
      const headers = new Headers(c.res.headers);
      headers.delete("content-length");
      c.res = new Response(page.replace(/<body[^>]*>/, (body) => body + banner), { status: c.res.status, headers });
    }
  };
}

/** The banner every web page shows while a window is announced or active. */
async function maintenanceBanner(window: MaintenanceWindow, phase: MaintenancePhase): Promise<string> {
  const when = window.startsAt.toISOString().replace("T", " ").slice(0, 16) + " UTC";
  const text = phase === "active"
    ? html`Maintenance in progress since ${when}: ${window.message}. Changes are paused; device data is still received.`
    : html`Maintenance planned for ${when}: ${window.message}.`;
  return String(
    await html`
      <div role="status"
        style="background:#fff3cd;border:1px solid #e0c36c;padding:.6rem 1rem;margin-bottom:1rem">${text}</div>
    `,
  );
}
