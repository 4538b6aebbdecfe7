/**
 * The tus peer on Node: `@tus/server` and `@tus/file-store` from npm, installed
 * once into a cache directory outside the project (never into its
 * node_modules), next to a copy of bench/peers/tus_node_server.mjs.
 */
import { join } from "node:path";
import type { BenchContext } from "./context.ts";
import { waitForPort } from "./peer.ts";
import { type Child, runCommand, spawnChild } from "./process.ts";

/** Pinned like the project's own npm imports (checked with `npm view`). */
const PACKAGES = ["@tus/server@2.4.5", "@tus/file-store@2.1.1"];
const SERVER_SCRIPT = "tus_node_server.mjs";
const INSTALL_TIMEOUT_MS = 300_000;

/** A running @tus/server and the directory its FileStore writes to. */
export interface TusNodePeer {
  child: Child;
  /** `https://127.0.0.1:<port>/files/` */
  endpoint: string;
  directory: string;
}

/** `~/.cache/fieldgate-bench/<packages>`, with the packages installed (npm, once) and the server script copied. */
export async function ensureTusNode(context: BenchContext): Promise<string> {
  const cache = Deno.env.get("XDG_CACHE_HOME") ?? join(Deno.env.get("HOME") ?? context.root, ".cache");
  const directory = join(cache, "fieldgate-bench", PACKAGES.join("+").replaceAll("/", "_"));
  const installed = await Deno.stat(join(directory, "node_modules/@tus/file-store/package.json")).then(
    () => true,
    () => false,
  );
  if (!installed) {
    console.error(`installing ${PACKAGES.join(" ")} from npm into ${directory}`);
    await Deno.mkdir(directory, { recursive: true });
    await runCommand(
      "npm",
      ["install", "--prefix", directory, "--no-audit", "--no-fund", "--no-save", ...PACKAGES],
      INSTALL_TIMEOUT_MS,
    );
  }
  await Deno.copyFile(join(context.repoRoot, "bench", "peers", SERVER_SCRIPT), join(directory, SERVER_SCRIPT));
  return directory;
}

/** Starts the Node tus server (from {@link ensureTusNode}'s directory) on a fresh upload directory. */
export async function startTusNode(context: BenchContext, installDir: string): Promise<TusNodePeer> {
  const directory = await context.newDir("tus-node-files-");
  const child = spawnChild({
    command: "node",
    args: [
      join(installDir, SERVER_SCRIPT),
      ...["--cert-file", context.certFile, "--key-file", context.keyFile, "--directory", directory],
    ],
    logFile: `${directory}.log`,
  });
  const port = await waitForPort(child);
  return { child, endpoint: `https://127.0.0.1:${port}/files/`, directory };
}
