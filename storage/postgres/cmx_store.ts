/**
 * PostgreSQL CMX store. Each group-commit batch is one transaction: create
 * missing device rows and lock every device of the batch in MAC order (two
 * instances sharing the database then never deadlock, and a batch always
 * reads the state the previous one committed), plan in JavaScript, then
 * write devices, history, counters and zones as array parameters, pipelined.
 */
import { getLogger } from "@logtape/logtape";
import type postgres from "postgres";
import { errorMessage } from "../../domain/error_message.ts";
import type { RegistrationFacts, RegistrationOutcome } from "../../domain/cmx_live.ts";
import { batchMacs, type CmxQueued, planCmxBatch } from "../cmx_batch.ts";
import { type DistanceRow, distanceStates, rankLeaders } from "../cmx_rows.ts";
import { batchStandings, CmxStandings, SHARED_RESYNC_MS, type StandingChange } from "../cmx_standings.ts";
import { type GroupCommitOptions, GroupCommitQueue } from "../group_commit.ts";
import type { CmxBatch, CmxDay, CmxDeviceStanding, CmxLeaderboard, CmxRules, CmxStore, CmxSummary } from "../types.ts";
import { transaction } from "./transaction.ts";

const log = getLogger(["fieldgate", "cmx"]);

/** The tables cmx.unlogged switches; registrations (cmx_users, cmx_devices) always stay logged. */
const UNLOGGABLE = ["cmx_distance", "cmx_distance_history", "cmx_counts", "cmx_zones"] as const;

/**
 * The channel on which instances sharing the database announce CMX commits
 * that move the standings; the payload is the committing instance's id.
 * NOTIFY is delivered only once its transaction committed, so a reload it
 * starts reads the announced commit.
 */
const CHANGES_CHANNEL = "fieldgate_cmx_changes";

/** {@link CmxStore} on PostgreSQL; `close()` commits what is queued (the record store ends the pool). */
export class PostgresCmxStore implements CmxStore {
  readonly #sql: postgres.Sql;
  readonly #instance = crypto.randomUUID();
  readonly #listening: Promise<{ unlisten(): Promise<void> } | null>;
  /** The connection of the per-request lookups (`username_data`, `ip_username`): see openPostgresStore. */
  readonly #live: postgres.Sql;
  readonly #queue: GroupCommitQueue<CmxQueued>;
  readonly #standings: CmxStandings;

