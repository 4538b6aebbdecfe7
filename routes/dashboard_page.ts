/**
 * The status dashboard page: health tiles, one per-minute chart per protocol
 * (uPlot, drawn by dashboard_charts.js), logged problems and when every
 * station and meter was last heard from. Refreshes itself every minute.
 */
import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import { INGEST_KINDS, type IngestKind } from "../metrics/ingest.ts";
import type { Health } from "../metrics/health.ts";
import type { LastSeen } from "../metrics/last_seen.ts";
import type { MinuteSeries } from "../metrics/minute_counters.ts";
import { htmlPage } from "./page.ts";
import { formatDuration } from "./status_page.ts";

/** Everything the page shows. */
export interface DashboardView {
  health: Health;
  ingest: MinuteSeries;
  /** Logged problems per `<subsystem>.<warning|error>`. */
  problems: MinuteSeries;
  /** Null when the database did not answer; `lastSeenError` says why. */
  lastSeen: LastSeen[] | null;
  lastSeenError: string | null;
  staleAfterMinutes: number;
}

const REFRESH_SECONDS = 60;
const CERTIFICATE_WARNING_DAYS = 14;
const DISK_WARNING_FRACTION = 0.1;
const COLORS: Record<IngestKind, string> = {
  ott: "#1f77b4",
  meter: "#2ca02c",
  confo: "#9467bd",
  cmx: "#ff7f0e",
  tus_bytes: "#17becf",
  tus_uploads: "#8c564b",
};

const STYLE = `.tiles{display:grid;grid-template-columns:repeat(3,1fr);gap:.8rem}
.tile{border:1px solid #ddd;border-radius:6px;padding:.6rem .8rem;background:#fafafa}
.tile h3{margin:0;font-size:.8rem;text-transform:uppercase;color:#555;letter-spacing:.04em}
.tile .figure{font-size:1.35rem;font-weight:bold;margin:.2rem 0}.tile.bad{background:#fde8e8;border-color:#e4a0a0}
.charts{display:grid;grid-template-columns:repeat(3,1fr);gap:.8rem}
.chart{border:1px solid #ddd;border-radius:6px;padding:.5rem}.chart h3{margin:0 0 .3rem;font-size:.95rem}
.chart .figure{font-weight:bold}tr.stale td{background:#fde8e8}td.num,th.num{text-align:right}
body{max-width:80rem}`;

type Content = HtmlEscapedString | Promise<HtmlEscapedString>;

/** Renders the dashboard as a complete HTML page. */
export function renderDashboard(view: DashboardView): Content {
  const { health } = view;
  return htmlPage(
    "fieldgate dashboard",
    html`
      <meta http-equiv="refresh" content="${REFRESH_SECONDS}">
      <link rel="stylesheet" href="/dashboard/uplot.css">
      <style>${STYLE}</style>
      <h1>fieldgate dashboard: ${health.database.up
        ? html`<span class="ok">healthy</span>`
        : html`<span class="bad">UNHEALTHY</span>`}</h1>
      <p
        class="muted">Version ${health.version}, up ${formatDuration(health.uptimeSeconds)}. As of ${utc(
          health.checkedAt,
        )}; this page refreshes every ${REFRESH_SECONDS} s. Charts: items acknowledged per minute, last hour (UTC).</p>
      ${tiles(view)}
      <h2>Ingestion, last hour</h2>
      <div class="charts">${(Object.keys(INGEST_KINDS) as IngestKind[]).map((kind) => chart(kind, view.ingest))}</div>
      ${problemTable(view.problems)} ${lastSeenTable(view)}
      <p class="muted">Prometheus: <code>/metrics</code>. JSON status: <code>/server-status?format=json</code>.</p>
      <script src="/dashboard/uplot.js"></script>
      <script src="/dashboard/charts.js"></script>
    `,
  );
}

function tile(title: string, figure: unknown, detail: unknown, bad = false): Content {
  return html`
    <div class="tile${bad ? " bad" : ""}">
      <h3>${title}</h3>
      <div class="figure">${figure}</div>
      <div class="muted">${detail}</div>
    </div>
  `;
}

