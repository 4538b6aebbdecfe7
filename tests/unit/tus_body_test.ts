import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { BodyReader, WriteBuffer } from "../../storage/tus_body.ts";

/** Random bytes, not a multiple of the 1 MiB write buffer nor of the 64 KiB read buffer. */
function randomBytes(length: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(length);
  for (let at = 0; at < length; at += 65536) crypto.getRandomValues(bytes.subarray(at, at + 65536));
  return bytes;
}

/** Reads `body` with a BodyReader into a fresh file through a WriteBuffer; the file's bytes and the hash fed. */
async function store(body: ReadableStream<Uint8Array>): Promise<{ stored: Uint8Array; sha256: string }> {
  const path = await Deno.makeTempFile({ prefix: "fieldgate-tus-body-" });
  try {
    const hash = createHash("sha256");
    const file = await Deno.open(path, { write: true });
    try {
      const reader = new BodyReader(body);
      const pending = new WriteBuffer(file, [hash]);
      for (let bytes = await reader.read(); bytes !== null; bytes = await reader.read()) await pending.add(bytes);
      await pending.flush();
    } finally {
      file.close();
    }
    return { stored: await Deno.readFile(path), sha256: hash.digest("hex") };
  } finally {
    await Deno.remove(path);
  }
}

Deno.test("tus body: a request body read into one reused buffer lands whole, in order, and hashed", async () => {
  const sent = randomBytes(3 * 1024 * 1024 + 12_345);
  let received: Promise<{ stored: Uint8Array; sha256: string }> | undefined;
  await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    received = store(request.body!);
    return received.then(() => new Response(null, { status: 204 }));
  });
  const response = await fetch(`http://127.0.0.1:${server.addr.port}/`, { method: "PATCH", body: sent });
  assert.equal(response.status, 204);
  const { stored, sha256 } = await received!;
  assert.deepEqual(stored, sent);
  assert.equal(sha256, createHash("sha256").update(sent).digest("hex"));
});

Deno.test("tus body: a stream that is not a byte stream is read piece by piece", async () => {
  const sent = randomBytes(1024 * 1024 + 7);
  const pieces = [sent.subarray(0, 10), sent.subarray(10, 700_000), sent.subarray(700_000)];
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const piece = pieces.shift();
      if (piece) controller.enqueue(piece);
      else controller.close();
    },
  });
  const { stored } = await store(body);
  assert.deepEqual(stored, sent);
});

Deno.test("tus body: a failed write surfaces from the buffer instead of going unhandled", async () => {
  const path = await Deno.makeTempFile({ prefix: "fieldgate-tus-body-" });
  const readOnly = await Deno.open(path, { read: true });
  try {
    const pending = new WriteBuffer(readOnly, []);
    await assert.rejects(async () => {
      // The first full buffer's write starts in the background; its failure shows by the next one at the latest.
      for (let i = 0; i < 3; i++) await pending.add(new Uint8Array(1024 * 1024));
      await pending.flush();
    });
  } finally {
    readOnly.close();
    await Deno.remove(path);
  }
});
