/**
 * SQLite CMX store. Notification posts go through their own group-commit
 * queue on the writer connection: one `BEGIN IMMEDIATE … COMMIT` (one WAL
 * fsync) per batch, which also serialises every process sharing the file.
 * Registrations are single `BEGIN IMMEDIATE` transactions; queries use the
 * reader connection.
 */
import type { DatabaseSync, SQLInputValue } from "node:sqlite";
import type { RegistrationFacts, RegistrationOutcome } from "../../domain/cmx_live.ts";
import { batchMacs, type CmxQueued, planCmxBatch } from "../cmx_batch.ts";
import { type DistanceRow, distanceStates, rankLeaders } from "../cmx_rows.ts";
import { batchStandings, CmxStandings, EMBEDDED_RESYNC_MS } from "../cmx_standings.ts";
import { type GroupCommitOptions, GroupCommitQueue } from "../group_commit.ts";
import type { CmxBatch, CmxDay, CmxDeviceStanding, CmxLeaderboard, CmxRules, CmxStore, CmxSummary } from "../types.ts";
import { immediateTransaction } from "./migrations.ts";

type Row = Record<string, SQLInputValue>;

/** {@link CmxStore} on SQLite; `close()` commits what is queued (the record store closes the connections). */
export class SqliteCmxStore implements CmxStore {
  readonly #writer: DatabaseSync;
  readonly #queue: GroupCommitQueue<CmxQueued>;
  readonly #write: ReturnType<typeof prepareWrites>;
  readonly #read: ReturnType<typeof prepareReads>;
  readonly #standings: CmxStandings;

  constructor(writer: DatabaseSync, reader: DatabaseSync, commitOptions: GroupCommitOptions) {
    this.#writer = writer;
    this.#write = prepareWrites(writer);
    this.#read = prepareReads(reader);
    // Loaded synchronously, like every commit moves it: no commit can fall between a load and its use.
    this.#standings = new CmxStandings(() =>
      Promise.try(() => ({
        ranking: Float64Array.from(this.#read.ranking.all() as Row[], (row) => row.metres as number),
        totalMetres: this.#read.totalMetres.get()!.n as number,
      })), EMBEDDED_RESYNC_MS);
    this.#queue = new GroupCommitQueue((items) => Promise.try(() => this.#writeBatch(items)), commitOptions);
  }

  record(batch: CmxBatch, rules: CmxRules): Promise<void> {
    return this.#queue.enqueue({ batch, rules });
  }

