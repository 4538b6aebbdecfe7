/** The peers in bench/peers: started as child processes that print `{"port":N}` once listening. */
import { join } from "node:path";
import type { BenchContext } from "./context.ts";
import { type Child, spawnChild } from "./process.ts";

const START_TIMEOUT_MS = 30_000;

/** A started peer and its port on 127.0.0.1. */
export interface DenoPeer {
  child: Child;
  port: number;
}

/** Runs `bench/peers/<script>` with the bench certificate and `args`; resolves once it listens. */
export async function startDenoPeer(context: BenchContext, script: string, args: string[] = []): Promise<DenoPeer> {
  const child = spawnChild({
    command: context.deno,
    args: [
      ...["run", "-A", join(context.repoRoot, "bench", "peers", script)],
      ...["--cert-file", context.certFile, "--key-file", context.keyFile, ...args],
    ],
    logFile: join(context.root, `${script}-${crypto.randomUUID().slice(0, 8)}.log`),
  });
  return { child, port: await waitForPort(child) };
}

/** The port a peer prints as `{"port":N}`; stops the peer if it never does. */
export async function waitForPort(child: Child): Promise<number> {
  try {
    return await child.waitFor(portLine, START_TIMEOUT_MS);
  } catch (error) {
    await child.stop();
    throw error;
  }
}

function portLine(line: string): number | undefined {
  return line.startsWith('{"port":') ? JSON.parse(line).port : undefined;
}
