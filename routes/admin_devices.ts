/**
 * Admin page for devices (an admin's session): the meters (`pub` rows, which
 * are never deleted), the Track Your Steps registrations with a form to
 * delete a registered username (as its `/delete_username` API does), and
 * every drop-off project with its owner, expiry and uploads.
 */
import { Hono } from "hono";
import { html } from "hono/html";
import { getLogger } from "@logtape/logtape";
import { csrfProtection, type CsrfVariables } from "../auth/csrf.ts";
import type { Sessions } from "../auth/sessions.ts";
import { type AdminEnv, adminGuard } from "../auth/web_guard.ts";
import { usernameEmail } from "../domain/cmx_live.ts";
import type { Project } from "../domain/dropoff.ts";
import type { CmxSummary, MeterSummary, RecordStore } from "../storage/types.ts";
import { accountPage, csrfField } from "./account_pages.ts";
import { allProjects } from "./all_projects.ts";
import { cmxCounts } from "./cmx_admin.ts";
import { formBodyLimit, pageSecurity } from "./page_security.ts";

const log = getLogger(["fieldgate", "accounts"]);

type Env = { Variables: AdminEnv["Variables"] & CsrfVariables };

/** The stores the devices page reads. */
export type AdminDeviceStores = Pick<RecordStore, "accounts" | "meters" | "cmx" | "dropoff">;

/** A project with its upload counts, as the page lists it. */
interface ProjectUploads {
  project: Project;
  uploads: number;
  finished: number;
}

const TITLE = "Devices and projects";

/** The devices page as a Hono sub-app. */
export function adminDeviceRoutes(
  stores: AdminDeviceStores,
  loggers: { list(): Promise<{ user: string }[]> },
  sessions: Sessions,
): Hono<Env> {
  const app = new Hono<Env>();
  for (const path of ["/admin/devices", "/admin/devices/*"]) {
    app.use(path, pageSecurity(), formBodyLimit(), csrfProtection(), adminGuard(sessions));
  }

  app.get("/admin/devices", async (c) => {
    const [meters, cmx, projects] = await Promise.all([
      stores.meters.meters(),
      stores.cmx.summary(0), // totals only: the load chart is /cmx/admin's
      allProjects(stores.accounts, loggers, stores.dropoff),
    ]);
    // One query per project: this page is for the few admins, and projects are counted in dozens.
    const counted = await Promise.all(projects.map(async (project) => {
      const uploads = await stores.dropoff.uploads(project.id);
      return { project, uploads: uploads.length, finished: uploads.filter((u) => u.finishedAt !== null).length };
    }));
    const body = html`
      <h2>Meters</h2>
      ${meterTable(meters)}
      <h2>Track Your Steps (CMX)</h2>
      ${cmxSection(cmx, c.get("csrf"))}
      <h2>Drop-off projects</h2>
      ${projectTable(counted)}
      <p><a href="/admin/accounts">Manage accounts</a> · <a href="/admin/loggers">Logger credentials</a></p>
    `;
    const message = { notice: c.req.query("done"), error: c.req.query("error") };
    return c.html(accountPage(TITLE, body, message));
  });

  app.post("/admin/devices/cmx-user/delete", async (c) => {
    const username = (await c.req.parseBody()).username;
    if (typeof username !== "string" || username.trim() === "") return c.text("username is required\n", 400);
    const email = usernameEmail(username.trim());
    if (!await stores.cmx.deleteUser(email)) {
      return c.redirect(`/admin/devices?error=${encodeURIComponent(`No Track Your Steps user ${email}.`)}`, 303);
    }
    log.info("admin {admin} deleted Track Your Steps user {email}", { admin: c.get("user"), email });
    return c.redirect(`/admin/devices?done=${encodeURIComponent(`deleted Track Your Steps user: ${email}`)}`, 303);
  });
  return app;
}

function when(date: Date | null | undefined): string {
  return date ? date.toISOString().slice(0, 19).replace("T", " ") + " UTC" : "never";
}

function meterTable(meters: MeterSummary[]) {
  if (meters.length === 0) return html`<p class="muted">No meters yet.</p>`;
  return html`
    <p class="muted">Meters are registered by their readings or confirmations and kept for good (never deleted).</p>
    <table>
      <tr><th>Pub id</th><th>Device name</th><th>Hash</th><th>Creator</th><th>Readings</th><th>Last reading</th></tr>
      ${meters.map((meter) =>
        html`
          <tr>
            <td>${meter.pubId}</td>
            <td>${meter.deviceName ?? ""}</td>
            <td>${meter.hash ?? ""}</td>
            <td>${meter.creator ?? ""}</td>
            <td>${meter.readings}</td>
            <td>${when(meter.latest?.createdAt)}</td>
          </tr>
        `
      )}
    </table>
  `;
}

function cmxSection(summary: CmxSummary, csrf: string) {
  return html`
    <dl>${cmxCounts(summary)}</dl>
    <p><a href="/cmx/admin">Track Your Steps admin page</a> (load, top walkers)</p>
    <form class="stack" method="post" action="/admin/devices/cmx-user/delete">
      ${csrfField(csrf)}
      <label>Delete a registered username and its device registrations (their distances stay)
        <input name="username" autocomplete="off" required></label>
      <button type="submit">Delete registration</button>
    </form>
  `;
}

function projectTable(projects: ProjectUploads[]) {
  if (projects.length === 0) return html`<p class="muted">No projects yet.</p>`;
  return html`
    <table>
      <tr><th>Project</th><th>Owner</th><th>Expires</th><th>Uploads</th><th>Finished</th></tr>
      ${projects.map(({ project, uploads, finished }) =>
        html`
          <tr>
            <td><a href="/upload/${project.id}">${project.name}</a></td>
            <td>${project.owner}</td>
            <td>${when(project.expiresAt)}</td>
            <td>${uploads}</td>
            <td>${finished}</td>
          </tr>
        `
      )}
    </table>
  `;
}
