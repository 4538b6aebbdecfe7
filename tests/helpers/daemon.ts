/**
 * External programs the tests run as real peers (TLS terminators, load
 * balancers): finding them, free ports for them, and starting them bounded.
 */
import { within } from "../tcp/helpers.ts";

/** A daemon in the foreground, ready once `ready(stderr so far)` says so or `port` accepts connections. */
export async function startDaemon(
  command: string,
  args: string[],
  ready: (log: string) => boolean,
  port?: number,
): Promise<AsyncDisposable> {
  const child = new Deno.Command(command, { args, stdin: "null", stdout: "null", stderr: "piped" }).spawn();
  let log = "";
  const { promise: readyPromise, resolve } = Promise.withResolvers<void>();
  const exited = child.status.then((status) => `${command} exited (${status.code}):\n${log}`);
  const logging = (async () => {
    for await (const text of child.stderr.pipeThrough(new TextDecoderStream())) {
      log += text;
      if (ready(log)) resolve();
    }
  })();
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    await child.status;
    await logging;
  };
  try {
    const started = port === undefined ? readyPromise : waitForPort(port, exited);
    const failed = exited.then((message) => Promise.reject(new Error(message)));
    await within(Promise.race([started, failed]), `${command} to start`);
  } catch (error) {
    await stop();
    throw error;
  }
  return { [Symbol.asyncDispose]: stop };
}

/** Retries connecting until `port` accepts (bounded by the caller) or the daemon exits. */
async function waitForPort(port: number, exited: Promise<string>): Promise<void> {
  let gone = false;
  exited.then(() => gone = true);
  while (!gone) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** A port that was free a moment ago on 127.0.0.1 (for programs that cannot take port 0). */
export function freePort(): number {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return listener.addr.port;
}

/** The first of `names` that runs (exit status aside), or undefined if none is installed. */
export async function firstCommand(names: string[], args: string[]): Promise<string | undefined> {
  for (const name of names) {
    try {
      await new Deno.Command(name, { args, stdout: "null", stderr: "null" }).output();
      return name;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return undefined;
}