function tiles({ health, problems }: DashboardView): Content {
  const { database, disk, certificate, maintenance } = health;
  const daysLeft = Math.floor(certificate.secondsLeft / 86_400);
  const errors = sumLastHour(problems, ".error");
  const warnings = sumLastHour(problems, ".warning");
  return html`<div class="tiles">
${
    tile(
      "Database",
      database.up ? `up, ${database.latencyMs} ms` : "DOWN",
      database.error ?? `${database.backend} at ${database.location}`,
      !database.up,
    )
  }
${
    tile(
      "Disk free",
      `${gib(disk.freeBytes)} (${Math.round((disk.freeBytes / disk.totalBytes) * 100)} %)`,
      `of ${gib(disk.totalBytes)} at ${disk.path}`,
      disk.freeBytes < disk.totalBytes * DISK_WARNING_FRACTION,
    )
  }
${
    tile(
      "Certificate",
      `${daysLeft} days left`,
      `${certificate.subject}, until ${utc(certificate.notAfter)}`,
      daysLeft < CERTIFICATE_WARNING_DAYS,
    )
  }
${
    tile(
      "Maintenance",
      maintenance === null || maintenance.phase === "none"
        ? "none planned"
        : maintenance.phase === "active"
        ? "IN PROGRESS"
        : `planned ${utc(maintenance.startsAt)}`,
      maintenance?.message ?? "deno task maintenance on --at … to announce one",
      maintenance?.phase === "active",
    )
  }
${
    tile(
      "Problems, last hour",
      `${errors} errors, ${warnings} warnings`,
      "as logged; by subsystem below",
      errors > 0,
    )
  }
${
    tile(
      "Device connections",
      health.connections.map((c) => `${c.socket} ${c.open}`).join(", ") || "sockets off",
      `open now; since start: ${health.connections.map((c) => `${c.socket} ${c.total}`).join(", ") || "-"}`,
    )
  }
</div>`;
}

function chart(kind: IngestKind, ingest: MinuteSeries): Content {
  const counter = ingest.counters[kind];
  const scale = kind === "tus_bytes" ? 2 ** 20 : 1;
  const label = kind === "tus_bytes" ? "tus MiB received" : INGEST_KINDS[kind];
  const values = counter.perMinute.map((value) => Math.round((value / scale) * 100) / 100);
  const data = JSON.stringify({ startSeconds: ingest.startSeconds, values, label, color: COLORS[kind] });
  return html`
    <div class="chart">
      <h3>${label} <span class="muted">/ min</span></h3>
      <div data-chart="${data}" data-kind="${kind}"></div>
      <div><span class="figure" data-last-hour="${kind}">${formatCount(counter.lastHour / scale)}</span> last hour,
    ${formatCount(counter.total / scale)} since start</div>
    </div>
  `;
}

function problemTable(problems: MinuteSeries): Content {
  const subsystems = [...new Set(Object.keys(problems.counters).map((name) => name.split(".")[0]))].sort();
  if (subsystems.length === 0) {
    return html`
      <h2>Problems logged</h2>
      <p class="muted">No warnings or errors since start.</p>
    `;
  }
  const cell = (name: string, field: "lastHour" | "total") => problems.counters[name]?.[field] ?? 0;
  return html`
    <h2>Problems logged</h2>
    <table><tr><th>Subsystem</th><th class="num">Errors, last hour</th>
    <th class="num">Warnings, last hour</th><th class="num">Errors since start</th><th class="num">Warnings since start</th></tr>
    ${subsystems.map((s) =>
      html`
        <tr>
          <td>${s}</td>
          <td class="num">${cell(`${s}.error`, "lastHour")}</td>
          <td class="num">${cell(`${s}.warning`, "lastHour")}</td>
          <td class="num">${cell(`${s}.error`, "total")}</td>
          <td class="num">${cell(`${s}.warning`, "total")}</td>
        </tr>
      `
    )}</table>
  `;
}

function lastSeenTable({ lastSeen, lastSeenError, staleAfterMinutes, health }: DashboardView): Content {
  const heading = html`<h2>Last seen</h2>`;
  if (lastSeen === null) return html`${heading}<p class="bad">Not available: ${lastSeenError}</p>`;
  if (lastSeen.length === 0) return html`${heading}<p class="muted">No station or meter has reported yet.</p>`;
  const stale = lastSeen.filter((row) => row.stale).length;
  const now = health.checkedAt.getTime();
  return html`${heading}<p>${
    stale === 0
      ? html`<span class="ok">All ${lastSeen.length} reported within ${staleAfterMinutes} min.</span>`
      : html`<span class="bad">${stale} of ${lastSeen.length} silent for more than ${staleAfterMinutes} min</span>
(highlighted).`
  }</p>
<table id="last-seen"><tr><th>Kind</th><th>Id</th><th>Name</th><th>Last seen (UTC)</th><th class="num">Ago</th>
<th class="num">Stored</th></tr>
${
    lastSeen.map((row) =>
      html`
        <tr class="${row.stale ? "stale" : ""}">
          <td>${row.kind}</td>
          <td>${row.id}</td>
          <td>${row.name ?? ""}</td>
          <td>${row.lastSeen ? utc(row.lastSeen) : "never"}</td>
          <td class="num">${row.lastSeen ? formatDuration((now - row.lastSeen.getTime()) / 1000) : "-"}</td>
          <td class="num">${row.count}</td>
        </tr>
      `
    )
  }</table>`;
}

function sumLastHour(series: MinuteSeries, suffix: string): number {
  return Object.entries(series.counters).filter(([name]) => name.endsWith(suffix))
    .reduce((sum, [, counter]) => sum + counter.lastHour, 0);
}

function utc(date: Date): string {
  return date.toISOString().slice(0, 16).replace("T", " ") + " UTC";
}

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}

function formatCount(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}