  constructor(sql: postgres.Sql, live: postgres.Sql, commitOptions: GroupCommitOptions) {
    this.#sql = sql;
    this.#live = live;
    this.#standings = new CmxStandings(async () => {
      // The server sorts and packs the ranking into one bytea: parsing 30,000 rows would block the event loop.
      const [row] = await sql`
        select (select coalesce(sum(metres), 0)::float8 from cmx_distance) as total,
               (select string_agg(float8send(metres), ''::bytea order by metres desc)
                from cmx_distance where owner is not null) as ranking`;
      return { ranking: float8Array(row.ranking ?? new Uint8Array()), totalMetres: row.total };
    }, SHARED_RESYNC_MS);
    this.#queue = new GroupCommitQueue((items) => this.#writeBatch(items), commitOptions);
    // Other instances' commits make the standings stale; so does every (re)connection of the listener, since
    // announcements made while it was away are lost. Without a listener the standings still resync periodically.
    this.#listening = sql.listen(CHANGES_CHANNEL, (instance) => {
      if (instance !== this.#instance) this.#standings.stale();
    }, () => this.#standings.stale()).catch((error) => {
      log.warn("CMX standings will only resync every {seconds} s: cannot listen for other instances: {error}", {
        seconds: SHARED_RESYNC_MS / 1000,
        error: errorMessage(error),
      });
      return null;
    });
  }

  /** Tells the other instances, once `tx` commits, that the standings moved. */
  async #announce(tx: postgres.TransactionSql): Promise<void> {
    await tx`select pg_notify(${CHANGES_CHANNEL}, ${this.#instance})`;
  }

  record(batch: CmxBatch, rules: CmxRules): Promise<void> {
    return this.#queue.enqueue({ batch, rules });
  }

  async register(
    user: { email: string; nickname: string },
    mac: string,
    decide: (facts: RegistrationFacts) => RegistrationOutcome,
  ): Promise<RegistrationOutcome> {
    const { outcome, joined } = await transaction(this.#sql, async (tx) => {
      // Serialises registrations of one email and of one device, so two instances cannot both create them.
      await tx`select pg_advisory_xact_lock(hashtextextended(${user.email}, 1)),
                      pg_advisory_xact_lock(hashtextextended(${mac}, 2))`;
      const [facts] = await tx`
        select exists (select 1 from cmx_users where email = ${user.email}) as user_exists,
               (select owner from cmx_devices where mac = ${mac}) as device_owner,
               (select count(*)::int from cmx_devices where owner = ${user.email}) as user_devices`;
      const outcome = decide({
        userExists: facts.user_exists,
        deviceOwner: facts.device_owner,
        userDevices: facts.user_devices,
      });
      if (outcome === "created") {
        await tx`insert into cmx_users (email, nickname) values (${user.email}, ${user.nickname})`;
      }
      if (outcome !== "created" && outcome !== "device-added") return { outcome, joined: [] };
      await tx`insert into cmx_devices (mac, owner) values (${mac}, ${user.email})`;
      // The device joins the ranking with what it walked before it was registered.
      const [{ metres }] = await tx`insert into cmx_distance (mac, owner) values (${mac}, ${user.email})
               on conflict (mac) do update set owner = excluded.owner returning metres`;
      await this.#announce(tx);
      return { outcome, joined: [{ before: null, after: metres as number }] };
    });
    this.#standings.apply(0, joined);
    return outcome;
  }

  async deleteUser(email: string): Promise<boolean> {
    const { deleted, left } = await transaction(this.#sql, async (tx) => {
      const disowned = await tx`
        update cmx_distance set owner = null
        where owner is not null and mac in (select mac from cmx_devices where owner = ${email}) returning metres`;
      const left: StandingChange[] = disowned.map((row) => ({ before: row.metres as number, after: null }));
      if (left.length > 0) await this.#announce(tx);
      return { deleted: (await tx`delete from cmx_users where email = ${email}`).count > 0, left };
    });
    this.#standings.apply(0, left);
    return deleted;
  }

  async userDevices(email: string, days = 0): Promise<CmxDeviceStanding[] | null> {
    // One statement for all three questions: no row → no such user; one row without a MAC → a user
    // without devices; each device's last days ride along as two arrays (no extra query per device).
    const [rows] = await Promise.all([
      this.#live`
        select d.mac, coalesce(s.metres, 0) as metres, s.floor_id is not null as sighted,
               h.days, h.day_metres
        from cmx_users u left join cmx_devices d on d.owner = u.email left join cmx_distance s on s.mac = d.mac
        left join lateral (
          select array_agg(r.day order by r.day) as days, array_agg(r.metres order by r.day) as day_metres
          from (select day, metres from cmx_distance_history where mac = d.mac order by day desc limit ${days}) r
        ) h on true
        where u.email = ${email} order by d.mac`,
      this.#standings.ready(),
    ]);
    if (rows.length === 0) return null;
    return rows.filter((row) => row.mac !== null).map((row) => ({
      mac: row.mac,
      metres: row.metres,
      place: this.#standings.place(row.metres),
      sighted: row.sighted,
      days: ((row.days ?? []) as string[]).map((day, i) => ({ day, metres: row.day_metres[i] as number })),
    }));
  }

  async deviceDays(mac: string, days: number): Promise<CmxDay[]> {
    const rows = await this.#live`
      select day, metres from cmx_distance_history where mac = ${mac} order by day desc limit ${days}`;
    return rows.map((row) => ({ day: row.day, metres: row.metres })).reverse();
  }

  async leaderboard(limit: number): Promise<CmxLeaderboard> {
    await this.#standings.ready();
    const leaders = await this.#standings.leaders(limit, async (top) => {
      const rows = await this.#sql`
        select u.nickname as username, s.metres from cmx_distance s join cmx_users u on u.email = s.owner
        where s.owner is not null order by s.metres desc, s.mac limit ${top}`;
      return rankLeaders(rows.map((row) => ({ username: row.username, metres: row.metres })));
    });
    return { leaders, totalMetres: this.#standings.totalMetres };
  }

  async ownerName(mac: string): Promise<string | null> {
    const rows = await this.#live`
      select u.nickname from cmx_devices d join cmx_users u on u.email = d.owner where d.mac = ${mac}`;
    return rows.length === 0 ? null : rows[0].nickname;
  }

  async summary(minutes: number): Promise<CmxSummary> {
    const sql = this.#sql;
    const since = new Date((Math.floor(Date.now() / 60_000) - minutes + 1) * 60_000);
    const [[totals], perMinute] = await Promise.all([
      sql`select (select count(*) from cmx_users)::int as users,
                 (select count(*) from cmx_devices)::int as registered,
                 (select count(*) from cmx_distance where floor_id is not null)::int as tracked,
                 (select coalesce(sum(metres), 0) from cmx_distance)::float8 as metres,
                 (select count(*) from cmx_zones)::int as zones`,
      sql`select minute, notification_count, device_count from cmx_counts where minute >= ${since} order by minute`,
    ]);
    return {
      users: totals.users,
      registeredDevices: totals.registered,
      trackedDevices: totals.tracked,
      totalMetres: totals.metres,
      zones: totals.zones,
      perMinute: perMinute.map((row) => ({
        minute: row.minute,
        notifications: Number(row.notification_count),
        newDevices: Number(row.device_count),
      })),
    };
  }

  async setUnlogged(unlogged: boolean): Promise<void> {
    await transaction(this.#sql, async (tx) => {
      for (const table of UNLOGGABLE) {
        const [{ relpersistence }] = await tx`select relpersistence from pg_class where oid = ${table}::regclass`;
        // ALTER TABLE rewrites the table under an exclusive lock: only when the setting changed.
        if ((relpersistence === "u") !== unlogged) {
          await tx.unsafe(`alter table ${table} set ${unlogged ? "unlogged" : "logged"}`);
        }
      }
      // After a crash PostgreSQL empties unlogged tables: restore the owner copies from the registrations.
      await tx`
        insert into cmx_distance (mac, owner) select mac, owner from cmx_devices order by mac
        on conflict (mac) do update set owner = excluded.owner
        where cmx_distance.owner is distinct from excluded.owner`;
    });
  }

  /** Commits the queued posts, then refuses new ones. */
  async close(): Promise<void> {
    await this.#queue.close();
    await (await this.#listening)?.unlisten();
  }

  async #writeBatch(items: CmxQueued[]): Promise<void> {
    const macs = batchMacs(items);
    const moved = await transaction(this.#sql, async (tx) => {
      let rows: DistanceRow[] = [];
      if (macs.length > 0) {
        // Sorted inserts, then a sorted FOR UPDATE: every writer locks devices in MAC order.
        await tx`insert into cmx_distance (mac) select unnest(${macs}::text[]) order by 1 on conflict do nothing`;
        rows = await tx`
          select mac, floor_id, p1x, p1y, p2x, p2y, segment_metres, last_seen, metres, owner is not null as registered
          from cmx_distance where mac = any(${macs}::text[]) order by mac for update` as unknown as DistanceRow[];
      }
      const plan = planCmxBatch(items, distanceStates(rows));
      const d = plan.devices;
      const writes: Promise<unknown>[] = [];
      if (d.length > 0) {
        writes.push(tx`
          update cmx_distance s set metres = s.metres + u.added, floor_id = u.floor_id, p1x = u.p1x, p1y = u.p1y,
            p2x = u.p2x, p2y = u.p2y, segment_metres = u.segment_metres, last_seen = u.last_seen
          from unnest(${d.map((u) => u.mac)}::text[], ${d.map((u) => u.addedMetres)}::float8[],
                      ${d.map((u) => u.state.floorId)}::text[], ${d.map((u) => u.state.p1.x)}::float8[],
                      ${d.map((u) => u.state.p1.y)}::float8[], ${d.map((u) => u.state.p2.x)}::float8[],
                      ${d.map((u) => u.state.p2.y)}::float8[], ${d.map((u) => u.state.segmentMetres)}::float8[],
                      ${d.map((u) => u.state.lastSeenMs)}::bigint[])
            as u(mac, added, floor_id, p1x, p1y, p2x, p2y, segment_metres, last_seen)
          where s.mac = u.mac`);
      }
      const h = plan.history;
      if (h.length > 0) {
        writes.push(tx`
          insert into cmx_distance_history (mac, day, metres)
          select * from unnest(${h.map((r) => r.mac)}::text[], ${h.map((r) => r.day)}::text[],
                               ${h.map((r) => r.metres)}::float8[])
          on conflict (mac, day) do update set metres = cmx_distance_history.metres + excluded.metres`);
      }
      const c = plan.counts;
      writes.push(tx`
        insert into cmx_counts (minute, notification_count, device_count)
        select to_timestamp(m / 1000.0), n, d
        from unnest(${c.map((r) => r.minuteMs)}::bigint[], ${c.map((r) => r.notifications)}::bigint[],
                    ${c.map((r) => r.newDevices)}::bigint[]) as u(m, n, d)
        on conflict (minute) do update set
          notification_count = cmx_counts.notification_count + excluded.notification_count,
          device_count = cmx_counts.device_count + excluded.device_count`);
      const z = plan.zones;
      if (z.length > 0) {
        writes.push(tx`
          insert into cmx_zones (zone, notification_count, last_seen)
          select zone, n, to_timestamp(t / 1000.0)
          from unnest(${z.map((r) => r.zone)}::text[], ${z.map((r) => r.notifications)}::bigint[],
                      ${z.map((r) => r.lastSeenMs)}::bigint[]) as u(zone, n, t)
          on conflict (zone) do update set
            notification_count = cmx_zones.notification_count + excluded.notification_count,
            last_seen = greatest(cmx_zones.last_seen, excluded.last_seen)`);
      }
      const moved = batchStandings(rows, plan.devices);
      // Every walk moves the grand total, not only registered devices' places.
      if (moved.addedMetres !== 0 || moved.changes.length > 0) writes.push(this.#announce(tx));
      await Promise.all(writes);
      return moved;
    });
    this.#standings.apply(moved.addedMetres, moved.changes);
  }
}

/** Doubles as `float8send` writes them (big-endian, one after another). */
function float8Array(bytes: Uint8Array): Float64Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = new Float64Array(bytes.byteLength / 8);
  for (let i = 0; i < values.length; i++) values[i] = view.getFloat64(i * 8);
  return values;
}
