/** HTTP load with Debian's `wrk`: a Lua script for the POST, the latency distribution parsed from `--latency`. */
import { ensureDebianPackages } from "./debian.ts";
import { runCommand, succeeds } from "./process.ts";

/** What one wrk run reports. */
export interface WrkResult {
  /** Responses received (any status). */
  requests: number;
  /** Responses with a status outside 2xx/3xx. */
  non2xx: number;
  /** Connect, read, write errors and timeouts. */
  socketErrors: number;
  requestsPerS: number;
  /** How long wrk actually ran, in seconds. */
  durationS: number;
  p50Ms: number;
  p99Ms: number;
}

/** One wrk run. */
export interface WrkOptions {
  url: string;
  connections: number;
  threads: number;
  durationS: number;
  /** Lua script from {@link writePostScript}. */
  script: string;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

/** Installs wrk from Debian when it is missing. */
export function ensureWrk(): Promise<void> {
  // `wrk --version` exits 1 even when installed: look for the binary instead.
  return ensureDebianPackages(["wrk"], () => succeeds("sh", ["-c", "command -v wrk"]));
}

/** The first lines of a wrk Lua script whose requests are POSTs with `headers`. */
export function postPreamble(headers: Record<string, string>): string[] {
  return [
    'wrk.method = "POST"',
    ...Object.entries(headers).map(([name, value]) =>
      `wrk.headers[${JSON.stringify(name)}] = ${JSON.stringify(value)}`
    ),
  ];
}

/** Writes a wrk Lua script that POSTs the file `bodyFile` with `headers`. */
export async function writePostScript(path: string, bodyFile: string, headers: Record<string, string>): Promise<void> {
  const lines = [
    ...postPreamble(headers),
    `local file = assert(io.open(${JSON.stringify(bodyFile)}, "rb"))`,
    'wrk.body = file:read("*a")',
    "file:close()",
  ];
  await Deno.writeTextFile(path, lines.join("\n") + "\n");
}

/**
 * Writes a wrk Lua script that POSTs a body built per request by the Lua expression `bodyExpression`, in which `i`
 * counts the thread's requests from 1.
 */
export async function writeGeneratedPostScript(
  path: string,
  bodyExpression: string,
  headers: Record<string, string>,
): Promise<void> {
  const lines = [
    ...postPreamble(headers),
    "local i = 0",
    "request = function()",
    "  i = i + 1",
    `  return wrk.format(nil, nil, nil, ${bodyExpression})`,
    "end",
  ];
  await Deno.writeTextFile(path, lines.join("\n") + "\n");
}

/** Runs wrk for `durationS` seconds (with a time limit) and parses its report. */
export async function runWrk(options: WrkOptions): Promise<WrkResult> {
  const args = [
    ...["--threads", String(options.threads), "--connections", String(options.connections)],
    ...["--duration", `${options.durationS}s`, "--timeout", "10s", "--latency", "--script", options.script],
    options.url,
  ];
  const report = await runCommand("wrk", args, (options.durationS + 30) * 1000);
  return parseWrkReport(report);
}

/** Parses wrk's text report; throws when an expected line is missing. */
function parseWrkReport(report: string): WrkResult {
  const find = (pattern: RegExp) => {
    const match = pattern.exec(report);
    if (!match) throw new Error(`wrk report without ${pattern}:\n${report}`);
    return match;
  };
  const milliseconds = ([, value, unit]: RegExpExecArray) => Number(value) * UNIT_MS[unit];
  const latency = (percent: number) =>
    milliseconds(find(new RegExp(`^\\s+${percent}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, "m")));
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(report);
  return {
    requests: Number(find(/^\s+(\d+) requests in/m)[1]),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(report)?.[1] ?? 0),
    socketErrors: errors ? errors.slice(1).reduce((sum, count) => sum + Number(count), 0) : 0,
    requestsPerS: Number(find(/^Requests\/sec:\s+([\d.]+)/m)[1]),
    durationS: milliseconds(find(/ requests in ([\d.]+)(us|ms|s|m),/)) / 1000,
    p50Ms: latency(50),
    p99Ms: latency(99),
  };
}
