/**
 * The account pages: register, activate, log in and out, reset a forgotten
 * password, the person's own page, and the one-time first-admin setup. Every
 * form is CSRF-protected; logins go through the same per-client backoff as
 * basic auth, and email-sending forms through a per-client limit of their own.
 */
import { Hono, type MiddlewareHandler } from "hono";
import { getLogger } from "@logtape/logtape";
import { AccountInputError, type Accounts } from "../auth/accounts.ts";
import type { FirstAdminLink } from "../auth/first_admin.ts";
import { backoffKey, LoginBackoff } from "../auth/backoff.ts";
import { csrfProtection, type CsrfVariables } from "../auth/csrf.ts";
import type { Sessions } from "../auth/sessions.ts";
import { safeNextPath } from "../auth/web_guard.ts";
import { activationMail, alreadyRegisteredMail, resetMail } from "../mail/account_mail.ts";
import type { Mailer, MailMessage } from "../mail/mailer.ts";
import { AccountConflictError, type AccountStore } from "../storage/account_types.ts";
import type { DropoffStore } from "../storage/types.ts";
import {
  accountPage,
  accountSummary,
  loginForm,
  newPasswordForm,
  registerForm,
  resetRequestForm,
} from "./account_pages.ts";
import { clientAddress } from "./client_address.ts";
import { formBodyLimit, pageSecurity } from "./page_security.ts";

const log = getLogger(["fieldgate", "accounts"]);

/** What the account pages need. */
export interface AccountRouteOptions {
  accounts: Accounts;
  store: AccountStore;
  /** The person's drop-off projects, listed on their page. */
  projects: DropoffStore;
  sessions: Sessions;
  mailer: Mailer;
  backoff: LoginBackoff;
  /** Base URL of the links in emails, without a trailing slash. */
  publicUrl: () => string;
  /** The one-time link creating the first admin (see `/account/setup`). */
  firstAdmin: FirstAdminLink;
}

type Env = { Variables: CsrfVariables };

/** Emails one client address may trigger through the forms before it must wait (doubling, up to an hour). */
const MAILS_PER_CLIENT = 5;

/** Paths of the pages these routes serve; the page security headers and CSRF check apply to them. */
export const ACCOUNT_PATHS = ["/login", "/logout", "/account", "/account/*"];

