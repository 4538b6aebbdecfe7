/**
 * Admin page for logger credentials (an admin's session): the users file's
 * loggers with forms to add one, set a new password and remove one. Edits go
 * through the same code as `deno task user add|remove`; the server's basic
 * auth notices the changed file within a second.
 */
import { Hono } from "hono";
import { html } from "hono/html";
import { getLogger } from "@logtape/logtape";
import { csrfProtection, type CsrfVariables } from "../auth/csrf.ts";
import { InvalidUsernameError } from "../auth/htpasswd.ts";
import { isAccountName, LoggerInputError, saveLoggerPassword } from "../auth/logger_credentials.ts";
import type { Sessions } from "../auth/sessions.ts";
import type { UserInfo, UsersFile } from "../auth/users_file.ts";
import { type AdminEnv, adminGuard } from "../auth/web_guard.ts";
import type { AccountStore } from "../storage/account_types.ts";
import { accountPage, csrfField } from "./account_pages.ts";
import { formBodyLimit, pageSecurity } from "./page_security.ts";

const log = getLogger(["fieldgate", "accounts"]);

type Env = { Variables: AdminEnv["Variables"] & CsrfVariables };

const TITLE = "Logger credentials";

/** The logger credentials page as a Hono sub-app. */
export function adminLoggerRoutes(store: AccountStore, sessions: Sessions, users: UsersFile): Hono<Env> {
  const app = new Hono<Env>();
  for (const path of ["/admin/loggers", "/admin/loggers/*"]) {
    app.use(path, pageSecurity(), formBodyLimit(), csrfProtection(), adminGuard(sessions));
  }
  const accountNamed = (name: string) => isAccountName(store, name);

  app.get("/admin/loggers", async (c) => {
    return c.html(accountPage(TITLE, loggerList(await users.list(), c.get("csrf")), { notice: c.req.query("done") }));
  });

  app.post("/admin/loggers", async (c) => {
    const { name, password } = await fields(c.req);
    const refuse = async (error: string, status: 400 | 409) =>
      c.html(accountPage(TITLE, loggerList(await users.list(), c.get("csrf"), name), { error }), status);
    // Adding never replaces a password by accident: that is the separate "Set password" form.
    if ((await users.list()).some((user) => user.user === name)) {
      return await refuse(`A logger "${name}" exists; set its password in its row instead.`, 409);
    }
    try {
      await saveLoggerPassword(users, name, password, accountNamed);
    } catch (error) {
      if (error instanceof InvalidUsernameError || error instanceof LoggerInputError) {
        return await refuse(error.message, 400);
      }
      throw error;
    }
    log.info("admin {admin} added logger {logger}", { admin: c.get("user"), logger: name });
    return c.redirect(`/admin/loggers?done=${encodeURIComponent(`added: ${name}`)}`, 303);
  });

  app.post("/admin/loggers/:name", async (c) => {
    const name = c.req.param("name");
    const { action, password } = await fields(c.req);
    if (action !== "password" && action !== "remove") return c.text("unknown action; use password or remove\n", 400);
    if (!(await users.list()).some((user) => user.user === name)) return c.text(`no logger "${name}"\n`, 404);
    if (action === "remove") {
      await users.remove(name);
    } else {
      try {
        await saveLoggerPassword(users, name, password, accountNamed);
      } catch (error) {
        if (!(error instanceof LoggerInputError)) throw error;
        return c.html(accountPage(TITLE, loggerList(await users.list(), c.get("csrf")), { error: error.message }), 400);
      }
    }
    log.info("admin {admin} did {action} on logger {logger}", { admin: c.get("user"), action, logger: name });
    const done = action === "remove" ? `removed: ${name}` : `new password: ${name}`;
    return c.redirect(`/admin/loggers?done=${encodeURIComponent(done)}`, 303);
  });
  return app;
}

/** The form fields these routes read; a missing or non-text field is empty. */
async function fields(request: { parseBody(): Promise<Record<string, unknown>> }) {
  const body = await request.parseBody();
  const text = (name: string) => typeof body[name] === "string" ? body[name] as string : "";
  return { name: text("name"), password: text("password"), action: text("action") };
}

function loggerList(users: UserInfo[], csrf: string, typedName = "") {
  const row = (user: UserInfo) => {
    const action = `/admin/loggers/${encodeURIComponent(user.user)}`;
    return html`
      <tr>
        <td>${user.user}</td>
        <td>${user.format}</td>
        <td>
          <form class="inline" method="post" action="${action}">
            ${csrfField(csrf)}<input type="hidden" name="action" value="password">
            <input name="password" type="password" autocomplete="new-password" aria-label="New password for ${user
              .user}" required>
            <button type="submit">Set password</button>
          </form>
          <form class="inline" method="post" action="${action}">
            ${csrfField(csrf)}<button name="action" value="remove">Remove</button>
          </form>
        </td>
      </tr>
    `;
  };
  return html`
    <p class="muted">Devices and scripts log in with HTTP basic auth as these loggers; changes apply within a second.
      <code>deno task user add|remove NAME</code> does the same from a shell.</p>
    ${users.length === 0 ? html`<p class="muted">No loggers yet.</p>` : html`
      <table>
        <tr><th>Name</th><th>Hash</th><th>Change</th></tr>
        ${users.map(row)}
      </table>
    `}
    <h2>Add a logger</h2>
    <form class="stack" method="post" action="/admin/loggers">
      ${csrfField(csrf)}
      <label>Name <input name="name" value="${typedName}" pattern="[A-Za-z0-9._@\\-]{1,64}" autocomplete="off" required
        ></label>
      <label>Password <input name="password" type="password" autocomplete="new-password" required></label>
      <button type="submit">Add logger</button>
    </form>
    <p><a href="/admin/accounts">Manage accounts</a> · <a href="/admin/devices">Devices and projects</a></p>
  `;
}
