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
import { acmeChallengeRoutes } from "./routes/acme_challenge.ts";
import { acmeChallengeDir, AcmeChallenges } from "./certs/acme_challenges.ts";
import { cmxRoutes } from "./routes/cmx.ts";
import { ottRoutes } from "./routes/ott.ts";
import { ottValueRoutes } from "./routes/ott_values.ts";
import { projectRoutes } from "./routes/projects.ts";
import { dropoffAssetRoutes } from "./routes/dropoff_assets.ts";
import { dropoffPageRoutes } from "./routes/dropoff_page.ts";
import { tusRoutes } from "./routes/tus.ts";
import type { TusUploads } from "./routes/tus_setup.ts";
import { meterRoutes } from "./routes/meters.ts";
import { meterLiveRoutes } from "./routes/meter_live.ts";
import type { ReadingFeed } from "./live/reading_feed.ts";
import { bearerOrGuard } from "./auth/token.ts";
import { requestLog } from "./routes/request_log.ts";
import { maintenance } from "./routes/maintenance.ts";
import type { MaintenanceFile } from "./storage/maintenance_file.ts";
import { statusRoutes, type StatusSources } from "./routes/status.ts";
import { dashboardRoutes } from "./routes/dashboard.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { Accounts } from "./auth/accounts.ts";
import type { FirstAdminLink } from "./auth/first_admin.ts";
import { Sessions } from "./auth/sessions.ts";
import { sessionOrBasicGuard } from "./auth/web_guard.ts";
import { accountRoutes } from "./routes/accounts.ts";
import { adminAccountRoutes } from "./routes/admin_accounts.ts";
import { adminDeviceRoutes } from "./routes/admin_devices.ts";
import { adminLoggerRoutes } from "./routes/admin_loggers.ts";
import type { Mailer } from "./mail/mailer.ts";
import type { FileBlobStore } from "./storage/blob_fs.ts";
import type { RecordStore } from "./storage/types.ts";

const log = getLogger(["fieldgate", "http"]);

/** Everything the routes need, built once at start-up. */
export interface AppDependencies {
  config: Config;
  records: RecordStore;
  ottFiles: FileBlobStore;
  /** tus upload files, their per-upload locks (shared with the cleanup), encryption at rest and hooks. */
  uploads: TusUploads;
  users: UsersFile;
  backoff: LoginBackoff;
  /** The maintenance window file. */
  maintenance: MaintenanceFile;
  /** Stored meter readings for the live feed. */
  readingFeed: ReadingFeed;
  status: Omit<StatusSources, "records" | "dataDir" | "maintenance">;
  /** Account and upload emails. */
  mailer: Mailer;
  /** Base URL of links in emails, without a trailing slash (`accounts.publicUrl` or the HTTPS URL). */
  publicUrl: () => string;
  /** The one-time first-admin link, issued at start-up while no admin exists. */
  firstAdmin: FirstAdminLink;
}

/** Builds the Hono app serving every HTTP route. */
export function createApp(deps: AppDependencies): Hono {
  const guard = basicAuthGuard({ users: deps.users, backoff: deps.backoff, realm: "fieldgate" });
  const sessions = new Sessions(deps.records.accounts, deps.config.accounts);
  // Pages and APIs people use take a web session too; device and machine routes keep basic auth alone.
  const personGuard = sessionOrBasicGuard(sessions, guard);
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
  app.route("/", tusRoutes({ store: deps.records.dropoff, ...deps.uploads, ...deps.config.tus }));
  app.route("/", projectRoutes(deps.records.dropoff, deps.uploads.files, personGuard));
  app.route("/", dropoffPageRoutes(deps.records.dropoff, deps.config.tus.maxSizeBytes));
  app.route("/", dropoffAssetRoutes());
  app.route("/", cmxRoutes({ store: deps.records.cmx, config: deps.config.cmx, adminGuard: personGuard }));
  const statusSources: StatusSources = {
    ...deps.status,
    records: deps.records,
    dataDir: deps.config.dataDir,
    maintenance: () => deps.maintenance.current(),
  };
  app.route("/", statusRoutes(statusSources, personGuard));
  app.route(
    "/",
    dashboardRoutes({
      sources: statusSources,
      staleAfterMinutes: deps.config.status.staleAfterMinutes,
      guard: personGuard,
    }),
  );
  app.route("/", metricsRoutes(statusSources, bearerOrGuard(deps.config.metrics.token, guard)));
  const accounts = new Accounts(deps.records.accounts, deps.users);
  app.route(
    "/",
    accountRoutes({
      accounts,
      store: deps.records.accounts,
      projects: deps.records.dropoff,
      sessions,
      mailer: deps.mailer,
      backoff: deps.backoff,
      publicUrl: deps.publicUrl,
      firstAdmin: deps.firstAdmin,
    }),
  );
  app.route("/", adminAccountRoutes(deps.records.accounts, sessions, deps.users, deps.records.dropoff));
  app.route("/", adminLoggerRoutes(deps.records.accounts, sessions, deps.users));
  app.route("/", adminDeviceRoutes(deps.records, deps.users, sessions));
  app.route("/", acmeChallengeRoutes(new AcmeChallenges(acmeChallengeDir(deps.config.dataDir))));
  app.notFound((c) => c.text(`no such route: ${c.req.method} ${c.req.path}\n`, 404));
  app.onError((error, c) => {
    log.error("{method} {path} failed: {error}", { method: c.req.method, path: c.req.path, error: String(error) });
    return c.text("internal error: this request was not stored or acknowledged; retry later\n", 500);
  });
  return app;
}
