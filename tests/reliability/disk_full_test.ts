/**
 * Disk full under load with SQLite and the OTT tree on one small tmpfs data
 * dir (needs root, as CI has): OTT loggers, meters, confos and CMX keep
 * posting while a filler file takes the last byte. Clients get errors, and
 * never an acknowledgement for what could not be written; the server keeps
 * running; once the filler is deleted every protocol is acknowledged again
 * without a restart, the database passes its integrity check, no temp file is
 * left in the synced tree, and every acknowledged item is stored.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { loadConfig } from "../../config.ts";
import { openRecordStore, SQLITE_FILE_NAME } from "../../storage/open.ts";
import { CMX_FLAGS, PROTOCOLS, startIntakeLoad, stopServer, withServerLog } from "../helpers/intake_load.ts";
import { run } from "../helpers/command.ts";
import { filesUnder } from "../helpers/ott_transmission.ts";
import { spawnServer, writeUsersFile } from "../helpers/server.ts";

const FULL_MS = 2_500;
/** Longest a protocol may take to be acknowledged again once space is back. */
const RECOVERY_MS = 5_000;

Deno.test("disk full: errors, nothing unstored acknowledged, no corruption, recovery when space returns", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "fieldgate-datadir-full-" });
  await run("mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", dataDir);
  try {
    await writeUsersFile(dataDir);
    const server = await spawnServer(dataDir, CMX_FLAGS);
    const load = startIntakeLoad(server, join(dataDir, "certs", "dev-cert.pem"), {
      loggers: 4,
      meters: 8,
      confos: 2,
      cmx: 4,
    });
    const filler = join(dataDir, "filler");
    let exitCode: number;
    try {
      await load.untilAcknowledged(0, RECOVERY_MS);
      await sleep(1_000);
      await fillDisk(filler);
      const fullAt = Date.now();
      await sleep(FULL_MS);
      const fullUntil = Date.now();
      // Space freed by failed writes cleaning up (temp files, the SQLite journal) may let a small write
      // through now and then: what gets acknowledged must be durable, which verify() checks below.
      for (const protocol of PROTOCOLS) {
        const refused = load.answers(protocol, fullAt, fullUntil).filter((event) => !event.acknowledged);
        assert.ok(refused.length > 0, `${protocol} clients got errors, not hangs, while the disk was full`);
      }

      await Deno.remove(filler);
      const recoveredMs = await load.untilAcknowledged(Date.now(), RECOVERY_MS);
      await sleep(500);
      await load.stop();
      console.log(`every protocol acknowledged again ${recoveredMs} ms after the filler file was deleted`);
      console.log(load.summary(fullAt, fullUntil));
    } catch (error) {
      throw withServerLog(error, server);
    } finally {
      await load.stop();
      exitCode = await stopServer(server);
    }
    if (exitCode !== 0) {
      throw withServerLog(new Error(`the server did not survive the full disk: exit ${exitCode}`), server);
    }

    const ottFiles = await filesUnder(join(dataDir, "ott"));
    assert.deepEqual(ottFiles.filter((file) => file.endsWith(".tmp")), [], "no temp file left in the synced tree");
    const db = new DatabaseSync(join(dataDir, SQLITE_FILE_NAME), { readOnly: true });
    try {
      const { integrity_check } = db.prepare("PRAGMA integrity_check").get() as { integrity_check: string };
      assert.equal(integrity_check, "ok", "the database is intact");
    } finally {
      db.close();
    }
    const store = await openRecordStore(loadConfig({ overrides: { dataDir } }));
    try {
      await load.verify(store);
    } finally {
      await store.close();
    }
  } finally {
    await run("umount", dataDir);
    await Deno.remove(dataDir, { recursive: true });
  }
});

/** Writes `path` until the filesystem has no byte left (ENOSPC). */
async function fillDisk(path: string): Promise<void> {
  using file = await Deno.open(path, { write: true, create: true });
  for (const size of [1 << 20, 4096, 1]) {
    const chunk = new Uint8Array(size);
    try {
      for (;;) await file.write(chunk);
    } catch (error) {
      if (!(error instanceof Error && /No space left|ENOSPC/.test(error.message))) throw error;
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
