/**
 * Where registered devices stand: their distances, farthest first, for the
 * place `username_data` shows, and the grand total under the leader board.
 * Both are aggregates over every device, too slow to compute per request
 * and too slow to rebuild while requests wait (reading 30,000 rows blocks
 * the event loop for tens of milliseconds). So the store loads them once,
 * moves them along with every commit of this process, and replaces them with
 * a fresh snapshot in the background: when they are older than the resync
 * period, or a second after {@link CmxStandings.stale} said another process
 * committed, or after a commit of this process landed while a snapshot was
 * being read (the snapshot may miss it). No request waits for a reload except
 * the very first. The top of the leader board is
 * remembered the same way: until a commit moves a registered device or a
 * resync replaces the standings, asking again reads no rows.
 */

/** Every registered device's metres, farthest first, and the sum over all devices. */
export interface StandingsSnapshot {
  ranking: Float64Array;
  totalMetres: number;
}

/** One row of the leader board: equal distances share a place. */
export interface RankedLeader {
  place: number;
  username: string;
  metres: number;
}

/** A device's distance on the ranking before and after a commit; null when not registered. */
export interface StandingChange {
  before: number | null;
  after: number | null;
}

/**
 * How often PostgreSQL stores resync without being told: other instances
 * announce their commits (see storage/postgres/cmx_store.ts), so this only
 * bounds how long a lost announcement goes unnoticed.
 */
export const SHARED_RESYNC_MS = 60_000;
/** SQLite is one process's file: a resync only picks up what other processes (tools) wrote. */
export const EMBEDDED_RESYNC_MS = 60_000;
/** How soon stale standings reload: announcements arriving in a burst cost one reload a second at most. */
export const STALE_RESYNC_MS = 1000;

/** Live standings; see the module comment. */
export class CmxStandings {
  readonly #load: () => Promise<StandingsSnapshot>;
  readonly #resyncMs: number;
  readonly #now: () => number;
  #ranking: Float64Array = new Float64Array(0);
  #totalMetres = 0;
  /** Distances leaving and joining the ranking since it was last merged. */
  #leaving: number[] = [];
  #joining: number[] = [];
  #first: Promise<void> | undefined;
  #loadedAt = -Infinity;
  #reloading = false;
  /** Something the current snapshot does not show was committed: reload after {@link STALE_RESYNC_MS}. */
  #stale = false;
  /** Leader rows by limit, read while {@link CmxStandings.version} was {@link #leadersVersion}. */
  #leaders = new Map<number, readonly RankedLeader[]>();
  #leadersVersion = -1;
  /** Moves on with every change a leader board could show. */
  #version = 0;

  constructor(load: () => Promise<StandingsSnapshot>, resyncMs: number, now: () => number = Date.now) {
    this.#load = load;
    this.#resyncMs = resyncMs;
    this.#now = now;
  }

