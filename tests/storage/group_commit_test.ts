import assert from "node:assert/strict";
import { GroupCommitQueue, QueueClosedError } from "../../storage/group_commit.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A queue whose commits are recorded, and optionally held open until released. */
function recordingQueue(options: { maxDelayMs: number; maxBatch: number }, fail?: (item: string) => boolean) {
  const commits: string[][] = [];
  let gate: PromiseWithResolvers<void> | undefined;
  const queue = new GroupCommitQueue<string>(async (items) => {
    commits.push([...items]);
    await gate?.promise;
    const bad = items.find((item) => fail?.(item));
    if (bad) throw new Error(`cannot commit ${bad}`);
  }, options);
  return {
    queue,
    commits,
    hold: () => gate = Promise.withResolvers(),
    release: () => gate?.resolve(),
  };
}

Deno.test("group commit: concurrent enqueues share far fewer commits", async () => {
  const { queue, commits } = recordingQueue({ maxDelayMs: 5, maxBatch: 500 });
  await Promise.all(Array.from({ length: 200 }, (_, i) => queue.enqueue(`item ${i}`)));
  assert.equal(commits.length, 1);
  assert.equal(commits[0].length, 200);
  await queue.close();
});

Deno.test("group commit: a batch never exceeds maxBatch and keeps arrival order", async () => {
  const { queue, commits } = recordingQueue({ maxDelayMs: 0, maxBatch: 7 });
  const items = Array.from({ length: 50 }, (_, i) => `item ${i}`);
  await Promise.all(items.map((item) => queue.enqueue(item)));
  assert.ok(commits.every((batch) => batch.length <= 7), JSON.stringify(commits.map((b) => b.length)));
  assert.deepEqual(commits.flat(), items);
  assert.ok(commits.length <= 10, `${commits.length} commits`);
  await queue.close();
});

Deno.test("group commit: enqueue resolves only after its batch committed", async () => {
  const { queue, commits, hold, release } = recordingQueue({ maxDelayMs: 0, maxBatch: 10 });
  hold();
  let done = false;
  const pending = queue.enqueue("a").then(() => done = true);
  await sleep(20);
  assert.equal(commits.length, 1, "commit started");
  assert.equal(done, false, "not acknowledged while the commit is still running");
  release();
  await pending;
  assert.equal(done, true);
  await queue.close();
});

Deno.test("group commit: items arriving during a commit form the next batch, started right after", async () => {
  const { queue, commits, hold, release } = recordingQueue({ maxDelayMs: 300, maxBatch: 10 });
  hold();
  const first = queue.enqueue("a");
  await sleep(350);
  const more = [queue.enqueue("b"), queue.enqueue("c")];
  await sleep(350);
  assert.deepEqual(commits, [["a"]], "b and c wait while a commits");
  const released = Date.now();
  release();
  await Promise.all([first, ...more]);
  assert.deepEqual(commits, [["a"], ["b", "c"]]);
  assert.ok(Date.now() - released < 250, "the next batch did not wait maxDelayMs again");
  await queue.close();
});

Deno.test("group commit: a failing item is retried alone and only its caller gets the error", async () => {
  const { queue, commits } = recordingQueue({ maxDelayMs: 2, maxBatch: 100 }, (item) => item === "bad");
  const results = await Promise.allSettled(["good 1", "bad", "good 2"].map((item) => queue.enqueue(item)));
  assert.deepEqual(results.map((r) => r.status), ["fulfilled", "rejected", "fulfilled"]);
  assert.match(((results[1] as PromiseRejectedResult).reason as Error).message, /cannot commit bad/);
  assert.deepEqual(commits, [["good 1", "bad", "good 2"], ["good 1"], ["bad"], ["good 2"]]);
  await queue.enqueue("after"); // the queue keeps working
  await queue.close();
});

Deno.test("group commit: an error failsWholeBatch names fails every caller at once and the queue keeps working", async () => {
  const commits: string[][] = [];
  let down = true;
  const queue = new GroupCommitQueue<string>((items) => {
    commits.push([...items]);
    return down ? Promise.reject(new Error("connection lost")) : Promise.resolve();
  }, { maxDelayMs: 2, maxBatch: 100, failsWholeBatch: (error) => (error as Error).message === "connection lost" });
  const results = await Promise.allSettled(["a", "b", "c"].map((item) => queue.enqueue(item)));
  assert.deepEqual(results.map((r) => r.status), ["rejected", "rejected", "rejected"]);
  assert.deepEqual(commits, [["a", "b", "c"]], "no item-by-item retries");
  down = false;
  await queue.enqueue("after");
  await queue.close();
});

