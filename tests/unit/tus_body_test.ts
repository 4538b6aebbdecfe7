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

/** Writes `megabytes` MiB through a WriteBuffer into a temp file, syncing in the background through `handle`. */
async function writeWithBackgroundSync(megabytes: number, handle: { syncData(): Promise<void> }): Promise<void> {
  const path = await Deno.makeTempFile({ prefix: "fieldgate-tus-body-" });
  const file = await Deno.open(path, { write: true });
  try {
    const pending = new WriteBuffer(file, [], { handle, everyBytes: 2 * 1024 * 1024 });
    for (let i = 0; i < megabytes; i++) await pending.add(new Uint8Array(1024 * 1024));
    await pending.flush();
  } finally {
    file.close();
    await Deno.remove(path);
  }
}

Deno.test("tus body: written bytes are synced every so many bytes while writing goes on", async () => {
  let syncs = 0;
  await writeWithBackgroundSync(12, {
    syncData() {
      syncs++;
      return Promise.resolve();
    },
  });
  // Due after every 2 MiB written, once the previous sync has returned (the first 1 MiB write starts none).
  assert.ok(syncs >= 3 && syncs <= 6, `expected 3 to 6 background syncs of 12 MiB every 2 MiB, got ${syncs}`);
});

Deno.test("tus body: a slow background sync is not started twice, and flush waits for it", async () => {
  let running = 0;
  let mostAtOnce = 0;
  await writeWithBackgroundSync(12, {
    async syncData() {
      mostAtOnce = Math.max(mostAtOnce, ++running);
      await new Promise((resolve) => setTimeout(resolve, 30));
      running--;
    },
  });
  assert.equal(mostAtOnce, 1);
  assert.equal(running, 0, "flush returned while a sync was still running");
});

Deno.test("tus body: a failed background sync fails the flush, even if later syncs would succeed", async () => {
  let calls = 0;
  await assert.rejects(
    writeWithBackgroundSync(12, {
      syncData: () => ++calls === 1 ? Promise.reject(new Error("EIO on fdatasync")) : Promise.resolve(),
    }),
    /EIO on fdatasync/,
  );
});