  register(
    user: { email: string; nickname: string },
    mac: string,
    decide: (facts: RegistrationFacts) => RegistrationOutcome,
  ): Promise<RegistrationOutcome> {
    const w = this.#write;
    return Promise.try(() => {
      const { outcome, joined } = immediateTransaction(this.#writer, () => {
        const outcome = decide({
          userExists: w.userExists.get(user.email) !== undefined,
          deviceOwner: (w.deviceOwner.get(mac)?.owner as string | undefined) ?? null,
          userDevices: Number((w.countDevices.get(user.email) as { devices: number }).devices),
        });
        if (outcome === "created") w.insertUser.run(user.email, user.nickname, Date.now());
        if (outcome !== "created" && outcome !== "device-added") return { outcome, joined: [] };
        w.insertDevice.run(mac, user.email);
        // The device joins the ranking with what it walked before it was registered.
        return { outcome, joined: [{ before: null, after: w.ownDistance.get(mac, user.email)!.metres as number }] };
      });
      this.#standings.apply(0, joined);
      return outcome;
    });
  }

  deleteUser(email: string): Promise<boolean> {
    const w = this.#write;
    return Promise.try(() => {
      const { deleted, disowned } = immediateTransaction(this.#writer, () => {
        const disowned = w.disownDistance.all(email) as Row[];
        return { deleted: Number(w.deleteUser.run(email).changes) > 0, disowned };
      });
      this.#standings.apply(0, disowned.map((row) => ({ before: row.metres as number, after: null })));
      return deleted;
    });
  }

  async userDevices(email: string, days = 0): Promise<CmxDeviceStanding[] | null> {
    // One statement for both questions: no row → no such user; one row without a MAC → a user without devices.
    const rows = this.#read.userDevices.all(email) as Row[];
    if (rows.length === 0) return null;
    await this.#standings.ready();
    return rows.filter((row) => row.mac !== null).map((row) => ({
      mac: row.mac as string,
      metres: row.metres as number,
      place: this.#standings.place(row.metres as number),
      sighted: row.sighted === 1,
      days: days === 0 ? [] : this.#lastDays(row.mac as string, days),
    }));
  }

  deviceDays(mac: string, days: number): Promise<CmxDay[]> {
    return Promise.try(() => this.#lastDays(mac, days));
  }

  async leaderboard(limit: number): Promise<CmxLeaderboard> {
    await this.#standings.ready();
    const leaders = await this.#standings.leaders(limit, (top) =>
      Promise.try(() =>
        rankLeaders(
          (this.#read.leaders.all(top) as Row[]).map((row) => ({
            username: row.username as string,
            metres: row.metres as number,
          })),
        )
      ));
    return { leaders, totalMetres: this.#standings.totalMetres };
  }

  ownerName(mac: string): Promise<string | null> {
    return Promise.try(() => {
      const row = this.#read.ownerName.get(mac);
      return row === undefined ? null : row.nickname as string;
    });
  }

  summary(minutes: number): Promise<CmxSummary> {
    return Promise.try(() => {
      const r = this.#read;
      const since = (Math.floor(Date.now() / 60_000) - minutes + 1) * 60_000;
      return {
        users: r.users.get()!.n as number,
        registeredDevices: r.registeredDevices.get()!.n as number,
        trackedDevices: r.trackedDevices.get()!.n as number,
        totalMetres: r.totalMetres.get()!.n as number,
        zones: r.zones.get()!.n as number,
        perMinute: (r.perMinute.all(since) as Row[]).map((row) => ({
          minute: new Date(row.minute as number),
          notifications: row.notification_count as number,
          newDevices: row.device_count as number,
        })),
      };
    });
  }

  /** SQLite has no unlogged tables; durability is the WAL's. */
  setUnlogged(): Promise<void> {
    return Promise.resolve();
  }

  /** Commits the queued posts, then refuses new ones. */
  close(): Promise<void> {
    return this.#queue.close();
  }

  /** A device's `days` most recent days, oldest first. */
  #lastDays(mac: string, days: number): CmxDay[] {
    return (this.#read.deviceDays.all(mac, days) as Row[])
      .map((row) => ({ day: row.day as string, metres: row.metres as number }))
      .reverse();
  }

  #writeBatch(items: CmxQueued[]): void {
    const w = this.#write;
    const moved = immediateTransaction(this.#writer, () => {
      const macs = batchMacs(items);
      const rows = macs.length === 0 ? [] : w.states.all(JSON.stringify(macs)) as unknown as DistanceRow[];
      const plan = planCmxBatch(items, distanceStates(rows));
      for (const { mac, state, addedMetres } of plan.devices) {
        w.saveDistance.run(
          mac,
          addedMetres,
          state.floorId,
          state.p1.x,
          state.p1.y,
          state.p2.x,
          state.p2.y,
          state.segmentMetres,
          state.lastSeenMs,
        );
      }
      for (const h of plan.history) w.addHistory.run(h.mac, h.day, h.metres);
      for (const c of plan.counts) w.addCount.run(c.minuteMs, c.notifications, c.newDevices);
      for (const z of plan.zones) w.addZone.run(z.zone, z.notifications, z.lastSeenMs);
      return batchStandings(rows, plan.devices);
    });
    this.#standings.apply(moved.addedMetres, moved.changes);
  }
}

