import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { RunningHashes } from "../../storage/tus_running_hash.ts";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

Deno.test("tus running hash: carried across PATCHes only at the recorded offset, once", () => {
  const hashes = new RunningHashes();
  const first = hashes.take("u1", 0);
  assert.ok(first, "offset 0 starts a fresh hash");
  first.update("abc");
  hashes.keep("u1", 3, first);

  assert.equal(hashes.take("u1", 5), null, "a hash that does not cover the recorded offset is not handed out");
  assert.equal(hashes.take("u1", 3), null, "a mismatched take dropped it: the caller hashes the file instead");

  const again = hashes.take("u2", 0)!;
  again.update("abc");
  hashes.keep("u2", 3, again);
  const resumed = hashes.take("u2", 3)!;
  assert.equal(hashes.take("u2", 3), null, "taken once: a refused PATCH that never keeps it leaves nothing behind");
  resumed.update("def");
  assert.equal(resumed.digest("hex"), sha256("abcdef"));
  assert.equal(hashes.take("u3", 7), null, "an upload this process never saw falls back to the file");
});

Deno.test("tus running hash: the oldest of more than 1,024 kept uploads is dropped", () => {
  const hashes = new RunningHashes();
  for (let i = 0; i <= 1024; i++) hashes.keep(`u${i}`, 1, createHash("sha256").update("x"));
  assert.equal(hashes.take("u0", 1), null);
  assert.equal(hashes.take("u1024", 1)?.digest("hex"), sha256("x"));
});