/** The account pages as a Hono sub-app. */
export function accountRoutes(options: AccountRouteOptions): Hono<Env> {
  const { accounts, sessions, backoff } = options;
  const app = new Hono<Env>();
  for (const path of ACCOUNT_PATHS) app.use(path, pageSecurity(), formBodyLimit(), csrfProtection());

  // Registration and reset send email: without a limit anyone could flood a mailbox or the mail server.
  const mailBackoff = new LoginBackoff({ maxFailures: MAILS_PER_CLIENT, lockoutSeconds: 3600 });
  const mailLimit: MiddlewareHandler<Env> = async (c, next) => {
    const client = backoffKey(clientAddress(c));
    const wait = mailBackoff.retryAfterSeconds(client);
    if (wait > 0) {
      return c.text(`Too many emails requested from your address; try again in ${wait} s.\n`, 429, {
        "Retry-After": String(wait),
      });
    }
    mailBackoff.recordFailure(client);
    await next();
  };

  /** Sends an email; a failure is logged and reported as false, never thrown at the person. */
  const send = async (message: MailMessage, what: string) => {
    try {
      await options.mailer.send(message);
      return true;
    } catch (error) {
      log.error("could not send the {what} email via {mailer}: {error}", {
        what,
        mailer: options.mailer.description,
        error: String(error),
      });
      return false;
    }
  };
  const form = async (c: { req: { parseBody(): Promise<Record<string, unknown>> } }) => {
    const body = await c.req.parseBody();
    return (name: string) => typeof body[name] === "string" ? body[name] as string : "";
  };

  app.get("/login", async (c) => {
    const next = safeNextPath(c.req.query("next"));
    if (await sessions.account(c) !== null) return c.redirect(next, 303);
    return c.html(accountPage("Log in", loginForm(c.get("csrf"), next)));
  });

  app.post("/login", async (c) => {
    const field = await form(c);
    const next = safeNextPath(field("next"));
    const ip = clientAddress(c);
    const client = backoffKey(ip);
    const wait = backoff.retryAfterSeconds(client);
    if (wait > 0) {
      const error = `Too many failed logins from your address. Try again in ${wait} s.`;
      return c.html(accountPage("Log in", loginForm(c.get("csrf"), next, field("login")), { error }), 429, {
        "Retry-After": String(wait),
      });
    }
    const result = await accounts.login(field("login"), field("password"));
    if (result === null) {
      backoff.recordFailure(client);
      log.warn("Login failed for user {user} from {ip}", { user: field("login").slice(0, 64), ip });
      const error = "Wrong username, email or password.";
      return c.html(accountPage("Log in", loginForm(c.get("csrf"), next, field("login")), { error }), 401);
    }
    backoff.recordSuccess(client);
    if (result.refused !== null) {
      const error = result.refused === "deactivated"
        ? "This account was deactivated by an admin."
        : "This account is not activated yet: open the link in the email we sent you, or ask an admin.";
      return c.html(accountPage("Log in", loginForm(c.get("csrf"), next, field("login")), { error }), 403);
    }
    await sessions.start(c, result.account);
    log.info("{user} logged in from {ip}", { user: result.account.username, ip });
    return c.redirect(next, 303);
  });

  app.post("/logout", async (c) => {
    await sessions.end(c);
    return c.redirect("/login", 303);
  });

  app.get("/account", async (c) => {
    const account = await sessions.account(c);
    if (account === null) return c.redirect("/login?next=%2Faccount", 303);
    const projects = await options.projects.projects(account.username);
    return c.html(accountPage("Your account", accountSummary(account, projects, c.get("csrf"))));
  });

  app.get("/account/register", (c) => c.html(accountPage("Create an account", registerForm(c.get("csrf")))));

  app.post("/account/register", mailLimit, async (c) => {
    const field = await form(c);
    const input = { email: field("email"), username: field("username"), password: field("password") };
    const again = (error: string, status: 400 | 409) =>
      c.html(accountPage("Create an account", registerForm(c.get("csrf"), input), { error }), status);
    let sent: boolean;
    try {
      const account = await accounts.register(input);
      sent = await send(
        activationMail(account, options.publicUrl(), await accounts.issueToken(account, "activation")),
        "activation",
      );
      log.info("account {user} registered; activation link sent to its email", { user: account.username });
    } catch (error) {
      if (error instanceof AccountInputError) return again(error.message, 400);
      if (!(error instanceof AccountConflictError)) throw error;
      if (error.field === "username") return again("This username is taken; choose another.", 409);
      // The same answer as a new registration, so the form does not reveal who has an account.
      const existing = await options.store.byEmail(input.email.trim().toLowerCase());
      sent = existing === null ||
        await send(alreadyRegisteredMail(existing, options.publicUrl()), "already registered");
    }
    const notice = sent
      ? "Check your email: we sent you a link to activate the account."
      : "The account exists, but the email could not be sent right now. Use “Forgot your password?” later to get a link.";
    return c.html(accountPage("Create an account", "", { notice }), sent ? 200 : 503);
  });

  app.get("/account/setup", async (c) => {
    const token = c.req.query("token") ?? "";
    if (!options.firstAdmin.matches(token) || await options.store.adminExists()) {
      const error = "This setup link is used or outdated: an admin exists, or the server printed a newer one.";
      return c.html(accountPage("Create the first admin", "", { error }), 404);
    }
    const form = registerForm(c.get("csrf"), {}, { action: "/account/setup", token });
    return c.html(accountPage("Create the first admin", form));
  });

  app.post("/account/setup", async (c) => {
    const field = await form(c);
    const token = field("token");
    const input = { email: field("email"), username: field("username"), password: field("password") };
    if (!options.firstAdmin.take(token) || await options.store.adminExists()) {
      return c.html(accountPage("Create the first admin", "", { error: "This setup link is used or outdated." }), 404);
    }
    try {
      const account = await accounts.register(input, { activated: true, admin: true });
      log.info("first admin {user} created through the setup link", { user: account.username });
      const notice = "The admin account is ready. Log in below.";
      return c.html(accountPage("Log in", loginForm(c.get("csrf"), "/admin/accounts", account.username), { notice }));
    } catch (error) {
      // Nothing was created: the link stays good for a corrected attempt.
      options.firstAdmin.restore(token);
      const problem = error instanceof AccountInputError
        ? error.message
        : error instanceof AccountConflictError
        ? `this ${error.field} is taken`
        : undefined;
      if (problem === undefined) throw error;
      const form = registerForm(c.get("csrf"), input, { action: "/account/setup", token });
      return c.html(accountPage("Create the first admin", form, { error: problem }), 400);
    }
  });

  app.get("/account/activate", async (c) => {
    const account = await accounts.activate(c.req.query("token") ?? "");
    if (account === null) {
      const error =
        "This activation link is unknown, used or expired. Log in, or ask for a new link with “Forgot your password?”.";
      return c.html(accountPage("Activate your account", "", { error }), 400);
    }
    log.info("account {user} activated", { user: account.username });
    const notice = "Your account is active. Log in below.";
    return c.html(accountPage("Log in", loginForm(c.get("csrf"), "/account", account.username), { notice }));
  });

  app.get("/account/reset", (c) => c.html(accountPage("Forgot your password?", resetRequestForm(c.get("csrf")))));

  app.post("/account/reset", mailLimit, async (c) => {
    const field = await form(c);
    const request = await accounts.requestReset(field("email"));
    if (request !== null) await send(resetMail(request.account, options.publicUrl(), request.token), "password reset");
    const notice = "If an account has this email, we sent it a link to choose a new password. It works for one hour.";
    return c.html(accountPage("Forgot your password?", "", { notice }));
  });

  app.get(
    "/account/reset/confirm",
    (c) => c.html(accountPage("Choose a new password", newPasswordForm(c.get("csrf"), c.req.query("token") ?? ""))),
  );

  app.post("/account/reset/confirm", async (c) => {
    const field = await form(c);
    const again = (error: string) =>
      c.html(accountPage("Choose a new password", newPasswordForm(c.get("csrf"), field("token")), { error }), 400);
    try {
      const account = await accounts.resetPassword(field("token"), field("password"));
      if (account === null) return again("This link is unknown, used or expired. Ask for a new one.");
      log.info("account {user} set a new password; its other sessions ended", { user: account.username });
      const notice = "Your new password is set. Log in below.";
      return c.html(accountPage("Log in", loginForm(c.get("csrf"), "/account", account.username), { notice }));
    } catch (error) {
      if (error instanceof AccountInputError) return again(error.message);
      throw error;
    }
  });
  return app;
}
