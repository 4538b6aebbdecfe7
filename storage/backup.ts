/**
 * Online backup of the embedded store while fieldgate runs: a consistent
 * SQLite snapshot (`VACUUM INTO`, a read transaction that never blocks the
 * server's writes in WAL mode) first, then every other file of the data
 * directory. That order keeps the backup as consistent as a crash: rows are
 * recorded only after their files are durable, so every row of the snapshot
 * finds its file; files newer than the snapshot are at worst unreferenced,
 * and tus files longer than their recorded offset are cut back on resumption.
 */
import { DatabaseSync } from "node:sqlite";
import { dirname, join, relative } from "node:path";
import { SQLITE_FILE_NAME } from "./open.ts";

/** Written last into every backup: what it holds, and the proof it is complete. */
export const MANIFEST_NAME = "fieldgate-backup.json";

/** The manifest's content. */
export interface BackupManifest {
  createdAt: string;
  source: string;
  /** `sqlite` (snapshot included) or `postgres` (files only: use pg_dump for the database). */
  database: "sqlite" | "postgres";
  files: number;
  bytes: number;
}

/** Thrown for a backup or restore that must not go ahead; the message says why. */
export class BackupError extends Error {
  override name = "BackupError";
}

/** The SQLite file and its WAL/journal companions: never copied as files (the snapshot replaces them). */
const DATABASE_FILES = new Set(["", "-wal", "-shm", "-journal"].map((suffix) => SQLITE_FILE_NAME + suffix));

/** Backs up `dataDir` into the new or empty directory `target`. */
export async function createBackup(
  dataDir: string,
  target: string,
  options: { database: "sqlite" | "postgres"; tempSuffix: string },
): Promise<BackupManifest> {
  await requireEmptyDirectory(target);
  if (options.database === "sqlite") {
    await snapshotSqlite(join(dataDir, SQLITE_FILE_NAME), join(target, SQLITE_FILE_NAME));
  }
  let files = 0;
  let bytes = 0;
  for await (const path of walkFiles(dataDir)) {
    const name = relative(dataDir, path);
    const base = name.split("/").at(-1)!;
    // In-progress OTT temp files were never acknowledged; the server removes them at start anyway.
    if (DATABASE_FILES.has(name) || (base.startsWith(".") && base.endsWith(options.tempSuffix))) continue;
    const copy = join(target, name);
    await Deno.mkdir(dirname(copy), { recursive: true });
    await Deno.copyFile(path, copy);
    await syncFile(copy);
    files++;
    bytes += (await Deno.stat(copy)).size;
  }
  const manifest: BackupManifest = {
    createdAt: new Date().toISOString(),
    source: dataDir,
    database: options.database,
    files,
    bytes,
  };
  await Deno.writeTextFile(join(target, MANIFEST_NAME), JSON.stringify(manifest, null, 2) + "\n");
  await syncFile(join(target, MANIFEST_NAME));
  return manifest;
}

/** Copies the backup `source` into the new or empty `dataDir`; the server must not run on `dataDir`. */
export async function restoreBackup(source: string, dataDir: string): Promise<BackupManifest> {
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(await Deno.readTextFile(join(source, MANIFEST_NAME)));
  } catch (error) {
    throw new BackupError(
      `${source} is not a complete fieldgate backup (${MANIFEST_NAME}: ${(error as Error).message})`,
    );
  }
  await requireEmptyDirectory(dataDir);
  for await (const path of walkFiles(source)) {
    const name = relative(source, path);
    if (name === MANIFEST_NAME) continue;
    const copy = join(dataDir, name);
    await Deno.mkdir(dirname(copy), { recursive: true });
    await Deno.copyFile(path, copy);
    await syncFile(copy);
  }
  if (manifest.database === "sqlite") checkSqlite(join(dataDir, SQLITE_FILE_NAME));
  return manifest;
}

/** A consistent copy of a live SQLite database, checked before it counts. */
async function snapshotSqlite(database: string, copy: string): Promise<void> {
  try {
    await Deno.stat(database);
  } catch {
    throw new BackupError(`no SQLite database at ${database}: is --data-dir right?`);
  }
  const db = new DatabaseSync(database, { readOnly: true });
  try {
    // The server may hold the write lock for a commit; wait for it rather than fail.
    db.exec("PRAGMA busy_timeout = 10000");
    db.prepare("VACUUM INTO ?").run(copy);
  } finally {
    db.close();
  }
  checkSqlite(copy);
  await syncFile(copy);
}

function checkSqlite(path: string): void {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const { quick_check: result } = db.prepare("PRAGMA quick_check").get() as { quick_check: string };
    if (result !== "ok") throw new BackupError(`${path} failed SQLite's quick_check: ${result}`);
  } finally {
    db.close();
  }
}

async function requireEmptyDirectory(path: string): Promise<void> {
  try {
    for await (const _ of Deno.readDir(path)) {
      throw new BackupError(`${path} is not empty: give a new or empty directory`);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    await Deno.mkdir(path, { recursive: true });
  }
}

async function* walkFiles(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* walkFiles(path);
    else if (entry.isFile) yield path;
  }
}

async function syncFile(path: string): Promise<void> {
  using file = await Deno.open(path, { read: true });
  await file.sync();
}
