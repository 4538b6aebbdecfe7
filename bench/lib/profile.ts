/**
 * `--profile`: a CPU profile of fieldgate through the V8 inspector (the Chrome
 * DevTools protocol). While a profile is requested, every fieldgate the
 * harness starts runs with `--inspect`, is profiled from "listening" to stop,
 * and leaves a `.cpuprofile` (open it in Chrome DevTools → Performance, or
 * speedscope) and a text summary of the functions with the most self time in
 * the results directory; peers are not started (see `peersSkipped`).
 */
import { join } from "node:path";
import type { Child } from "./process.ts";

/** Where profiles go and how their files are named. */
export interface ProfileRequest {
  directory: string;
  /** File name stem, e.g. "2026-11-23-meter-postgres". */
  name: string;
}

/** The parts of a V8 `.cpuprofile` the summary reads. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

/** A profiler attached to one fieldgate process. */
export interface Profiler {
  /** Stops recording, writes the profile and keeps its summary for {@link stopProfiling}. */
  finish(): Promise<void>;
}

/** The inspector flag for the deno command line: a free port, printed to the log. */
export const INSPECT_FLAG = "--inspect=127.0.0.1:0";
const TOP_FUNCTIONS = 15;
const CONNECT_TIMEOUT_MS = 30_000;

// Module state rather than a parameter threaded through every scenario: the profile pass is one
// re-run of one scenario, and only startFieldgate and measureContenders need to know about it.
let request: ProfileRequest | null = null;
let summaries: string[] = [];

/** Profiles every fieldgate started until {@link stopProfiling}. */
export function startProfiling(next: ProfileRequest): void {
  request = next;
  summaries = [];
}

/** Ends the profile pass; returns the summaries of the profiles it wrote. */
export function stopProfiling(): string[] {
  request = null;
  return summaries;
}

/** True while a profile is requested: only fieldgate is measured then, its peers are not started. */
export function peersSkipped(): boolean {
  return request !== null;
}

/** The current request, or null when nothing is profiled. */
export function profileRequest(): ProfileRequest | null {
  return request;
}

/** Connects to the inspector of `child` (started with {@link INSPECT_FLAG}) and starts the CPU profiler. */
export async function attachProfiler(child: Child, target: ProfileRequest): Promise<Profiler> {
  const url = await child.waitFor((line) => /Debugger listening on (ws:\/\/\S+)/.exec(line)?.[1], CONNECT_TIMEOUT_MS);
  const devtools = await DevTools.connect(url);
  await devtools.call("Profiler.enable");
  await devtools.call("Profiler.start");
  return {
    async finish() {
      const { profile } = await devtools.call("Profiler.stop") as { profile: CpuProfile };
      devtools.close();
      const stem = join(target.directory, `${target.name}-${summaries.length + 1}`);
      const summary = [`${stem}.cpuprofile, top ${TOP_FUNCTIONS} functions by self time:`, ...topSelfTime(profile)];
      await Deno.mkdir(target.directory, { recursive: true });
      await Deno.writeTextFile(`${stem}.cpuprofile`, JSON.stringify(profile));
      await Deno.writeTextFile(`${stem}.txt`, summary.join("\n") + "\n");
      summaries.push(summary.join("\n"));
    },
  };
}

/** The functions with the most self time: "self ms, share, function (file:line)". */
function topSelfTime(profile: CpuProfile): string[] {
  const byNode = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const selfMs = new Map<string, number>();
  let totalMs = 0;
  profile.samples.forEach((nodeId, i) => {
    const frame = byNode.get(nodeId)!;
    const file = frame.url
      ? ` (${frame.url.replace(/^file:\/\/.*?\/(node_modules|work\/main)\//, "")}:${frame.lineNumber + 1})`
      : "";
    const name = `${frame.functionName || "(anonymous)"}${file}`;
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    selfMs.set(name, (selfMs.get(name) ?? 0) + ms);
    totalMs += ms;
  });
  return [...selfMs].sort((a, b) => b[1] - a[1]).slice(0, TOP_FUNCTIONS).map(([name, ms]) =>
    `${ms.toFixed(0).padStart(7)} ms ${(100 * ms / totalMs).toFixed(1).padStart(5)} %  ${name}`
  );
}

/** A minimal Chrome DevTools protocol client over the inspector's WebSocket. */
class DevTools {
  #socket: WebSocket;
  #next = 1;
  #pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data as string);
      const waiting = this.#pending.get(message.id);
      if (!waiting) return; // an event, not an answer
      this.#pending.delete(message.id);
      if (message.error) waiting.reject(new Error(`inspector: ${message.error.message}`));
      else waiting.resolve(message.result);
    };
  }

  static connect(url: string): Promise<DevTools> {
    const socket = new WebSocket(url);
    return new Promise((resolve, reject) => {
      socket.onopen = () => resolve(new DevTools(socket));
      socket.onerror = () => reject(new Error(`cannot connect to the inspector at ${url}`));
    });
  }

  call(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#socket.send(JSON.stringify({ id, method, params }));
    });
  }

  close(): void {
    this.#socket.close();
  }
}
