/**
 * Every route but the public ones refuses a request without credentials. The
 * test walks the app's own route table, so a route added later without auth
 * fails here.
 */
import { DROPOFF_ASSETS } from "../../routes/dropoff_assets.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { createApp } from "../../app.ts";
import { LoginBackoff } from "../../auth/backoff.ts";
import { UsersFile } from "../../auth/users_file.ts";
import { loadConfig } from "../../config.ts";
import { ReadingFeed } from "../../live/reading_feed.ts";
import { openMailer } from "../../mail/mailer.ts";
import { FirstAdminLink } from "../../auth/first_admin.ts";
import { FileBlobStore } from "../../storage/blob_fs.ts";
import { MaintenanceFile } from "../../storage/maintenance_file.ts";
import { openRecordStore } from "../../storage/open.ts";
import { tusHooks } from "../../routes/tus_hooks.ts";
import { tusUploads } from "../../routes/tus_setup.ts";
import { writeUsersFile } from "../helpers/server.ts";

/** Routes anyone may call: liveness for load balancers, and the upload page's static assets (nothing secret). */
const PUBLIC = new Set(["GET /ping", ...Object.values(DROPOFF_ASSETS).map((path) => `GET ${path}`)]);

/** The drop-off upload page: the project's secret UUID v4 in the URL is the credential; any other id is not found. */
const UPLOAD_PAGE = "GET /upload/:project";

/** ACME HTTP-01 answers the CA fetches without credentials; an unknown token is simply not found. */
const ACME_CHALLENGE = "GET /.well-known/acme-challenge/:token";

/**
 * tus uploads: the project's secret UUID v4 in the URL (and its optional upload
 * code) is the credential, as in the original drop-off. Without `Tus-Resumable`
 * they answer 412 before anything is looked up.
 */
const TUS = new Set(["POST /files/:project/", "POST /files/:project", "GET /files/:project/:upload"].concat(
  ["PATCH", "DELETE", "POST"].map((method) => `${method} /files/:project/:upload`),
));

/**
 * Account and admin pages, with the status each gives a request without a
 * session: the public pages open (activation without a token is a 400), the
 * account page sends to the login, every form POST lacks its CSRF cookie (403)
 * and the admin pages want an admin session (401, no basic-auth prompt).
 */
const ACCOUNT_PAGES: Record<string, number> = {
  "GET /login": 200,
  "GET /account/register": 200,
  "GET /account/reset": 200,
  "GET /account/reset/confirm": 200,
  "GET /account/activate": 400,
  "GET /account/setup": 404,
  "GET /account": 303,
  "GET /admin/accounts": 401,
  "GET /admin/loggers": 401,
  "GET /admin/devices": 401,
  ...Object.fromEntries(
    ["/login", "/logout", "/account/register", "/account/reset", "/account/reset/confirm", "/account/setup"]
      .concat("/admin/accounts/:id", "/admin/loggers", "/admin/loggers/:name", "/admin/devices/cmx-user/delete")
      .map((path) => [`POST ${path}`, 403]),
  ),
};

Deno.test("every non-public route refuses requests without credentials", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "fieldgate-routes-" });
  await writeUsersFile(dataDir);
  // Configured CMX credentials, so its guards are tested rather than its "not configured" answer.
  const config = loadConfig({
    overrides: {
      dataDir,
      cmx: { notificationUser: "cmx", notificationPassword: "n-secret", apiUser: "api", apiPassword: "a-secret" },
    },
  });
  const records = await openRecordStore(config);
  try {
    const app = createApp({
      config,
      records,
      ottFiles: new FileBlobStore(join(dataDir, "ott")),
      uploads: tusUploads(records, join(dataDir, "uploads"), tusHooks("", "")),
      users: new UsersFile(config.auth.usersFile),
      backoff: new LoginBackoff(config.auth),
      readingFeed: new ReadingFeed(),
      maintenance: new MaintenanceFile(dataDir),
      status: {
        startedAt: new Date(),
        version: "test",
        certificate: () => ({ subject: "CN=test", notAfter: new Date() }),
      },
      mailer: await openMailer(config.mail),
      firstAdmin: new FirstAdminLink(),
      publicUrl: () => "https://fieldgate.test",
    });
    const routes = app.routes.filter((route) => route.method !== "ALL" && !route.path.includes("*"));
    assert.ok(routes.length >= 8, `the route table lists the app's routes (${routes.length})`);
    for (const route of routes) {
      const key = `${route.method} ${route.path}`;
      const path = route.path.replace(/:[A-Za-z]+/g, "1");
      const response = await app.request(path, {
        method: route.method,
        body: route.method === "GET" ? undefined : "{}",
      });
      await response.body?.cancel();
      if (Object.hasOwn(ACCOUNT_PAGES, key)) {
        assert.equal(response.status, ACCOUNT_PAGES[key], key);
      } else if (PUBLIC.has(key)) {
        assert.equal(response.status, 200, key);
      } else if (key === ACME_CHALLENGE || key === UPLOAD_PAGE) {
        assert.equal(response.status, 404, key);
      } else if (TUS.has(key)) {
        assert.equal(response.status, 412, key);
      } else {
        assert.equal(response.status, 401, `${key} must demand credentials`);
        assert.match(response.headers.get("www-authenticate") ?? "", /^Basic /, key);
      }
    }

    // A browser asking for a person's page without credentials still gets the basic-auth challenge (stored logger
    // credentials keep working), with a page leading a person without them on to the login form.
    const asBrowser = (path: string) => app.request(path, { headers: { accept: "text/html,*/*;q=0.8" } });
    for (const path of ["/server-status", "/dashboard", "/cmx/admin", "/api/projects"]) {
      const response = await asBrowser(path);
      assert.equal(response.status, 401, path);
      assert.match(response.headers.get("www-authenticate") ?? "", /^Basic /, path);
      const login = `/login?next=${encodeURIComponent(path)}`;
      assert.ok((await response.text()).includes(`content="0; url=${login}"`), path);
    }
    const known = await app.request("/server-status", {
      headers: { accept: "text/html", cookie: "__Host-fieldgate-csrf=seen-the-account-pages" },
    });
    assert.equal(known.status, 303, "a browser that used the account pages goes straight to the login form");
    assert.equal(known.headers.get("location"), "/login?next=%2Fserver-status");
    const machine = await asBrowser("/api/ott/values");
    assert.doesNotMatch(await machine.text(), /login/, "machine routes keep their plain answer");
  } finally {
    await records.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
