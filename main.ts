/**
 * fieldgate entry point: `deno task start [options]` (`--help` lists them).
 * Loads the configuration, starts every listener, and drains on SIGTERM/SIGINT.
 */
import { getLogger } from "@logtape/logtape";
import { ConfigError, helpText, loadConfig } from "./config.ts";
import { setupLogging } from "./log.ts";
import { startFieldgate } from "./server.ts";

const DRAIN_TIMEOUT_MS = 30_000;

if (import.meta.main) {
  if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
    console.log(helpText());
    Deno.exit(0);
  }
  let config;
  try {
    config = loadConfig({ args: Deno.args, env: Deno.env.toObject() });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`fieldgate: configuration error: ${error.message}`);
    Deno.exit(2);
  }
  await setupLogging(config.log);
  const log = getLogger(["fieldgate"]);
  let server;
  try {
    server = await startFieldgate(config);
  } catch (error) {
    log.fatal("fieldgate could not start: {error}", { error: (error as Error).message });
    Deno.exit(1);
  }
  const running = server;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("{signal}: finishing in-flight requests, then exiting", { signal });
    const timer = setTimeout(() => {
      log.error("drain took longer than {seconds} s; exiting anyway", { seconds: DRAIN_TIMEOUT_MS / 1000 });
      Deno.exit(1);
    }, DRAIN_TIMEOUT_MS);
    await running.close();
    clearTimeout(timer);
    log.info("stopped cleanly");
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
  Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
}
