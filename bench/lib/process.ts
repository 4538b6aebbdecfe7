/**
 * Child processes for the benchmark: servers and load generators run in their
 * own processes (so their CPU is measured apart from the harness), with the
 * highest open-file limit the machine allows and their output in a log file.
 */

/** CPU time and memory of a process, read from `/proc`. */
export interface Usage {
  /** User + system CPU seconds since the process started. */
  cpuSeconds: number;
  /** Resident set size now, in MiB. */
  rssMiB: number;
  /** Peak resident set size, in MiB. */
  peakRssMiB: number;
}

/** A running child process whose stdout and stderr go to {@link Child.logFile}. */
export interface Child {
  readonly pid: number;
  readonly logFile: string;
  /** Resolves when the process exits. */
  readonly status: Promise<Deno.CommandStatus>;
  /**
   * Polls the log until `match` returns a value for one of its lines and resolves with it;
   * rejects (with the log's tail) if the process exits first or `timeoutMs` passes.
   */
  waitFor<T>(match: (line: string) => T | undefined, timeoutMs: number): Promise<T>;
  /** The whole log so far. */
  log(): Promise<string>;
  /** CPU and memory of the process now. */
  usage(): Promise<Usage>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit status. */
  stop(graceMs?: number): Promise<Deno.CommandStatus>;
}

/** What to start. */
export interface SpawnOptions {
  command: string;
  args: string[];
  logFile: string;
  env?: Record<string, string>;
  cwd?: string;
}

const POLL_MS = 50;
const CLOCK_TICKS_PER_SECOND = 100;
// Raise the soft limit as far as allowed: 65536, or the hard limit when that is lower.
const WRAPPER = 'log=$1; shift; ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@" >"$log" 2>&1';

/** Starts `command` through `sh` (to raise `ulimit -n`); the shell `exec`s it, so the pid is the command's. */
export function spawnChild(options: SpawnOptions): Child {
  const process = new Deno.Command("sh", {
    args: ["-c", WRAPPER, "sh", options.logFile, options.command, ...options.args],
    env: options.env,
    cwd: options.cwd,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  let exited = false;
  const status = process.status.finally(() => exited = true);
  const log = () => Deno.readTextFile(options.logFile).catch(() => "");
  return {
    pid: process.pid,
    logFile: options.logFile,
    status,
    log,
    usage: () => processUsage(process.pid),
    async waitFor<T>(match: (line: string) => T | undefined, timeoutMs: number): Promise<T> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const text = await log();
        for (const line of text.split("\n")) {
          const found = match(line);
          if (found !== undefined) return found;
        }
        if (exited || Date.now() > deadline) {
          const why = exited ? `exited with code ${(await status).code}` : `not ready after ${timeoutMs} ms`;
          throw new Error(`${options.command} ${why}; log ${options.logFile} ends with:\n${tail(text)}`);
        }
        await delay(POLL_MS);
      }
    },
    async stop(graceMs = 30_000): Promise<Deno.CommandStatus> {
      if (exited) return await status;
      process.kill("SIGTERM");
      const timer = setTimeout(() => exited || process.kill("SIGKILL"), graceMs);
      try {
        return await status;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Runs a command to completion with a time limit and returns its stdout; throws on failure with its stderr. */
export async function runCommand(command: string, args: string[], timeoutMs: number): Promise<string> {
  const output = await new Deno.Command(command, { args, signal: AbortSignal.timeout(timeoutMs), stdin: "null" })
    .output();
  const text = new TextDecoder();
  if (!output.success) {
    throw new Error(`${command} ${args.join(" ")} failed (code ${output.code}):\n${tail(text.decode(output.stderr))}`);
  }
  return text.decode(output.stdout);
}

/** True when `command args…` runs and exits 0. */
export async function succeeds(command: string, args: string[]): Promise<boolean> {
  try {
    return (await new Deno.Command(command, { args, stdout: "null", stderr: "null" }).output()).success;
  } catch {
    return false;
  }
}

/**
 * CPU seconds (utime + stime) and RSS of a process and all its descendants (gunicorn's workers),
 * from `/proc/<pid>/stat`, `/proc/<pid>/status` and `/proc/<pid>/task/<tid>/children`.
 */
export async function processUsage(pid: number): Promise<Usage> {
  const total: Usage = { cpuSeconds: 0, rssMiB: 0, peakRssMiB: 0 };
  for (const id of await processTree(pid)) {
    try {
      const [stat, status] = await Promise.all([
        Deno.readTextFile(`/proc/${id}/stat`),
        Deno.readTextFile(`/proc/${id}/status`),
      ]);
      // Fields after the parenthesised command name; utime and stime are fields 14 and 15 of the whole line.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0);
      total.cpuSeconds += (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
      total.rssMiB += kib("VmRSS") / 1024;
      total.peakRssMiB += kib("VmHWM") / 1024;
    } catch (error) {
      // A worker that exited between listing and reading counts no more.
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return total;
}

async function processTree(pid: number): Promise<number[]> {
  const children: number[] = [];
  try {
    for await (const task of Deno.readDir(`/proc/${pid}/task`)) {
      const listed = await Deno.readTextFile(`/proc/${pid}/task/${task.name}/children`).catch(() => "");
      children.push(...listed.split(" ").filter(Boolean).map(Number));
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const descendants = await Promise.all(children.map(processTree));
  return [pid, ...descendants.flat()];
}

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function tail(text: string, lines = 15): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}