function prepareReads(db: DatabaseSync) {
  const single = (expression: string, from: string) => db.prepare(`SELECT ${expression} AS n FROM ${from}`);
  return {
    userDevices: db.prepare(`
      SELECT d.mac, coalesce(s.metres, 0) AS metres, s.floor_id IS NOT NULL AS sighted
      FROM cmx_users u LEFT JOIN cmx_devices d ON d.owner = u.email LEFT JOIN cmx_distance s ON s.mac = d.mac
      WHERE u.email = ? ORDER BY d.mac`),
    // Registered devices' metres, farthest first (the partial index's order), for places.
    ranking: db.prepare("SELECT metres FROM cmx_distance WHERE owner IS NOT NULL ORDER BY metres DESC"),
    deviceDays: db.prepare("SELECT day, metres FROM cmx_distance_history WHERE mac = ? ORDER BY day DESC LIMIT ?"),
    leaders: db.prepare(`
      SELECT u.nickname AS username, s.metres FROM cmx_distance s JOIN cmx_users u ON u.email = s.owner
      WHERE s.owner IS NOT NULL ORDER BY s.metres DESC, s.mac LIMIT ?`),
    ownerName: db.prepare("SELECT u.nickname FROM cmx_devices d JOIN cmx_users u ON u.email = d.owner WHERE d.mac = ?"),
    totalMetres: single("coalesce(sum(metres), 0)", "cmx_distance"),
    users: single("count(*)", "cmx_users"),
    registeredDevices: single("count(*)", "cmx_devices"),
    trackedDevices: single("count(*)", "cmx_distance WHERE floor_id IS NOT NULL"),
    zones: single("count(*)", "cmx_zones"),
    perMinute: db.prepare(
      "SELECT minute, notification_count, device_count FROM cmx_counts WHERE minute >= ? ORDER BY minute",
    ),
  };
}

function prepareWrites(db: DatabaseSync) {
  return {
    states: db.prepare(`
      SELECT mac, floor_id, p1x, p1y, p2x, p2y, segment_metres, last_seen, metres, owner IS NOT NULL AS registered
      FROM cmx_distance WHERE mac IN (SELECT value FROM json_each(?))`),
    saveDistance: db.prepare(`
      INSERT INTO cmx_distance (mac, metres, floor_id, p1x, p1y, p2x, p2y, segment_metres, last_seen)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (mac) DO UPDATE SET metres = metres + excluded.metres, floor_id = excluded.floor_id,
        p1x = excluded.p1x, p1y = excluded.p1y, p2x = excluded.p2x, p2y = excluded.p2y,
        segment_metres = excluded.segment_metres, last_seen = excluded.last_seen`),
    addHistory: db.prepare(`
      INSERT INTO cmx_distance_history (mac, day, metres) VALUES (?, ?, ?)
      ON CONFLICT (mac, day) DO UPDATE SET metres = metres + excluded.metres`),
    addCount: db.prepare(`
      INSERT INTO cmx_counts (minute, notification_count, device_count) VALUES (?, ?, ?)
      ON CONFLICT (minute) DO UPDATE SET notification_count = notification_count + excluded.notification_count,
        device_count = device_count + excluded.device_count`),
    addZone: db.prepare(`
      INSERT INTO cmx_zones (zone, notification_count, last_seen) VALUES (?, ?, ?)
      ON CONFLICT (zone) DO UPDATE SET notification_count = notification_count + excluded.notification_count,
        last_seen = max(last_seen, excluded.last_seen)`),
    userExists: db.prepare("SELECT 1 FROM cmx_users WHERE email = ?"),
    deviceOwner: db.prepare("SELECT owner FROM cmx_devices WHERE mac = ?"),
    countDevices: db.prepare("SELECT count(*) AS devices FROM cmx_devices WHERE owner = ?"),
    insertUser: db.prepare("INSERT INTO cmx_users (email, nickname, created_at) VALUES (?, ?, ?)"),
    insertDevice: db.prepare("INSERT INTO cmx_devices (mac, owner) VALUES (?, ?)"),
    ownDistance: db.prepare(`
      INSERT INTO cmx_distance (mac, owner) VALUES (?, ?) ON CONFLICT (mac) DO UPDATE SET owner = excluded.owner
      RETURNING metres`),
    disownDistance: db.prepare(`
      UPDATE cmx_distance SET owner = NULL
      WHERE owner IS NOT NULL AND mac IN (SELECT mac FROM cmx_devices WHERE owner = ?) RETURNING metres`),
    deleteUser: db.prepare("DELETE FROM cmx_users WHERE email = ?"),
  };
}
