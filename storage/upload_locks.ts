/**
 * One PATCH (or DELETE) at a time per upload: an in-process lock, then the
 * store's lock for other instances sharing the database. A second request
 * does not wait (its body would pile up meanwhile) but is refused at once;
 * tus clients answer that by asking HEAD and resuming.
 */
import type { DropoffStore } from "./types.ts";

/** Per-upload locks for the tus routes. */
export class UploadLocks {
  readonly #store: DropoffStore;
  readonly #held = new Set<string>();

  constructor(store: DropoffStore) {
    this.#store = store;
  }

  /** Runs `work` holding the upload's lock, or returns `busy()` when someone else holds it. */
  async with<T>(id: string, work: () => Promise<T>, busy: () => T): Promise<T> {
    if (this.#held.has(id)) return busy();
    this.#held.add(id);
    try {
      const unlock = await this.#store.tryLockUpload(id);
      if (unlock === null) return busy();
      try {
        return await work();
      } finally {
        await unlock();
      }
    } finally {
      this.#held.delete(id);
    }
  }
}
