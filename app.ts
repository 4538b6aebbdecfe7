/**
 * The HTTP application: every route of fieldgate on one Hono app, with
 * request logging and errors that tell the client whether anything was stored.
 */
import { Hono } from "hono";
import { getLogger } from "@logtape/logtape";
import { basicAuthGuard } from "./auth/basic.ts";
import type { LoginBackoff } from "./auth/backoff.ts";
import type { UsersFile } from "./auth/users_file.ts";
import type { Config } from "./config.ts";
import { alarmHook } from "./routes/alarm_hook.ts";
import { cmxRoutes } from "./routes/cmx.ts";
import { ottRoutes } from "./routes/ott.ts";
import { ottValueRoutes } from "./routes/ott_values.ts";
import { projectRoutes } from "./routes/projects.ts";
import { tusRoutes } from "./routes/tus.ts";
import { tusHooks } from "./routes/tus_hooks.ts";
import { meterRoutes } from "./routes/meters.ts";
import { meterLiveRoutes } from "./routes/meter_live.ts";
import type { ReadingFeed } from "./live/reading_feed.ts";
import { bearerOrGuard } from "./auth/token.ts";
import { requestLog } from "./routes/request_log.ts";
import { maintenance } from "./routes/maintenance.ts";
import type { MaintenanceFile } from "./storage/maintenance_file.ts";
import { statusRoutes, type StatusSources } from "./routes/status.ts";
import type { FileBlobStore } from "./storage/blob_fs.ts";
import type { TusFileStore } from "./storage/tus_files.ts";
import type { RecordStore } from "./storage/types.ts";
import type { UploadLocks } from "./storage/upload_locks.ts";

const log = getLogger(["fieldgate", "http"]);

/** Everything the routes need, built once at start-up. */
export interface AppDependencies {
  config: Config;
  records: RecordStore;
  ottFiles: FileBlobStore;
  /** tus upload files and their per-upload locks (shared with the cleanup). */
  uploads: { files: TusFileStore; locks: UploadLocks };
  users: UsersFile;
  backoff: LoginBackoff;
  /** The maintenance window file. */
  maintenance: MaintenanceFile;
  /** Stored meter readings for the live feed. */
  readingFeed: ReadingFeed;
  status: Omit<StatusSources, "records" | "dataDir" | "maintenance">;
}

/** Builds the Hono app serving every HTTP route. */
export function createApp(deps: AppDependencies): Hono {
  const guard = basicAuthGuard({ users: deps.users, backoff: deps.backoff, realm: "fieldgate" });
  const app = new Hono();
  app.use(requestLog());
  app.use(maintenance(deps.maintenance));
  app.route(
    "/",
    ottRoutes({
      store: deps.records.ott,
      files: deps.ottFiles,
      guard,
      maxBodyBytes: deps.config.ott.maxBodyBytes,
      onAlarm: alarmHook(deps.config.ott.alarmHookUrl),
    }),
  );
  app.route("/", ottValueRoutes(deps.records.ott, guard));
  app.route("/", meterLiveRoutes(deps.readingFeed, guard));
  app.route("/", meterRoutes(deps.records, guard, bearerOrGuard(deps.config.confo.apiToken, guard)));
  const hooks = tusHooks(deps.config.tus.hookUrl, deps.config.tus.hookToken);
  app.route("/", tusRoutes({ store: deps.records.dropoff, ...deps.uploads, ...deps.config.tus, hooks }));
  app.route("/", projectRoutes(deps.records.dropoff, deps.uploads.files, guard));
  app.route("/", cmxRoutes({ store: deps.records.cmx, config: deps.config.cmx, adminGuard: guard }));
  app.route(
    "/",
    statusRoutes({
      ...deps.status,
      records: deps.records,
      dataDir: deps.config.dataDir,
      maintenance: () => deps.maintenance.current(),
    }, guard),
  );
  app.notFound((c) => c.text(`no such route: ${c.req.method} ${c.req.path}\n`, 404));
  app.onError((error, c) => {
    log.error("{method} {path} failed: {error}", { method: c.req.method, path: c.req.path, error: String(error) });
    return c.text("internal error: this request was not stored or acknowledged; retry later\n", 500);
  });
  return app;
}
