/**
 * The drop-off part of the record store contract: projects, upload progress,
 * expiry queries and the cross-instance upload lock.
 */
import assert from "node:assert/strict";
import type { Project } from "../../domain/dropoff.ts";
import type { TusUpload } from "../../storage/types.ts";
import { contractCases, type ContractDatabase } from "./harness.ts";

const BASE_TIME = Date.UTC(2024, 2, 5, 10, 0, 0, 123);
const minutes = (n: number) => new Date(BASE_TIME + n * 60_000);

function project(owner: string, createdAt: Date, overrides: Partial<Project> = {}): Project {
  return {
    id: crypto.randomUUID(),
    owner,
    name: "samples",
    codeHash: null,
    maxSizeBytes: null,
    quotaBytes: null,
    allowedTypes: [],
    expiresAt: null,
    createdAt,
    publicKey: null,
    ...overrides,
  };
}

function upload(projectId: string, overrides: Partial<TusUpload> = {}): TusUpload {
  return {
    id: crypto.randomUUID().replaceAll("-", ""),
    projectId,
    length: 100,
    offset: 0,
    metadata: { filename: "ünïcode name.csv", project: projectId },
    createdAt: minutes(0),
    expiresAt: minutes(60),
    finishedAt: null,
    sha256: null,
    concat: null,
    ...overrides,
  };
}

/** Registers the drop-off contract cases for one adapter, named `<name> contract: dropoff: …`. */
export function dropoffStoreContract(name: string, freshDatabase: () => Promise<ContractDatabase>): void {
  const contractCase = contractCases(name, freshDatabase);

  contractCase("dropoff: projects round-trip and list per owner, newest first", async (open) => {
    const store = await open();
    const full = project("alice", minutes(1), {
      codeHash: "ab".repeat(32),
      maxSizeBytes: 5 * 1024 ** 3,
      quotaBytes: 2 ** 40,
      allowedTypes: ["csv", "txt"],
      expiresAt: minutes(90),
      publicKey: "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxjMEZ…\n-----END PGP PUBLIC KEY BLOCK-----\n",
    });
    const older = project("alice", minutes(0));
    await store.dropoff.createProject(older);
    await store.dropoff.createProject(full);
    await store.dropoff.createProject(project("bob", minutes(2)));
    assert.deepEqual(await store.dropoff.project(full.id), full);
    assert.equal(await store.dropoff.project(crypto.randomUUID()), null);
    assert.deepEqual(await store.dropoff.projects("alice"), [full, older]);
    assert.deepEqual(await store.dropoff.projects("nobody"), []);
  });

  contractCase("dropoff: uploads progress, finish, count towards the quota, expire and go", async (open) => {
    const store = await open();
    const owned = project("alice", minutes(0));
    await store.dropoff.createProject(owned);
    const sized = upload(owned.id, { length: 3 * 2 ** 40 }); // above 2^32: bigint columns
    const deferred = upload(owned.id, { length: null, createdAt: minutes(1), expiresAt: minutes(5) });
    await store.dropoff.createUpload(sized);
    await store.dropoff.createUpload(deferred);
    assert.deepEqual(await store.dropoff.upload(sized.id), sized);
    assert.equal(await store.dropoff.upload("0".repeat(32)), null);

    await store.dropoff.saveProgress(deferred.id, { offset: 40, length: null, expiresAt: minutes(6) });
    assert.equal(await store.dropoff.projectBytes(owned.id), 3 * 2 ** 40 + 40);
    await store.dropoff.saveProgress(deferred.id, { offset: 50, length: 70, expiresAt: minutes(7) });
    assert.equal(await store.dropoff.projectBytes(owned.id), 3 * 2 ** 40 + 70);
    const full = { offset: 3 * 2 ** 40, length: 3 * 2 ** 40 };
    await store.dropoff.finish(sized.id, full, "cd".repeat(32), minutes(8));
    const [first, second] = await store.dropoff.uploads(owned.id);
    assert.deepEqual(first, { ...sized, ...full, sha256: "cd".repeat(32), finishedAt: minutes(8) });
    assert.deepEqual(second, { ...deferred, offset: 50, length: 70, expiresAt: minutes(7) });

    // Finished uploads never expire; unfinished ones do once their expiry passed.
    assert.deepEqual((await store.dropoff.expiredUploads(minutes(7))).map((u) => u.id), []);
    assert.deepEqual((await store.dropoff.expiredUploads(minutes(10_000))).map((u) => u.id), [deferred.id]);
    await store.dropoff.deleteUpload(deferred.id);
    assert.equal(await store.dropoff.upload(deferred.id), null);
    assert.equal(await store.dropoff.projectBytes(owned.id), 3 * 2 ** 40);
  });

  contractCase("dropoff: a concatenation finishes the final and forgets its partials at once", async (open) => {
    const store = await open();
    const owned = project("alice", minutes(0));
    await store.dropoff.createProject(owned);
    const partDone = { offset: 100, length: 100, sha256: "ab".repeat(32), finishedAt: minutes(2) };
    const parts = [
      upload(owned.id, { concat: { kind: "partial" } }),
      upload(owned.id, { concat: { kind: "partial" } }),
    ];
    const stray = upload(owned.id, { concat: { kind: "partial" }, createdAt: minutes(1) });
    for (const part of [...parts, stray]) {
      await store.dropoff.createUpload(part);
      await store.dropoff.finish(part.id, partDone, partDone.sha256, partDone.finishedAt);
    }
    const final = upload(owned.id, {
      length: 200,
      createdAt: minutes(3),
      concat: { kind: "final", partIds: parts.map((part) => part.id) },
    });
    await store.dropoff.createUpload(final);
    assert.deepEqual(await store.dropoff.upload(final.id), final);
    assert.deepEqual(await store.dropoff.upload(parts[0].id), { ...parts[0], ...partDone });
    assert.equal(await store.dropoff.projectBytes(owned.id), 500);

    const done = { offset: 200, length: 200 };
    await store.dropoff.finishConcatenation(final.id, done, "ef".repeat(32), minutes(4), parts.map((part) => part.id));
    assert.deepEqual((await store.dropoff.uploads(owned.id)).map((u) => u.id), [stray.id, final.id]);
    assert.deepEqual(await store.dropoff.upload(final.id), {
      ...final,
      ...done,
      sha256: "ef".repeat(32),
      finishedAt: minutes(4),
    });
    assert.equal(await store.dropoff.projectBytes(owned.id), 300);
    // A finished partial no final took expires like an unfinished upload; the finished final never does.
    assert.deepEqual((await store.dropoff.expiredUploads(minutes(10_000))).map((u) => u.id), [stray.id]);
  });

  contractCase("dropoff: an upload's lock excludes other instances until released", async (open) => {
    const [one, two] = [await open(), await open()];
    const id = crypto.randomUUID().replaceAll("-", "");
    const unlock = await one.dropoff.tryLockUpload(id);
    assert.ok(unlock);
    const rival = await two.dropoff.tryLockUpload(id);
    // SQLite serves one host: its store lock always succeeds and the in-process lock does the work.
    if (one.backend === "postgres") assert.equal(rival, null);
    await rival?.();
    await unlock();
    const again = await two.dropoff.tryLockUpload(id);
    assert.ok(again);
    await again();
  });
}
