/**
 * One typed configuration for fieldgate.
 *
 * Every option is declared once in `OPTIONS` (config_options.ts); from that table come the
 * defaults, the `fieldgate.toml` / JSON keys, the `FIELDGATE_*` environment
 * variables, the command-line flags and the `--help` text. Later sources win:
 * defaults < config file < environment < flags.
 */
import { parse as parseToml } from "smol-toml";
import { join } from "node:path";
import { describeProblems } from "./domain/zod_problems.ts";
import { OPTIONS } from "./config_options.ts";

/** One device socket: where it listens and whether TLS ends here or at a terminator in front. */
export interface TcpListenerConfig {
  enabled: boolean;
  hostname: string;
  port: number;
  mode: "tls" | "proxy";
}

/** Limits shared by the device sockets. */
export interface TcpLimits {
  maxLineBytes: number;
  idleTimeoutSeconds: number;
  handshakeTimeoutSeconds: number;
  maxConnections: number;
  maxConnectionsPerIp: number;
}

/** Limits of the guarded HTTPS front (https/front.ts); times in seconds, may be fractional. */
export interface HttpsLimits {
  handshakeTimeoutSeconds: number;
  /** From accept until the first request's headers are complete (or the app has started answering). */
  headerTimeoutSeconds: number;
  /** A connection with no bytes either way for this long is closed. */
  idleTimeoutSeconds: number;
  maxConnections: number;
  maxConnectionsPerIp: number;
}

/** Cisco CMX Track Your Steps (seed 003); the config.ini key each option replaces is in its help. */
export interface CmxConfig {
  notificationUser: string;
  notificationPassword: string;
  apiUser: string;
  apiPassword: string;
  hosts: string;
  lookupUser: string;
  lookupPassword: string;
  lookupUrl: string;
  lookupCaFile: string;
  timeoutSeconds: number;
  movementDistanceFt: number;
  macHashKey: string;
  maxMetresPerSecond: number;
  maxMovingAngle: number;
  maxRegisteredDevices: number;
  timeZone: string;
  unlogged: boolean;
}

/** The resolved configuration every part of fieldgate receives. */
export interface Config {
  dataDir: string;
  databaseUrl: string;
  http: { hostname: string; port: number; enabled: boolean };
  https: { hostname: string; port: number; guard: boolean } & HttpsLimits;
  tls: { certFile: string; keyFile: string; reloadCheckSeconds: number; devHostnames: string };
  acme: {
    enabled: boolean;
    directoryUrl: string;
    domains: string;
    email: string;
    keyType: "rsa2048" | "ecdsa-p256";
    caFile: string;
    retrySeconds: number;
  };
  auth: { usersFile: string; maxFailures: number; lockoutSeconds: number };
  ott: { maxBodyBytes: number; tempSuffix: string; alarmHookUrl: string };
  tus: {
    maxSizeBytes: number;
    expireSeconds: number;
    cleanupIntervalSeconds: number;
    idleTimeoutSeconds: number;
    hookUrl: string;
    hookToken: string;
    corsOrigins: string;
  };
  meter: TcpListenerConfig & { unknownPub: "register" | "reject"; mqttUrl: string };
  confo: TcpListenerConfig & { apiToken: string };
  cmx: CmxConfig;
  tcp: TcpLimits;
  commit: { maxDelayMs: number; maxBatch: number };
  status: { staleAfterMinutes: number };
  metrics: { token: string };
  accounts: { publicUrl: string; sessionIdleMinutes: number; sessionMaxHours: number };
  mail: { from: string; smtpUrl: string; smtpCaFile: string; outboxDir: string };
  log: { level: "debug" | "info" | "warning" | "error"; format: "text" | "json" };
}

/** A configuration problem, phrased for the operator and naming the key. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** `https.port` → `FIELDGATE_HTTPS_PORT`. */
export function envName(key: string): string {
  return "FIELDGATE_" + key.replace(/([a-z])([A-Z])/g, "$1_$2").replace(/\./g, "_").toUpperCase();
}

/** `https.port` → `--https-port`. */
export function flagName(key: string): string {
  return "--" + key.replace(/([a-z])([A-Z])/g, "$1-$2").replace(/\./g, "-").toLowerCase();
}

/** Where the configuration comes from; every field optional so tests can pass only what they need. */
export interface ConfigSources {
  /** Command-line arguments (without the program name). */
  args?: string[];
  /** Environment variables; defaults to none so tests stay hermetic. */
  env?: Record<string, string | undefined>;
  /** Explicit config file; otherwise `--config`, `FIELDGATE_CONFIG` or `./fieldgate.toml` if present. */
  configFile?: string;
  /** Values already shaped like {@link Config}, applied last (used by tests). */
  overrides?: Record<string, unknown>;
}

