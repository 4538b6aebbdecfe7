/**
 * Real fieldgate servers for integration tests: in-process on free ports, or
 * as a child process (for kill -9 crash tests), each with its own data dir.
 */
import { join } from "node:path";
import { hashPassword } from "../../auth/htpasswd.ts";
import { loadConfig } from "../../config.ts";
import { type RunningServer, startFieldgate } from "../../server.ts";

/** A logger account every test server knows. */
export const LOGGER = { user: "dl001", password: "correct horse battery staple" };

/** Writes an htpasswd file with {@link LOGGER} (bcrypt, as `htpasswd -B` makes). */
export async function writeUsersFile(dataDir: string): Promise<void> {
  await Deno.mkdir(dataDir, { recursive: true });
  await Deno.writeTextFile(join(dataDir, "users.htpasswd"), `${LOGGER.user}:${await hashPassword(LOGGER.password)}\n`);
}

/** An in-process server with an HTTPS client that trusts its dev certificate. */
export interface TestServer extends RunningServer {
  dataDir: string;
  caFile: string;
  client: Deno.HttpClient;
  /** fetch against the HTTPS listener, trusting the dev certificate. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** Stops the server and removes its data dir. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts fieldgate in this process on free ports with a fresh data dir. */
export async function startTestServer(overrides: Record<string, unknown> = {}): Promise<TestServer> {
  const dataDir = await Deno.makeTempDir({ prefix: "fieldgate-it-" });
  await writeUsersFile(dataDir);
  const config = loadConfig({
    overrides: {
      dataDir,
      https: { port: 0, hostname: "127.0.0.1" },
      http: { port: 0 },
      meter: { port: 0, hostname: "127.0.0.1" },
      confo: { port: 0, hostname: "127.0.0.1" },
      ...overrides,
    },
  });
  const server = await startFieldgate(config);
  // With a configured certificate the test brings its own trust; the dev certificate is its own root.
  const caFile = config.tls.certFile || join(config.dataDir, "certs", "dev-cert.pem");
  const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(caFile)] });
  return {
    ...server,
    // A test that passes its own dataDir owns it; the temporary one is removed on dispose.
    dataDir: config.dataDir,
    caFile,
    client,
    fetch: (path, init) => fetch(`${server.httpsUrl}${path}`, { ...init, client } as RequestInit),
    async [Symbol.asyncDispose]() {
      client.close();
      await server.close();
      await Deno.remove(dataDir, { recursive: true });
    },
  };
}

/** Basic-auth header for a user. */
export function basicAuth(user = LOGGER.user, password = LOGGER.password): { authorization: string } {
  return { authorization: `Basic ${btoa(`${user}:${password}`)}` };
}

/** A fieldgate child process reached over HTTPS. */
export interface ChildServer {
  process: Deno.ChildProcess;
  httpsUrl: string;
  meterPort: number;
  confoPort: number;
  /** Everything the child logged so far. */
  output: string[];
  exited: Promise<Deno.CommandStatus>;
}

/** Starts `main.ts` as a child process on free ports and waits until it listens. */
export async function spawnServer(dataDir: string, args: string[] = []): Promise<ChildServer> {
  const process = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "main.ts",
      "--data-dir",
      dataDir,
      "--https-port",
      "0",
      "--https-hostname",
      "127.0.0.1",
      "--http-enabled",
      "false",
      "--meter-port",
      "0",
      "--meter-hostname",
      "127.0.0.1",
      "--confo-port",
      "0",
      "--confo-hostname",
      "127.0.0.1",
      "--log-format",
      "json",
      ...args,
    ],
    cwd: new URL("../..", import.meta.url),
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const output: string[] = [];
  const exited = process.status;
  const listening = new Promise<{ httpsUrl: string; meterPort: number; confoPort: number }>((resolve, reject) => {
    const collect = async (stream: ReadableStream<Uint8Array>) => {
      for await (const line of stream.pipeThrough(new TextDecoderStream()).pipeThrough(lineSplitter())) {
        output.push(line);
        if (line.includes('"httpsPort"')) {
          const { properties } = JSON.parse(line);
          resolve({
            httpsUrl: `https://127.0.0.1:${properties.httpsPort}`,
            meterPort: properties.meterPort,
            confoPort: properties.confoPort,
          });
        }
      }
    };
    collect(process.stdout);
    collect(process.stderr);
    exited.then((status) => reject(new Error(`server exited with ${status.code}:\n${output.join("\n")}`)));
  });
  return { process, ...await listening, output, exited };
}

function lineSplitter(): TransformStream<string, string> {
  let pending = "";
  return new TransformStream({
    transform(chunk, controller) {
      const lines = (pending + chunk).split("\n");
      pending = lines.pop()!;
      for (const line of lines) controller.enqueue(line);
    },
    flush(controller) {
      if (pending) controller.enqueue(pending);
    },
  });
}