  /**
   * Resolves once the standings hold a snapshot: the first call waits for
   * the load; later calls start a background reload when stale and never wait.
   */
  ready(): Promise<void> {
    if (this.#first === undefined) {
      this.#first = this.#reload();
      this.#first.catch(() => (this.#first = undefined));
      return this.#first;
    }
    const period = this.#stale ? STALE_RESYNC_MS : this.#resyncMs;
    if (!this.#reloading && this.#now() - this.#loadedAt >= period) {
      this.#reload().catch(() => {
        // The current standings stay; the next request after the period tries again.
      });
    }
    return this.#first;
  }

  /** Another process committed something these standings do not show: the next request after a second reloads. */
  stale(): void {
    this.#stale = true;
  }

  /** 1 + how many registered devices walked farther than `metres`. */
  place(metres: number): number {
    this.#merge();
    return placeIn(this.#ranking, metres);
  }

  /**
   * The leader board's top `limit` rows: remembered ones while nothing moved
   * since they were read, otherwise `read(limit)`, remembered in turn.
   */
  async leaders(limit: number, read: (limit: number) => Promise<RankedLeader[]>): Promise<readonly RankedLeader[]> {
    if (this.#leadersVersion === this.#version) {
      const known = this.#leaders.get(limit);
      if (known !== undefined) return known;
    }
    // The version before reading: a commit landing while the rows are read makes them stale at once.
    const version = this.#version;
    const rows = await read(limit);
    if (this.#leadersVersion !== version) {
      this.#leaders = new Map();
      this.#leadersVersion = version;
    }
    if (version === this.#version) this.#leaders.set(limit, rows);
    return rows;
  }

  /** Metres walked by all devices, registered or not. */
  get totalMetres(): number {
    return this.#totalMetres;
  }

  /** Moves the standings by what one commit did: metres added over all devices, registered devices changed. */
  apply(addedMetres: number, changes: readonly StandingChange[]): void {
    // Before the first load there is nothing to move: the load reads the committed state.
    if (this.#first === undefined) return;
    // A snapshot being read may or may not hold this commit; whichever it is, the next one will.
    if (this.#reloading) this.#stale = true;
    this.#totalMetres += addedMetres;
    for (const { before, after } of changes) {
      if (before === after) continue;
      if (before !== null) this.#leaving.push(before);
      if (after !== null) this.#joining.push(after);
      this.#version++;
    }
    // Merged lazily on the next place(), but not left to grow without bound when nobody asks.
    if (this.#leaving.length + this.#joining.length > Math.max(1024, this.#ranking.length)) this.#merge();
  }

  async #reload(): Promise<void> {
    this.#reloading = true;
    this.#stale = false;
    try {
      const snapshot = await this.#load();
      // The snapshot replaces whatever moved meanwhile; a commit it missed marked the standings stale.
      this.#ranking = snapshot.ranking;
      this.#totalMetres = snapshot.totalMetres;
      this.#leaving = [];
      this.#joining = [];
      this.#loadedAt = this.#now();
      this.#version++;
    } finally {
      this.#reloading = false;
    }
  }

  /** One pass over the ranking: drops the leaving distances, merges in the joining ones (all farthest first). */
  #merge(): void {
    if (this.#leaving.length === 0 && this.#joining.length === 0) return;
    const descending = (a: number, b: number) => b - a;
    const leaving = this.#leaving.sort(descending);
    const joining = this.#joining.sort(descending);
    const old = this.#ranking;
    const merged = new Float64Array(old.length + joining.length);
    let [i, l, j, n] = [0, 0, 0, 0];
    while (i < old.length || j < joining.length) {
      // A leaving distance the ranking does not hold (another process moved it first) is dropped.
      while (l < leaving.length && (i === old.length || leaving[l] > old[i])) l++;
      if (i < old.length && l < leaving.length && leaving[l] === old[i]) {
        i++;
        l++;
      } else if (j < joining.length && (i === old.length || joining[j] >= old[i])) merged[n++] = joining[j++];
      else merged[n++] = old[i++];
    }
    this.#ranking = merged.slice(0, n);
    this.#leaving = [];
    this.#joining = [];
  }
}

/**
 * A device's place among registered devices: 1 + how many walked farther.
 * `ranking` holds their metres, farthest first; a binary search replaces
 * counting thousands of index entries on every `username_data`.
 */
export function placeIn(ranking: Float64Array, metres: number): number {
  let low = 0;
  let high = ranking.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (ranking[middle] > metres) low = middle + 1;
    else high = middle;
  }
  return low + 1;
}

/**
 * What a committed batch moves: the metres it added over all devices, and
 * the registered devices among `rows` (read in the batch's transaction)
 * that gained distance. `before + added` is the addition the SQL did.
 */
export function batchStandings(
  rows: readonly { mac: string; metres: number; registered: boolean | number }[],
  devices: readonly { mac: string; addedMetres: number }[],
): { addedMetres: number; changes: StandingChange[] } {
  const registered = new Map<string, number>();
  for (const row of rows) if (row.registered) registered.set(row.mac, row.metres);
  let addedMetres = 0;
  const changes: StandingChange[] = [];
  for (const device of devices) {
    addedMetres += device.addedMetres;
    const before = registered.get(device.mac);
    if (before !== undefined && device.addedMetres !== 0) {
      changes.push({ before, after: before + device.addedMetres });
    }
  }
  return { addedMetres, changes };
}
