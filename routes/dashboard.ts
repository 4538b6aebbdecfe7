/**
 * `GET /dashboard` (authenticated): the status page an operator reads at a
 * glance, and the uPlot assets it loads. uPlot is embedded from the npm
 * package at build time (text imports), so a `deno compile` binary serves it
 * without node_modules and browsers need no CDN.
 */
import { Hono, type MiddlewareHandler } from "hono";
import uplotScript from "uplot/dist/uPlot.iife.min.js" with { type: "text" };
import uplotStyle from "uplot/dist/uPlot.min.css" with { type: "text" };
import chartsScript from "./dashboard_charts.js" with { type: "text" };
import { collectHealth } from "../metrics/health.ts";
import { INGEST_KINDS, ingestCounters } from "../metrics/ingest.ts";
import { collectLastSeen, type LastSeen } from "../metrics/last_seen.ts";
import { loggedProblems } from "../metrics/log_counter.ts";
import { renderDashboard } from "./dashboard_page.ts";
import type { StatusSources } from "./status.ts";

/** What the dashboard needs. */
export interface DashboardOptions {
  sources: StatusSources;
  /** A station or meter silent longer than this is highlighted. */
  staleAfterMinutes: number;
  guard: MiddlewareHandler;
}

/** The dashboard and its assets as a Hono sub-app. */
export function dashboardRoutes({ sources, staleAfterMinutes, guard }: DashboardOptions): Hono {
  const app = new Hono();
  app.get("/dashboard", guard, async (c) => {
    const health = await collectHealth(sources);
    let lastSeen: LastSeen[] | null = null;
    let lastSeenError: string | null = null;
    try {
      lastSeen = await collectLastSeen(sources.records, staleAfterMinutes * 60_000, health.checkedAt);
    } catch (error) {
      lastSeenError = (error as Error).message;
    }
    const page = renderDashboard({
      health,
      ingest: ingestCounters.series(Object.keys(INGEST_KINDS)),
      problems: loggedProblems.series(),
      lastSeen,
      lastSeenError,
      staleAfterMinutes,
    });
    return c.html(page, health.database.up ? 200 : 503, { "cache-control": "no-store" });
  });
  const asset = (path: string, body: string, type: string) =>
    app.get(path, guard, (c) => c.body(body, 200, { "content-type": type, "cache-control": "private, max-age=3600" }));
  asset("/dashboard/uplot.js", uplotScript, "text/javascript; charset=utf-8");
  asset("/dashboard/uplot.css", uplotStyle, "text/css; charset=utf-8");
  asset("/dashboard/charts.js", chartsScript, "text/javascript; charset=utf-8");
  return app;
}
