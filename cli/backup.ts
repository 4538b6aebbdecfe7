/**
 * `deno task backup create --to DIR|FILE.tar` and `deno task backup restore
 * --from DIR|FILE.tar`: online backup of the embedded store (SQLite snapshot +
 * the data directory's files) while fieldgate runs, and restore into an empty
 * data directory. Server options (`--data-dir`, `--config`, …) choose the data
 * directory, as for the server. PostgreSQL data is backed up with pg_dump.
 */
import { dirname, join, resolve } from "node:path";
import { ConfigError, loadConfig } from "../config.ts";
import { BackupError, createBackup, restoreBackup } from "../storage/backup.ts";
import { takeOptions } from "./options.ts";

const HELP = `Usage: deno task backup <command> [options] [server options]

Commands:
  create --to DIR|FILE.tar     back up the data directory while fieldgate runs: a consistent snapshot of
                               the SQLite database, then every other file (OTT transmissions, uploads,
                               users, certificates). DIR must be new or empty; a .tar path gets a tar file.
  restore --from DIR|FILE.tar  copy a backup into the data directory, which must be new or empty; start
                               fieldgate on it afterwards.

Server options such as --data-dir or --config choose the data directory (see deno task start --help).
With PostgreSQL (databaseUrl set), create copies the files only: back up the database with pg_dump.`;

/** Runs the CLI; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command === undefined || command === "--help" || command === "-h" || rest.includes("--help")) {
    console.log(HELP);
    return command === undefined ? 2 : 0;
  }
  const own = takeOptions(rest, ["--to", "--from"]);
  try {
    const config = loadConfig({ args: own.rest, env: Deno.env.toObject() });
    const dataDir = resolve(config.dataDir);
    if (command === "create") {
      const to = required(own.values.get("--to"), "create --to DIR|FILE.tar");
      const database = config.databaseUrl === "" ? "sqlite" : "postgres";
      const manifest = await viaTar(
        to,
        "create",
        (dir) => createBackup(dataDir, dir, { database, tempSuffix: config.ott.tempSuffix }),
      );
      console.log(
        `Backed up ${dataDir} to ${to}: ${manifest.files} files, ${manifest.bytes} bytes` +
          (database === "sqlite" ? " and the SQLite database." : "."),
      );
      if (database === "postgres") console.error("The database is PostgreSQL and not in this backup: use pg_dump.");
      return 0;
    }
    if (command === "restore") {
      const from = required(own.values.get("--from"), "restore --from DIR|FILE.tar");
      const manifest = await viaTar(from, "restore", (dir) => restoreBackup(dir, dataDir));
      console.log(`Restored the backup of ${manifest.createdAt} into ${dataDir}; start fieldgate on it.`);
      if (manifest.database === "postgres") console.error("Restore the PostgreSQL database with pg_restore/psql.");
      return 0;
    }
    console.error(`backup: unknown command ${JSON.stringify(command)}\n\n${HELP}`);
    return 2;
  } catch (error) {
    if (!(error instanceof ConfigError || error instanceof BackupError)) throw error;
    console.error(`backup: ${error.message}`);
    return 2;
  }
}

function required(value: string | undefined, usage: string): string {
  if (!value) throw new BackupError(`missing path: ${usage}`);
  return value;
}

/** Runs `work` on `path`, or, for a `.tar` path, on a scratch directory packed into or unpacked from it. */
async function viaTar<T>(path: string, direction: "create" | "restore", work: (dir: string) => Promise<T>): Promise<T> {
  if (!path.endsWith(".tar")) return await work(path);
  if (direction === "create") {
    try {
      await Deno.lstat(path);
      throw new BackupError(`${path} exists: give a new file name`);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  const scratch = await Deno.makeTempDir({ dir: dirname(resolve(path)), prefix: ".fieldgate-backup-" });
  try {
    const dir = join(scratch, "backup");
    if (direction === "restore") {
      await Deno.mkdir(dir);
      await tar(["-xf", resolve(path), "-C", dir]);
    }
    const result = await work(dir);
    if (direction === "create") {
      await tar(["-cf", resolve(path), "-C", dir, "."]);
      using file = await Deno.open(path, { read: true });
      await file.sync();
    }
    return result;
  } finally {
    await Deno.remove(scratch, { recursive: true });
  }
}

async function tar(args: string[]): Promise<void> {
  const result = await new Deno.Command("tar", { args, stderr: "piped" }).output();
  if (!result.success) throw new BackupError(`tar ${args.join(" ")}: ${new TextDecoder().decode(result.stderr)}`);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
