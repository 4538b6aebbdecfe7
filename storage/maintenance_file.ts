/**
 * The maintenance window lives in `<dataDir>/maintenance.json`, so the CLI can
 * switch it while fieldgate runs and every instance sharing the data directory
 * sees it. Written atomically; read at most once a second.
 */
import { getLogger } from "@logtape/logtape";
import { join } from "node:path";
import { maintenanceJson, type MaintenanceWindow, parseMaintenanceJson } from "../domain/maintenance.ts";
import { syncDir } from "./directory_sync.ts";
import { replaceFile } from "./replace_file.ts";

const log = getLogger(["fieldgate", "maintenance"]);
const CHECK_MS = 1000;

/** Path of the maintenance file in a data directory. */
export function maintenanceFilePath(dataDir: string): string {
  return join(dataDir, "maintenance.json");
}

/** Writes (or, with null, removes) the window durably. */
export async function writeMaintenance(dataDir: string, window: MaintenanceWindow | null): Promise<void> {
  const path = maintenanceFilePath(dataDir);
  if (window === null) {
    await Deno.remove(path).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
    await syncDir(dataDir);
  } else {
    await replaceFile(path, maintenanceJson(window));
  }
}

/** Reads the current window, re-reading the file at most once a second. A broken file counts as none, loudly. */
export class MaintenanceFile {
  readonly #path: string;
  #window: MaintenanceWindow | null = null;
  #checkedAt = -Infinity;
  #text: string | null = null;

  constructor(dataDir: string) {
    this.#path = maintenanceFilePath(dataDir);
  }

  /** The window in force (possibly cached for up to a second). */
  async current(): Promise<MaintenanceWindow | null> {
    if (Date.now() - this.#checkedAt < CHECK_MS) return this.#window;
    this.#checkedAt = Date.now();
    let text: string | null;
    try {
      text = await Deno.readTextFile(this.#path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      text = null;
    }
    if (text === this.#text) return this.#window;
    this.#text = text;
    if (text === null) {
      if (this.#window) log.info("maintenance window switched off");
      this.#window = null;
      return null;
    }
    const parsed = parseMaintenanceJson(text);
    if (!parsed.ok) {
      log.error("ignoring {path}: {error}; fix it or run `deno task maintenance off`", {
        path: this.#path,
        error: parsed.error,
      });
      this.#window = null;
      return null;
    }
    this.#window = parsed.value;
    log.warn("maintenance announced for {startsAt}: {message}", {
      startsAt: parsed.value.startsAt.toISOString(),
      message: parsed.value.message,
    });
    return this.#window;
  }
}
