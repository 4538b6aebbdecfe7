/** The HTML of the account pages: register, login, password reset, the account itself and plain notices. */
import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import { CSRF_FIELD } from "../auth/csrf.ts";
import { MIN_PASSWORD_LENGTH } from "../auth/accounts.ts";
import type { Project } from "../domain/dropoff.ts";
import type { Account } from "../storage/account_types.ts";
import { htmlPage } from "./page.ts";

type Content = HtmlEscapedString | Promise<HtmlEscapedString>;

const FORM_STYLE = html`
  <style>
  form.stack{display:grid;gap:.6rem;max-width:24rem}form.stack input{font:inherit;padding:.35rem}
  button{font:inherit;padding:.3rem .9rem}.error{color:#a01010;font-weight:bold}.notice{color:#176117}
  form.inline{display:inline}
  </style>
`;

/** A page with the form styles and an optional error or notice line. */
export function accountPage(title: string, body: Content | "", message: { error?: string; notice?: string } = {}) {
  return htmlPage(
    title,
    html`${FORM_STYLE}<h1>${title}</h1>
      ${message.error ? html`<p class="error" role="alert">${message.error}</p>` : ""}
      ${message.notice ? html`<p class="notice" role="status">${message.notice}</p>` : ""}
      ${body}`,
  );
}

/** The hidden CSRF field every form carries. */
export function csrfField(csrf: string) {
  return html`<input type="hidden" name="${CSRF_FIELD}" value="${csrf}">`;
}

/** The login form; `next` is where to go afterwards. */
export function loginForm(csrf: string, next: string, login = "") {
  return html`
    <form class="stack" method="post" action="/login">
      ${csrfField(csrf)}<input type="hidden" name="next" value="${next}">
      <label>Username or email <input name="login" value="${login}" autocomplete="username" required></label>
      <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
      <button type="submit">Log in</button>
    </form>
    <p><a href="/account/register">Create an account</a> · <a href="/account/reset">Forgot your password?</a></p>
  `;
}

/** Where the registration form posts: the public registration, or the first-admin setup with its token. */
export type RegisterTarget = { action: "/account/register" } | { action: "/account/setup"; token: string };

/** The registration form, keeping what was typed except the password. */
export function registerForm(
  csrf: string,
  values: { email?: string; username?: string } = {},
  target: RegisterTarget = { action: "/account/register" },
) {
  return html`
    <form class="stack" method="post" action="${target.action}">
      ${csrfField(csrf)} ${"token" in target ? html`<input type="hidden" name="token" value="${target.token}">` : ""}
      <label>Email <input name="email" type="email" value="${values.email ?? ""}" autocomplete="email" required></label>
      <label>Username <input name="username" value="${values.username ?? ""}" pattern="[A-Za-z0-9._@\\-]{1,64}"
        autocomplete="username" required></label>
      <label>Password (at least ${MIN_PASSWORD_LENGTH} characters)
        <input name="password" type="password" minlength="${MIN_PASSWORD_LENGTH}" autocomplete="new-password" required>
      </label>
      <button type="submit">${"token" in target ? "Create the admin account" : "Register"}</button>
    </form>
    ${"token" in target
      ? html`<p>The account is active at once and may manage every other account.</p>`
      : html`<p>We email you a link to activate the account. <a href="/login">Log in</a></p>`}
  `;
}

/** Asks for the email to send a reset link to. */
export function resetRequestForm(csrf: string) {
  return html`
    <form class="stack" method="post" action="/account/reset">
      ${csrfField(csrf)}
      <label>Email <input name="email" type="email" autocomplete="email" required></label>
      <button type="submit">Email me a link</button>
    </form>
  `;
}

/** Sets a new password with the token from the emailed link. */
export function newPasswordForm(csrf: string, token: string) {
  return html`
    <form class="stack" method="post" action="/account/reset/confirm">
      ${csrfField(csrf)}<input type="hidden" name="token" value="${token}">
      <label>New password (at least ${MIN_PASSWORD_LENGTH} characters)
        <input name="password" type="password" minlength="${MIN_PASSWORD_LENGTH}" autocomplete="new-password" required>
      </label>
      <button type="submit">Set password</button>
    </form>
  `;
}

/** Drop-off projects with their upload page (the link to give uploaders) and limits. */
export function projectTable(projects: Project[]) {
  if (projects.length === 0) return html`<p class="muted">No projects yet.</p>`;
  const day = (date: Date | null) => date?.toISOString().slice(0, 10) ?? "never";
  const row = (project: Project) =>
    html`
      <tr>
        <td>${project.name}</td>
        <td>${project.owner}</td>
        <td><a href="/upload/${project.id}">/upload/${project.id}</a></td>
        <td>${project.codeHash === null ? "none" : "required"}</td>
        <td>${day(project.createdAt)}</td>
        <td>${day(project.expiresAt)}</td>
      </tr>
    `;
  return html`
    <table>
      <tr><th>Project</th><th>Owner</th><th>Upload page</th><th>Code</th><th>Created</th><th>Expires</th></tr>
      ${projects.map(row)}
    </table>
  `;
}

/** The logged-in person's own page: who they are, their projects, where to go, log out. */
export function accountSummary(account: Account, projects: Project[], csrf: string) {
  return html`
    <dl>
      <dt>Username</dt>
      <dd>${account.username}</dd>
      <dt>Email</dt>
      <dd>${account.email}</dd>
      <dt>Role</dt>
      <dd>${account.admin ? "admin" : "project owner"}</dd>
    </dl>
    <h2>Your drop-off projects</h2>
    ${projectTable(projects)}
    <p>
      <a href="/api/projects">Your drop-off projects (JSON)</a> · <a href="/server-status">Server status</a>
      ${account.admin
        ? html`
          · <a href="/admin/accounts">Manage accounts</a>
        `
        : ""}
    </p>
    <form method="post" action="/logout">${csrfField(csrf)}<button type="submit">Log out</button></form>
  `;
}
