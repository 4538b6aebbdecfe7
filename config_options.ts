/**
 * Every option fieldgate understands, declared once: its key (also the
 * `fieldgate.toml` / JSON path), schema, default and help. `config.ts` turns
 * the table into flags, `FIELDGATE_*` variables, the loaded configuration and
 * the `--help` text.
 */
import { z } from "zod";

/** One configurable option: where it lives, its type and what it is for. */
export interface OptionSpec {
  /** Dotted path in the config object and the config file, e.g. `https.port`. */
  key: string;
  schema: z.ZodType;
  default: unknown;
  help: string;
}

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const positiveNumber = z.coerce.number().positive();
const tcpMode = z.enum(["tls", "proxy"]);
const bool = z.union([z.boolean(), z.enum(["true", "false", "1", "0"])]).transform(
  (value) => value === true || value === "true" || value === "1",
);

/** Every option fieldgate understands, in the order `--help` prints them. */
export const OPTIONS: readonly OptionSpec[] = [
  {
    key: "dataDir",
    schema: z.string().min(1),
    default: "./data",
    help: "Directory for all data: database, files, certificates",
  },
  {
    key: "databaseUrl",
    schema: z.string(),
    default: "",
    help: "postgres://… to use PostgreSQL; empty = SQLite at <dataDir>/fieldgate.sqlite",
  },
  {
    key: "http.hostname",
    schema: z.string().min(1),
    default: "127.0.0.1",
    help: "Plain-HTTP bind address (keep on localhost unless a proxy terminates TLS)",
  },
  { key: "http.port", schema: port, default: 8080, help: "Plain-HTTP port (0 = any free port)" },
  { key: "http.enabled", schema: bool, default: true, help: "Serve plain HTTP at all" },
  { key: "https.hostname", schema: z.string().min(1), default: "0.0.0.0", help: "HTTPS bind address" },
  { key: "https.port", schema: port, default: 8443, help: "HTTPS port (0 = any free port)" },
  {
    key: "https.guard",
    schema: bool,
    default: true,
    help: "Guard the HTTPS port with the https.* limits (timeouts, caps); false = Deno.serve on it directly",
  },
  {
    key: "https.handshakeTimeoutSeconds",
    schema: positiveNumber,
    default: 10,
    help: "Guarded HTTPS: close a connection whose TLS handshake takes longer",
  },
  {
    key: "https.headerTimeoutSeconds",
    schema: positiveNumber,
    default: 20,
    help: "Guarded HTTPS: close a connection whose first request's headers are not complete this long after connecting",
  },
  {
    key: "https.idleTimeoutSeconds",
    schema: positiveNumber,
    default: 120,
    help: "Guarded HTTPS: close a connection with no bytes either way for this long",
  },
  {
    key: "https.maxConnections",
    schema: positiveInt,
    default: 5000,
    help: "Guarded HTTPS: most open connections (each costs up to 3 file descriptors); more are refused",
  },
  {
    key: "https.maxConnectionsPerIp",
    schema: positiveInt,
    default: 256,
    help: "Guarded HTTPS: most open connections from one client address",
  },
  {
    key: "tls.certFile",
    schema: z.string(),
    default: "",
    help: "PEM certificate chain, leaf first; empty = dev certificate under <dataDir>/certs",
  },
  { key: "tls.keyFile", schema: z.string(), default: "", help: "PEM private key for tls.certFile" },
  {
    key: "tls.reloadCheckSeconds",
    schema: positiveNumber,
    default: 60,
    help: "How often to look for a renewed certificate on disk (picked up without dropping connections)",
  },
  {
    key: "tls.devHostnames",
    schema: z.string(),
    default: "localhost,127.0.0.1,::1",
    help: "Names and IPs the generated dev certificate covers (comma-separated)",
  },
  {
    key: "acme.enabled",
    schema: bool,
    default: false,
    help: "Get and renew the certificate by ACME; the CA must reach the plain-HTTP listener on port 80 (HTTP-01)",
  },
  {
    key: "acme.directoryUrl",
    schema: z.url({ protocol: /^https$/ }),
    default: "https://acme-v02.api.letsencrypt.org/directory",
    help: "ACME directory of the CA",
  },
  { key: "acme.domains", schema: z.string(), default: "", help: "Names the ACME certificate covers (comma-separated)" },
  { key: "acme.email", schema: z.string(), default: "", help: "Contact email for the ACME account (expiry notices)" },
  {
    key: "acme.keyType",
    schema: z.enum(["rsa2048", "ecdsa-p256"]),
    default: "rsa2048",
    help: "Certificate key: rsa2048 (CC3220S devices accept RSA only) or ecdsa-p256",
  },
  {
    key: "acme.caFile",
    schema: z.string(),
    default: "",
    help: "PEM CA to trust for the ACME directory's own HTTPS (a private CA); empty = system trust",
  },
  {
    key: "acme.retrySeconds",
    schema: positiveNumber,
    default: 300,
    help: "First retry after a failed ACME renewal; doubles per failure up to 6 hours",
  },
  {
    key: "auth.usersFile",
    schema: z.string(),
    default: "",
    help: "htpasswd users file (bcrypt, apr1, {SHA}); empty = <dataDir>/users.htpasswd",
  },
  { key: "auth.maxFailures", schema: positiveInt, default: 5, help: "Failed logins per client IP before it must wait" },
  {
    key: "auth.lockoutSeconds",
    schema: positiveInt,
    default: 60,
    help: "Longest wait imposed on an IP after repeated failures",
  },
  {
    key: "ott.maxBodyBytes",
    schema: positiveInt,
    default: 10 * 1024 * 1024,
    help: "Largest OTT transmission accepted (bytes); larger → 413",
  },
  {
    key: "ott.tempSuffix",
    schema: z.string().min(1).regex(/^[.\w-]+$/),
    default: ".tmp",
    help: "Suffix of temporary files in the OTT tree (sync tools should skip it)",
  },
  {
    key: "ott.alarmHookUrl",
    schema: z.union([z.literal(""), z.url()]),
    default: "",
    help: "URL to POST a JSON notice to after an alarm is stored; empty = none",
  },
  {
    key: "tus.maxSizeBytes",
    schema: positiveInt,
    default: 20 * 1024 ** 3,
    help: "Largest tus upload accepted (bytes, Tus-Max-Size); projects may set a lower limit",
  },
  {
    key: "tus.expireSeconds",
    schema: positiveNumber,
    default: 7 * 24 * 3600,
    help: "An unfinished upload expires this long after its last PATCH (Upload-Expires), then is removed",
  },
  {
    key: "tus.cleanupIntervalSeconds",
    schema: positiveNumber,
    default: 3600,
    help: "How often expired unfinished uploads are removed",
  },
  {
    key: "tus.idleTimeoutSeconds",
    schema: positiveNumber,
    default: 60,
    help: "A PATCH body silent this long is treated as interrupted: its bytes so far are kept, the lock freed",
  },
  {
    key: "tus.hookUrl",
    schema: z.union([z.literal(""), z.url()]),
    default: "",
    help: "Back end receiving tusd-style pre-create/post-finish hooks (HOOK-NAME header); empty = none",
  },
  {
    key: "tus.hookToken",
    schema: z.string(),
    default: "",
    help: "API token sent to tus.hookUrl as `Authorization: Token …` (the original's Django API token)",
  },
  {
    key: "tus.corsOrigins",
    schema: z.string(),
    default: "*",
    help: "Origins whose web pages may upload (CORS), comma-separated; * = any, empty = none",
  },
  { key: "meter.enabled", schema: bool, default: true, help: "Listen for CC3220S meter packets" },
  { key: "meter.hostname", schema: z.string().min(1), default: "0.0.0.0", help: "Meter socket bind address" },
  { key: "meter.port", schema: port, default: 38981, help: "Meter socket port (0 = any free port)" },
  {
    key: "meter.mode",
    schema: tcpMode,
    default: "tls",
    help: "tls, or proxy: plain TCP behind a TLS terminator sending a PROXY v1/v2 header",
  },
  {
    key: "meter.unknownPub",
    schema: z.enum(["register", "reject"]),
    default: "register",
    help: "Packet from an unknown pub id: register the pub, or reply with an error line",
  },
  {
    key: "meter.mqttUrl",
    schema: z.union([z.literal(""), z.url()]),
    default: "",
    help: "Publish each stored reading to this MQTT broker (mqtt://host:1883) as fieldgate/meters/<pubId>; empty = off",
  },
  {
    key: "confo.enabled",
    schema: bool,
    default: true,
    help: "Listen for cloud confirmations from provisioned devices",
  },
  { key: "confo.hostname", schema: z.string().min(1), default: "0.0.0.0", help: "Confo socket bind address" },
  { key: "confo.port", schema: port, default: 38979, help: "Confo socket port (0 = any free port)" },
  { key: "confo.mode", schema: tcpMode, default: "tls", help: "tls, or proxy (as meter.mode)" },
  {
    key: "confo.apiToken",
    schema: z.string(),
    default: "",
    help: "Bearer token the provisioning app may use for /api/confo (besides basic auth); empty = none",
  },
  {
    key: "cmx.notificationUser",
    schema: z.string(),
    default: "",
    help: "User CMX sends with its notifications (NOTIFICATION_USER); empty = /notification answers 503",
  },
  {
    key: "cmx.notificationPassword",
    schema: z.string(),
    default: "",
    help: "Password CMX sends with its notifications (NOTIFICATION_PASSWORD)",
  },
  { key: "cmx.apiUser", schema: z.string(), default: "", help: "User of the /live API; empty = /live answers 503" },
  { key: "cmx.apiPassword", schema: z.string(), default: "", help: "Password of the /live API (API_USER_PASSWORD)" },
  {
    key: "cmx.hosts",
    schema: z.string(),
    default: "",
    help: "CMX servers asked for IP → MAC, in turn, comma-separated (CMX_HOST); `test` derives MACs from IPs",
  },
  { key: "cmx.lookupUser", schema: z.string(), default: "", help: "User for the CMX location API (CMX_USERNAME)" },
  { key: "cmx.lookupPassword", schema: z.string(), default: "", help: "Password for the CMX API (CMX_PASSWORD)" },
  {
    key: "cmx.lookupUrl",
    schema: z.string().regex(/^https?:\/\/\{\}/, "must start with http://{} or https://{}"),
    default: "http://{}/api/location/v2/clients?ipAddress=",
    help: "CMX IP → MAC query: {} is the host, the IP is appended (CMX_IP2MAC_URL)",
  },
  {
    key: "cmx.lookupCaFile",
    schema: z.string(),
    default: "",
    help: "PEM file of the CA (or self-signed certificate) of an https CMX; empty = system trust",
  },
  { key: "cmx.timeoutSeconds", schema: positiveNumber, default: 5, help: "Timeout of one CMX query (CMX_TIMEOUT)" },
  {
    key: "cmx.movementDistanceFt",
    schema: positiveNumber,
    default: 50,
    help: "Movement distance configured on CMX, shown on the admin page (CMX_MOVEMENT_DISTANCE)",
  },
  {
    key: "cmx.macHashKey",
    schema: z.string(),
    default: "",
    help: "Key CMX hashes MACs with (CMX_MAC_HASH); empty = CMX sends real MACs",
  },
  {
    key: "cmx.maxMetresPerSecond",
    schema: positiveNumber,
    default: 4.42,
    help: "Fastest plausible walk; longer steps are capped (MAX_MTRS_SEC)",
  },
  {
    key: "cmx.maxMovingAngle",
    schema: z.coerce.number().min(0).max(180),
    default: 90,
    help: "Angle (degrees) from which a step counts as heading away (MAX_MOVING_ANGLE)",
  },
  {
    key: "cmx.maxRegisteredDevices",
    schema: positiveInt,
    default: 1,
    help: "Devices one username may register (MAX_REGISTERED_DEVICES); 1 = a taken username gets 409",
  },
  {
    key: "cmx.timeZone",
    schema: z.string().refine((zone) => {
      try {
        new Intl.DateTimeFormat("en", { timeZone: zone });
        return true;
      } catch {
        return false;
      }
    }, "not an IANA time zone"),
    default: "UTC",
    help: "Time zone of the venue: daily distances start at its midnight",
  },
  {
    key: "cmx.unlogged",
    schema: bool,
    default: false,
    help: "PostgreSQL: UNLOGGED distance/history/count/zone tables (faster; EMPTIED after a crash)",
  },
  {
    key: "tcp.maxLineBytes",
    schema: positiveInt,
    default: 4096,
    help: "Longest packet line on the device sockets; longer → error line and close",
  },
  {
    key: "tcp.idleTimeoutSeconds",
    schema: positiveNumber,
    default: 300,
    help: "Close a device connection silent this long",
  },
  {
    key: "tcp.handshakeTimeoutSeconds",
    schema: positiveNumber,
    default: 10,
    help: "Close a device connection whose TLS handshake (or PROXY header) takes longer",
  },
  {
    key: "tcp.maxConnections",
    schema: positiveInt,
    default: 20000,
    help: "Most device connections per listener; more are refused",
  },
  {
    key: "tcp.maxConnectionsPerIp",
    schema: positiveInt,
    default: 1000,
    help: "Most device connections from one client address per listener",
  },
  {
    key: "commit.maxDelayMs",
    schema: z.coerce.number().min(0).max(1000),
    default: 2,
    help: "Group commit: longest wait to gather writes into one transaction",
  },
  { key: "commit.maxBatch", schema: positiveInt, default: 500, help: "Group commit: most writes in one transaction" },
  {
    key: "status.staleAfterMinutes",
    schema: positiveNumber,
    default: 120,
    help: "The dashboard highlights stations and meters silent for longer than this",
  },
  {
    key: "metrics.token",
    schema: z.string(),
    default: "",
    help: "Bearer token Prometheus may send to scrape /metrics (besides basic auth); empty = none",
  },
  {
    key: "accounts.publicUrl",
    schema: z.union([z.literal(""), z.url({ protocol: /^https?$/ })]),
    default: "",
    help: "Base URL of the links in account emails (https://fieldgate.example.org); empty = this server's HTTPS URL",
  },
  {
    key: "accounts.sessionIdleMinutes",
    schema: positiveNumber,
    default: 60,
    help: "A web login session ends after this long without a request",
  },
  {
    key: "accounts.sessionMaxHours",
    schema: positiveNumber,
    default: 12,
    help: "A web login session ends this long after the login, however active",
  },
  {
    key: "mail.from",
    schema: z.string().min(3),
    default: "fieldgate <fieldgate@localhost>",
    help: "Sender of account and upload emails",
  },
  {
    key: "mail.smtpUrl",
    schema: z.union([z.literal(""), z.url({ protocol: /^smtps?$/ })]),
    default: "",
    help: "smtp://user:pass@host:587 (STARTTLS when offered) or smtps://…:465; empty = write emails to mail.outboxDir",
  },
  {
    key: "mail.smtpCaFile",
    schema: z.string(),
    default: "",
    help: "PEM file of the CA of a mail server with a private certificate; empty = system trust",
  },
  {
    key: "mail.outboxDir",
    schema: z.string(),
    default: "",
    help: "Without mail.smtpUrl, each email is one .eml file here (Django's EMAIL_FILE_PATH); empty = <dataDir>/outbox",
  },
  {
    key: "log.level",
    schema: z.enum(["debug", "info", "warning", "error"]),
    default: "info",
    help: "Lowest log level printed",
  },
  {
    key: "log.format",
    schema: z.enum(["text", "json"]),
    default: "text",
    help: "Log line format: text (logfmt) or json (one object per line)",
  },
];
