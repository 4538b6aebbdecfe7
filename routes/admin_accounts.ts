/**
 * Admin pages (an admin's session): every account with buttons to
 * activate, deactivate and grant or revoke admin, the logger credentials of
 * the users file (names and hash formats; managed on `/admin/loggers`), and
 * the drop-off projects of all of them.
 */
import { Hono } from "hono";
import { html } from "hono/html";
import { getLogger } from "@logtape/logtape";
import { csrfProtection, type CsrfVariables } from "../auth/csrf.ts";
import type { Sessions } from "../auth/sessions.ts";
import type { UserInfo } from "../auth/users_file.ts";
import { type AdminEnv, adminGuard } from "../auth/web_guard.ts";
import { type Account, type AccountStore, mayLogIn } from "../storage/account_types.ts";
import { accountStatus, ADMIN_ACTIONS } from "../auth/accounts.ts";
import type { DropoffStore } from "../storage/types.ts";
import { accountPage, csrfField, projectTable } from "./account_pages.ts";
import { allProjects } from "./all_projects.ts";
import { formBodyLimit, pageSecurity } from "./page_security.ts";

const log = getLogger(["fieldgate", "accounts"]);

type Env = { Variables: AdminEnv["Variables"] & CsrfVariables };

/** The admin pages as a Hono sub-app. */
export function adminAccountRoutes(
  store: AccountStore,
  sessions: Sessions,
  loggers: { list(): Promise<UserInfo[]> },
  dropoff: DropoffStore,
): Hono<Env> {
  const app = new Hono<Env>();
  for (const path of ["/admin/accounts", "/admin/accounts/*"]) {
    app.use(path, pageSecurity(), formBodyLimit(), csrfProtection(), adminGuard(sessions));
  }

  app.get("/admin/accounts", async (c) => {
    const [accounts, users, projects] = await Promise.all([
      store.list(),
      loggers.list(),
      allProjects(store, loggers, dropoff),
    ]);
    const body = html`
      <h2>Accounts</h2>
      <table>
        <tr><th>Username</th><th>Email</th><th>Registered</th><th>Status</th><th>Role</th><th>Change</th></tr>
        ${accounts.map((account) => accountRow(account, c.get("account"), c.get("csrf")))}
      </table>
      <h2>Logger credentials (users file)</h2>
      <p class="muted">Devices and scripts log in with HTTP basic auth.
        <a href="/admin/loggers">Add, change or remove loggers</a> (or <code>deno task user add|remove NAME</code>).</p>
      <table>
        <tr><th>Name</th><th>Hash</th></tr>
        ${users.map((user) =>
          html`
            <tr>
              <td>${user.user}</td>
              <td>${user.format}</td>
            </tr>
          `
        )}
      </table>
      <h2>Drop-off projects</h2>
      ${projectTable(projects)}
      <p><a href="/account">Your account</a> · <a href="/admin/devices">Devices and projects</a></p>
    `;
    return c.html(accountPage("Manage accounts", body, { notice: c.req.query("done") }));
  });

  app.post("/admin/accounts/:id", async (c) => {
    const action = (await c.req.parseBody()).action;
    const changes = typeof action === "string" && Object.hasOwn(ADMIN_ACTIONS, action)
      ? ADMIN_ACTIONS[action]
      : undefined;
    if (changes === undefined) {
      return c.text(`unknown action; use one of ${Object.keys(ADMIN_ACTIONS).join(", ")}\n`, 400);
    }
    const self = c.get("account");
    if (c.req.param("id") === self.id && (changes.disabled === true || changes.admin === false)) {
      return c.text("You cannot deactivate yourself or revoke your own admin role: ask another admin.\n", 409);
    }
    const target = await store.byId(c.req.param("id"));
    if (target === null || !await store.update(target.id, changes)) return c.text("no such account\n", 404);
    // A deactivated person must be out at once, not when their session would have expired.
    if (changes.disabled === true) await store.deleteSessions(target.id);
    log.info("admin {admin} did {action} on account {user}", { admin: self.username, action, user: target.username });
    return c.redirect(`/admin/accounts?done=${encodeURIComponent(`${action}: ${target.username}`)}`, 303);
  });
  return app;
}

function accountRow(account: Account, self: Account, csrf: string) {
  const button = (action: string, label: string) =>
    html`<form class="inline" method="post" action="/admin/accounts/${account.id}">
      ${csrfField(csrf)}<button name="action" value="${action}">${label}</button></form>`;
  const isSelf = account.id === self.id;
  return html`
    <tr>
      <td>${account.username}</td>
      <td>${account.email}</td>
      <td>${account.createdAt.toISOString().slice(0, 16)}</td>
      <td>${accountStatus(account)}</td>
      <td>${account.admin ? "admin" : "owner"}</td>
      <td>
          ${mayLogIn(account) ? (isSelf ? "" : button("deactivate", "Deactivate")) : button("activate", "Activate")}
          ${account.admin
            ? (isSelf ? "" : button("revoke-admin", "Revoke admin"))
            : button("grant-admin", "Make admin")}
        </td>
    </tr>
  `;
}
