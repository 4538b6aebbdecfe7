/** The human-readable `/server-status` page: server-rendered, no scripts, readable at a glance. */
import { html } from "hono/html";
import { htmlPage } from "./page.ts";
import type { HtmlEscapedString } from "hono/utils/html";
import type { StatusReport } from "./status.ts";

/** Renders the report as a complete HTML page. */
export function renderStatusPage(report: StatusReport): HtmlEscapedString | Promise<HtmlEscapedString> {
  const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;
  return htmlPage(
    "fieldgate status",
    html`
          <h1>fieldgate status: ${report.healthy
            ? html`<span class="ok">healthy</span>`
            : html`<span class="bad">UNHEALTHY</span>`}</h1>
          ${report.storage.reachable ? "" : html`<p class="bad">The database is unreachable. Devices get errors and
            send again later: nothing is acknowledged until it is back, and fieldgate reconnects by itself.</p>`}
          <dl>
        <dt>Version</dt>
        <dd>${report.version}</dd>
        <dt>Up since</dt>
        <dd>${report.startedAt} (${formatDuration(report.uptimeSeconds)})</dd>
        <dt>Storage</dt>
        <dd>${report.storage.backend} at ${report.storage.location} — ${report.storage.reachable
          ? html`<span class="ok">reachable</span>`
          : html`<span class="bad">unreachable: ${report.storage.error}</span>`}</dd>
        <dt>Disk</dt>
        <dd>${gib(report.disk.freeBytes)} free of ${gib(report.disk.totalBytes)} (${report.disk.path})</dd>
        <dt>Certificate</dt>
        <dd>${report.certificate.subject}, valid until ${report.certificate
          .notAfter} ${report.certificate.daysLeft < 14
          ? html`<span class="bad">(${report.certificate.daysLeft} days left: renew now)</span>`
          : html`<span class="muted">(${report.certificate.daysLeft} days left)</span>`}</dd>
      </dl>
          <h2>OTT stations (${report.stations.length})</h2>
          ${report.stations.length === 0
            ? html`<p class="muted">No transmissions yet. Add a logger account with <code>deno task user add dl001</code>.</p>`
            : html`<table><tr><th>Station</th><th>Last seen (UTC)</th><th>Transmissions</th><th>Alarms</th></tr>
${
              report.stations.map((s) =>
                html`
                  <tr>
                    <td>${s.stationId}</td>
                    <td>${s.lastSeen}</td>
                    <td>${s.transmissions}</td>
                    <td>${s.alarms}</td>
                  </tr>
                `
              )
            }
</table>`}
          <h2>Meters (${report.meters.length})</h2>
      ${report.meters.length === 0
        ? html`<p class="muted">No meter has reported yet.</p>`
        : html`<table><tr><th>Pub id</th><th>Device</th><th>Readings</th><th>Latest (UTC)</th><th>Voltage</th><th>Frequency</th><th>Protected</th></tr>
${
          report.meters.map((m) =>
            html`
              <tr>
                <td>${m.pubId}</td>
                <td>${m.deviceName ?? ""}</td>
                <td>${m.readings}</td>
                <td>${m.latest?.createdAt ?? "-"}</td>
                <td>${m.latest?.voltage ?? ""}</td>
                <td>${m.latest?.frequency ?? ""}</td>
                <td>${m.latest ? (m.latest.protected ? "yes" : "no") : ""}</td>
              </tr>
            `
          )
        }
</table>`}
      <h2>Recent alarms</h2>
          ${report.recentAlarms.length === 0
            ? html`<p class="muted">No alarms.</p>`
            : html`<table><tr><th>Received (UTC)</th><th>Station</th><th>Channel</th><th>Type</th><th>Message</th></tr>
${
              report.recentAlarms.map((a) =>
                html`
                  <tr>
                    <td>${a.receivedAt}</td>
                    <td>${a.stationId}</td>
                    <td>${a.channelId}</td>
                    <td>${a.type}</td>
                    <td>${a.message}</td>
                  </tr>
                `
              )
            }
</table>`}
          <p class="muted">JSON: <code>/server-status?format=json</code></p>
    `,
  );
}

/** A duration for people: "3 min", "2 h 5 min", "4 d 1 h". */
export function formatDuration(seconds: number): string {
  const days = Math.floor(seconds / 86400);
  const hours = Math.floor((seconds % 86400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  return days > 0 ? `${days} d ${hours} h` : hours > 0 ? `${hours} h ${minutes} min` : `${minutes} min`;
}
