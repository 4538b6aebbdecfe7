/**
 * Every route but the public ones refuses a request without credentials. The
 * test walks the app's own route table, so a route added later without auth
 * fails here.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createApp } from "../../app.ts";
import { LoginBackoff } from "../../auth/backoff.ts";
import { UsersFile } from "../../auth/users_file.ts";
import { loadConfig } from "../../config.ts";
import { ReadingFeed } from "../../live/reading_feed.ts";
import { FileBlobStore } from "../../storage/blob_fs.ts";
import { MaintenanceFile } from "../../storage/maintenance_file.ts";
import { openRecordStore } from "../../storage/open.ts";
import { TusFileStore } from "../../storage/tus_files.ts";
import { UploadLocks } from "../../storage/upload_locks.ts";
import { writeUsersFile } from "../helpers/server.ts";

/** Routes anyone may call: liveness for load balancers. */
const PUBLIC = new Set(["GET /ping"]);

/**
 * tus uploads: the project's secret UUID v4 in the URL (and its optional upload
 * code) is the credential, as in the original drop-off. Without `Tus-Resumable`
 * they answer 412 before anything is looked up.
 */
const TUS = new Set(["POST /files/:project/", "POST /files/:project", "GET /files/:project/:upload"].concat(
  ["PATCH", "DELETE", "POST"].map((method) => `${method} /files/:project/:upload`),
));

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
      uploads: { files: new TusFileStore(join(dataDir, "uploads")), locks: new UploadLocks(records.dropoff) },
      users: new UsersFile(config.auth.usersFile),
      backoff: new LoginBackoff(config.auth),
      readingFeed: new ReadingFeed(),
      maintenance: new MaintenanceFile(dataDir),
      status: {
        startedAt: new Date(),
        version: "test",
        certificate: () => ({ subject: "CN=test", notAfter: new Date() }),
      },
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
      if (PUBLIC.has(key)) {
        assert.equal(response.status, 200, key);
      } else if (TUS.has(key)) {
        assert.equal(response.status, 412, key);
      } else {
        assert.equal(response.status, 401, `${key} must demand credentials`);
        assert.match(response.headers.get("www-authenticate") ?? "", /^Basic /, key);
      }
    }
  } finally {
    await records.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