Deno.test("group commit: a synchronous throw in commitBatch becomes that item's rejection", async () => {
  const queue = new GroupCommitQueue<number>((items) => {
    if (items.includes(13)) throw new TypeError("unlucky");
    return Promise.resolve();
  }, { maxDelayMs: 0, maxBatch: 10 });
  const results = await Promise.allSettled([12, 13, 14].map((n) => queue.enqueue(n)));
  assert.deepEqual(results.map((r) => r.status), ["fulfilled", "rejected", "fulfilled"]);
  await queue.close();
});

Deno.test("group commit: onCommit reports batch sizes and its errors are ignored", async () => {
  const sizes: number[] = [];
  const queue = new GroupCommitQueue<number>(() => Promise.resolve(), {
    maxDelayMs: 1,
    maxBatch: 4,
    onCommit: (size) => {
      sizes.push(size);
      throw new Error("observer bug");
    },
  });
  await Promise.all([1, 2, 3, 4, 5, 6].map((n) => queue.enqueue(n)));
  assert.deepEqual(sizes, [4, 2]);
  await queue.close();
});

Deno.test("group commit: close commits what is pending at once, then refuses new items", async () => {
  const { queue, commits } = recordingQueue({ maxDelayMs: 1_000, maxBatch: 100 });
  const started = Date.now();
  const pending = [queue.enqueue("a"), queue.enqueue("b")];
  await queue.close();
  assert.ok(Date.now() - started < 500, "close did not wait for maxDelayMs");
  await Promise.all(pending);
  assert.deepEqual(commits, [["a", "b"]]);
  await assert.rejects(
    queue.enqueue("late"),
    (error) => error instanceof QueueClosedError && /closed/.test(error.message),
  );
  await queue.close(); // idempotent
});

Deno.test("group commit: close waits for the commit in flight and the batch queued behind it", async () => {
  const { queue, commits, hold, release } = recordingQueue({ maxDelayMs: 0, maxBatch: 100 });
  hold();
  const first = queue.enqueue("a");
  await sleep(10);
  const second = queue.enqueue("b");
  const closed = queue.close();
  release();
  await closed;
  assert.deepEqual(commits, [["a"], ["b"]]);
  await Promise.all([first, second]);
});

Deno.test("group commit: rejects nonsensical options", () => {
  const commit = () => Promise.resolve();
  assert.throws(() => new GroupCommitQueue(commit, { maxDelayMs: 1, maxBatch: 0 }), RangeError);
  assert.throws(() => new GroupCommitQueue(commit, { maxDelayMs: -1, maxBatch: 1 }), RangeError);
  assert.throws(() => new GroupCommitQueue(commit, { maxDelayMs: 1, maxBatch: 1, maxInFlight: 0 }), RangeError);
});

/** A queue whose every commit waits for its own release, in any order. */
function gatedQueue(options: { maxDelayMs: number; maxBatch: number; maxInFlight: number }) {
  const commits: { items: string[]; release: () => void }[] = [];
  const queue = new GroupCommitQueue<string>((items) => {
    const { promise, resolve } = Promise.withResolvers<void>();
    commits.push({ items: [...items], release: resolve });
    return promise;
  }, options);
  return { queue, commits };
}

Deno.test("group commit: with two in flight, a batch starts while the previous one still commits", async () => {
  const { queue, commits } = gatedQueue({ maxDelayMs: 0, maxBatch: 10, maxInFlight: 2 });
  const first = queue.enqueue("a");
  await sleep(10);
  const second = queue.enqueue("b");
  await sleep(10);
  const third = queue.enqueue("c");
  await sleep(10);
  assert.deepEqual(commits.map((commit) => commit.items), [["a"], ["b"]], "c waits for a free slot");
  let secondDone = false;
  second.then(() => secondDone = true);
  commits[1].release();
  await second;
  assert.ok(secondDone, "b is acknowledged before a, whose commit is still running");
  await sleep(10);
  assert.deepEqual(commits.map((commit) => commit.items), [["a"], ["b"], ["c"]], "c took b's slot at once");
  commits[0].release();
  commits[2].release();
  await Promise.all([first, third]);
  await queue.close();
});

Deno.test("group commit: close waits for every batch in flight and those queued behind them", async () => {
  const { queue, commits } = gatedQueue({ maxDelayMs: 0, maxBatch: 1, maxInFlight: 2 });
  const items = ["a", "b", "c", "d"].map((item) => queue.enqueue(item));
  await sleep(10);
  let closed = false;
  const closing = queue.close().then(() => closed = true);
  for (let round = 0; round < 2; round++) {
    await sleep(10);
    assert.equal(closed, false, `closed with ${commits.length} batches started`);
    for (const commit of commits.splice(0)) commit.release();
  }
  await closing;
  await Promise.all(items);
  assert.equal(commits.length, 0);
});
