import assert from "node:assert/strict";
import { join } from "node:path";
import { createProject, metadata, sha256Hex, testBytes } from "../helpers/dropoff.ts";
import { basicAuth, startTestServer } from "../helpers/server.ts";

/** Runs curl over HTTPS trusting only the server's certificate; returns the response head and body. */
async function curl(caFile: string, args: string[]): Promise<{ status: number; headers: Headers; body: string }> {
  const output = await new Deno.Command("curl", {
    args: ["--silent", "--show-error", "--include", "--cacert", caFile, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const text = new TextDecoder().decode(output.stdout);
  const [head, ...body] = text.split("\r\n\r\n");
  const [statusLine, ...lines] = head.split("\r\n");
  const headers = new Headers(lines.map((line) => line.split(/:\s*/, 2) as [string, string]));
  return { status: Number(statusLine.split(" ")[1]), headers, body: body.join("\r\n\r\n") };
}

Deno.test("curl follows the tus spec by hand: OPTIONS, POST, PATCH in two chunks, HEAD", async () => {
  await using server = await startTestServer();
  const project = await createProject(server.fetch, { code: "letmein" });
  const file = join(server.dataDir, "sample.bin");
  const bytes = testBytes(300_000, 9);
  await Deno.writeFile(file, bytes);
  const half = join(server.dataDir, "half.bin");
  const rest = join(server.dataDir, "rest.bin");
  await Deno.writeFile(half, bytes.subarray(0, 100_000));
  await Deno.writeFile(rest, bytes.subarray(100_000));
  const base = server.httpsUrl;
  const tus = ["-H", "Tus-Resumable: 1.0.0"];
  const octets = ["-H", "Content-Type: application/offset+octet-stream"];

  const options = await curl(server.caFile, ["-X", "OPTIONS", `${base}/files/${project.id}/`]);
  assert.equal(options.headers.get("tus-version"), "1.0.0");

  const created = await curl(server.caFile, [
    ...tus,
    "-X",
    "POST",
    "-H",
    `Upload-Length: ${bytes.length}`,
    "-H",
    `Upload-Metadata: ${metadata({ filename: "sample.bin", code: "letmein", note: "by hand" })}`,
    `${base}/files/${project.id}/`,
  ]);
  assert.equal(created.status, 201);
  const location = `${base}${created.headers.get("location")}`;

  for (const [offset, part] of [[0, half], [100_000, rest]] as const) {
    const patched = await curl(server.caFile, [
      ...tus,
      ...octets,
      "-X",
      "PATCH",
      "-H",
      `Upload-Offset: ${offset}`,
      "--data-binary",
      `@${part}`,
      location,
    ]);
    assert.equal(patched.status, 204);
  }
  const head = await curl(server.caFile, [...tus, "--head", location]);
  assert.equal(head.status, 200);
  assert.equal(head.headers.get("upload-offset"), String(bytes.length));
  assert.equal(head.headers.get("upload-length"), String(bytes.length));

  const [entry] = await (await server.fetch(`/api/projects/${project.id}/uploads`, { headers: basicAuth() })).json();
  assert.equal(entry.sha256, sha256Hex(bytes));
  assert.equal(entry.note, "by hand");
});
