/**
 * `GET /cmx/admin` (htpasswd login): totals, notifications per minute as a
 * chart and the top walkers. Server-rendered with an inline SVG chart, no
 * scripts; `?format=json` gives the same numbers to tools.
 */
import { Hono, type MiddlewareHandler } from "hono";
import { html } from "hono/html";
import { htmlPage } from "./page.ts";
import type { HtmlEscapedString } from "hono/utils/html";
import { kmMiles } from "../domain/cmx_live.ts";
import type { CmxLeaderboard, CmxStore, CmxSummary } from "../storage/types.ts";

const CHART_MINUTES = 120;
const TOP_WALKERS = 20;

/** The admin page as a Hono sub-app (mounted at `/cmx`). */
export function cmxAdminRoutes(store: CmxStore, guard: MiddlewareHandler, movementDistanceFt: number): Hono {
  const app = new Hono();
  app.get("/admin", guard, async (c) => {
    const [summary, board] = await Promise.all([store.summary(CHART_MINUTES), store.leaderboard(TOP_WALKERS)]);
    if (c.req.query("format") === "json") return c.json({ ...summary, top: board.leaders });
    return c.html(page(summary, board, movementDistanceFt));
  });
  return app;
}

function page(summary: CmxSummary, board: CmxLeaderboard, movementDistanceFt: number) {
  const total = kmMiles(summary.totalMetres, 1);
  const peak = Math.max(0, ...summary.perMinute.map((m) => m.notifications));
  return htmlPage(
    "Track Your Steps admin",
    html`
      <h1>Track Your Steps</h1>
      <dl>
        ${cmxCounts(summary)}
        <dt>Distance walked</dt>
        <dd>${total.km} km (${total.miles} miles)</dd>
        <dt>Zones seen</dt>
        <dd>${summary.zones}</dd>
        <dt>Peak load</dt>
        <dd>${peak} notifications/min (${(peak / 60).toFixed(
          1,
        )}/s); CMX reports every ${movementDistanceFt} ft</dd>
      </dl>
      <h2>Notifications per minute (last ${CHART_MINUTES} minutes)</h2>
      ${chart(summary.perMinute)}
      <h2>Top walkers</h2>
      ${board.leaders.length === 0
        ? html`<p class="muted">No registered walkers yet.</p>`
        : html`<table><tr><th>Place</th><th>Username</th><th>km</th><th>miles</th></tr>${
          board.leaders.map((leader) => {
            const { km, miles } = kmMiles(leader.metres, 1);
            return html`
              <tr>
                <td>${leader.place}</td>
                <td>${leader.username}</td>
                <td>${km}</td>
                <td>${miles}</td>
              </tr>
            `;
          })
        }</table>`}
    `,
  );
}

/** Bars per minute over the last {@link CHART_MINUTES} minutes, as inline SVG. */
function chart(perMinute: CmxSummary["perMinute"]): HtmlEscapedString | Promise<HtmlEscapedString> {
  const width = 720, height = 160, barWidth = width / CHART_MINUTES;
  const end = Math.floor(Date.now() / 60_000) + 1;
  const peak = Math.max(1, ...perMinute.map((m) => m.notifications));
  const bars = perMinute.map((m) => {
    const slot = CHART_MINUTES - (end - m.minute.getTime() / 60_000);
    const barHeight = (m.notifications / peak) * (height - 20);
    return html`
      <rect x="${(slot * barWidth).toFixed(1)}" y="${(height - barHeight).toFixed(1)}" width="${Math.max(
        1,
        barWidth - 1,
      ).toFixed(1)}" height="${barHeight.toFixed(1)}" fill="#2a6fb0">
        <title>${m.minute.toISOString()}: ${m.notifications}</title>
      </rect>
    `;
  });
  return html`<svg width="${width}" height="${height}" role="img" aria-label="notifications per minute">
<text x="4" y="14" font-size="12">peak ${peak}/min</text>${bars}</svg>`;
}

/** The user and device counts as `<dt>`/`<dd>` pairs, for this page and the admin devices page. */
export function cmxCounts(summary: CmxSummary): HtmlEscapedString | Promise<HtmlEscapedString> {
  return html`
    <dt>Registered users</dt>
    <dd>${summary.users}</dd>
    <dt>Registered devices</dt>
    <dd>${summary.registeredDevices}</dd>
    <dt>Tracked devices</dt>
    <dd>${summary.trackedDevices}</dd>
  `;
}
