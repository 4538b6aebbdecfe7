/**
 * The tus clients of the tus scenario: tus-js-client (bench/tus_client.ts in
 * its own process) and curl PATCH, once as curl negotiates by itself (HTTP/2
 * where the server offers it) and once forced to HTTP/1.1; each returns the
 * upload URL and the seconds the upload took.
 */
import { join } from "node:path";
import type { BenchContext } from "./context.ts";
import { runCommand, spawnChild } from "./process.ts";

/** The ways a file goes up. */
export type UploadClient = "tus-js-client" | "curl" | "curl-http1.1";

/** Every client, as `--tus-clients` names them. */
export const UPLOAD_CLIENTS: readonly UploadClient[] = ["tus-js-client", "curl", "curl-http1.1"];

const UPLOAD_TIMEOUT_MS = 30 * 60_000;
const TUS_HEADERS = { "Tus-Resumable": "1.0.0" };

/** Uploads `source` to the tus `endpoint` with `client`; the upload's URL and the seconds it took. */
export async function uploadTo(
  context: BenchContext,
  http: Deno.HttpClient,
  endpoint: string,
  client: UploadClient,
  source: string,
): Promise<{ url: string; seconds: number }> {
  return client === "tus-js-client"
    ? await tusJsClient(context, endpoint, source)
    : await curlPatch(context, http, endpoint, source, client === "curl-http1.1" ? ["--http1.1"] : []);
}

/** The last path segment of an upload URL: the upload id, which both servers use as the file name. */
export function uploadIdOf(url: string): string {
  return new URL(url).pathname.split("/").at(-1)!;
}

/** bench/tus_client.ts in its own process; it times itself, so process start-up is not counted. */
async function tusJsClient(context: BenchContext, endpoint: string, source: string) {
  const child = spawnChild({
    command: context.deno,
    args: [
      ...["run", "-A", join(context.repoRoot, "bench", "tus_client.ts"), "--endpoint", endpoint],
      ...["--file", source, "--ca-file", context.certFile],
    ],
    logFile: join(context.root, `tus-client-${crypto.randomUUID().slice(0, 8)}.log`),
  });
  const timer = setTimeout(() => child.stop(0), UPLOAD_TIMEOUT_MS);
  const status = await child.status;
  clearTimeout(timer);
  const lastLine = (await child.log()).trimEnd().split("\n").at(-1) ?? "";
  if (!status.success || !lastLine.startsWith("{")) {
    throw new Error(`tus-js-client failed (code ${status.code}); log ${child.logFile}:\n${lastLine}`);
  }
  return JSON.parse(lastLine) as { url: string; seconds: number };
}

/** Creates the upload with a POST, then sends the whole file in one streamed `curl -X PATCH -T`; both timed. */
async function curlPatch(
  context: BenchContext,
  http: Deno.HttpClient,
  endpoint: string,
  source: string,
  curlOptions: string[],
) {
  const size = (await Deno.stat(source)).size;
  const startedAt = performance.now();
  const created = await fetch(endpoint, {
    method: "POST",
    headers: { ...TUS_HEADERS, "Upload-Length": String(size) },
    client: http,
  });
  await created.body?.cancel();
  const location = created.headers.get("location");
  if (created.status !== 201 || !location) throw new Error(`tus POST ${endpoint}: ${created.status}`);
  const url = new URL(location, endpoint).href;
  await runCommand("curl", [
    ...[
      "--silent",
      "--show-error",
      "--fail",
      ...curlOptions,
      "--cacert",
      context.certFile,
      "-X",
      "PATCH",
      "-T",
      source,
    ],
    ...["-H", "Tus-Resumable: 1.0.0", "-H", "Upload-Offset: 0", "-H", "Content-Type: application/offset+octet-stream"],
    // No `Expect: 100-continue` round trip: the tus client sends at once too.
    ...["-H", "Expect:", "-o", "/dev/null", url],
  ], UPLOAD_TIMEOUT_MS);
  return { url, seconds: (performance.now() - startedAt) / 1000 };
}