/** Builds the configuration from all sources, or throws {@link ConfigError}. */
export function loadConfig(sources: ConfigSources = {}): Config {
  const env = sources.env ?? {};
  const flags = parseFlags(sources.args ?? []);
  const raw = new Map<string, unknown>(OPTIONS.map((o) => [o.key, o.default]));

  const configPath = flags.get("--config") ?? sources.configFile ?? env.FIELDGATE_CONFIG ??
    (exists("fieldgate.toml") ? "fieldgate.toml" : undefined);
  if (configPath !== undefined) {
    for (const [key, value] of flatten(readConfigFile(configPath))) {
      if (!raw.has(key)) throw new ConfigError(`${configPath}: unknown key "${key}" (see --help for valid keys)`);
      raw.set(key, value);
    }
  }
  for (const option of OPTIONS) {
    const fromEnv = env[envName(option.key)];
    if (fromEnv !== undefined) raw.set(option.key, fromEnv);
  }
  for (const [flag, value] of flags) {
    if (flag === "--config") continue;
    const option = OPTIONS.find((o) => flagName(o.key) === flag);
    if (!option) throw new ConfigError(`unknown option ${flag} (run with --help to list options)`);
    raw.set(option.key, value);
  }
  for (const [key, value] of flatten(sources.overrides ?? {})) raw.set(key, value);

  const config: Record<string, unknown> = {};
  for (const option of OPTIONS) {
    const result = option.schema.safeParse(raw.get(option.key));
    if (!result.success) {
      throw new ConfigError(
        `invalid value ${JSON.stringify(raw.get(option.key))} for "${option.key}" ` +
          `(${flagName(option.key)}, ${envName(option.key)}): ${describeProblems(result.error)}`,
      );
    }
    setPath(config, option.key, result.data);
  }
  return withDerivedPaths(config as unknown as Config);
}

function withDerivedPaths(config: Config): Config {
  if (config.auth.usersFile === "") config.auth.usersFile = join(config.dataDir, "users.htpasswd");
  if (config.mail.outboxDir === "") config.mail.outboxDir = join(config.dataDir, "outbox");
  if ((config.tls.certFile === "") !== (config.tls.keyFile === "")) {
    throw new ConfigError(
      `"tls.certFile" and "tls.keyFile" must be set together (or both left empty for a dev certificate)`,
    );
  }
  if (
    config.acme.enabled && (config.tls.certFile !== "" || config.acme.domains.trim() === "" || !config.http.enabled)
  ) {
    throw new ConfigError(
      `"acme.enabled" needs "acme.domains" and "http.enabled" (the CA's challenge is answered there), ` +
        `and manages the certificate itself: leave "tls.certFile" empty`,
    );
  }
  return config;
}

/** Parses `--flag value` and `--flag=value`; a bare boolean flag means true. */
function parseFlags(args: string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith("--")) {
      throw new ConfigError(`unexpected argument "${arg}" (options look like --https-port 8443)`);
    }
    const eq = arg.indexOf("=");
    if (eq > 0) {
      flags.set(arg.slice(0, eq), arg.slice(eq + 1));
    } else if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
      flags.set(arg, args[++i]);
    } else {
      flags.set(arg, "true");
    }
  }
  return flags;
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  try {
    return path.endsWith(".json") ? JSON.parse(text) : parseToml(text);
  } catch (error) {
    throw new ConfigError(
      `config file ${path} is not valid ${path.endsWith(".json") ? "JSON" : "TOML"}: ${(error as Error).message}`,
    );
  }
}

function flatten(value: Record<string, unknown>, prefix = ""): [string, unknown][] {
  return Object.entries(value).flatMap(([key, inner]) =>
    inner !== null && typeof inner === "object" && !Array.isArray(inner)
      ? flatten(inner as Record<string, unknown>, `${prefix}${key}.`)
      : [[`${prefix}${key}`, inner] as [string, unknown]]
  );
}

function setPath(target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split(".");
  let node = target;
  for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
  node[parts.at(-1)!] = value;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** The `--help` text: every option with its flag, environment variable and default. */
export function helpText(): string {
  const lines = [
    "fieldgate — secure intake server for field devices and research data",
    "",
    "Usage: deno task start [options]",
    "",
    "Each option can be set in fieldgate.toml (or --config FILE, .toml or .json),",
    "as an environment variable, or as a flag; later sources win:",
    "defaults < config file < environment < flags.",
    "",
    "Options:",
  ];
  for (const option of OPTIONS) {
    lines.push(
      `  ${flagName(option.key)} <value>   [${envName(option.key)}]  default: ${JSON.stringify(option.default)}`,
    );
    lines.push(`      ${option.help}  (file key: ${option.key})`);
  }
  lines.push("  --config <file>   [FIELDGATE_CONFIG]  default: ./fieldgate.toml if present");
  lines.push("  --help            print this text");
  lines.push("", "Users: deno task user --help");
  return lines.join("\n");
}
