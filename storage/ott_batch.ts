/**
 * Backend-neutral parts of the OTT record stores: turning a group-commit batch
 * into rows, and streaming values page by page. The SQL lives in the adapters.
 */
import type {
  OttRecord,
  OttTransmission,
  OttValueFilter,
  StationSummary,
  StoredOttAlarm,
  StoredOttValue,
} from "./types.ts";
import { pagedRows } from "./paging.ts";

export { checkLimit } from "./paging.ts";

/** Rows one batch of records writes, in the order a transaction should write them. */
export interface OttBatchRows {
  transmissions: OttTransmission[];
  /** One row per (station, channel, time), the last one recorded winning, sorted by that key. */
  values: StoredOttValue[];
  alarms: StoredOttAlarm[];
  /** Increments per station (not totals), sorted by station id. */
  stations: StationSummary[];
}

/**
 * Flattens a batch into rows. Values are de-duplicated because PostgreSQL
 * refuses to upsert one row twice in a statement, and values and stations are
 * sorted so concurrent writers (several instances on one database) lock rows
 * in the same order and cannot deadlock.
 */
export function ottBatchRows(records: readonly OttRecord[]): OttBatchRows {
  const alarms: StoredOttAlarm[] = [];
  const stations = new Map<string, StationSummary>();
  for (const { transmission, alarm } of records) {
    const { file, receivedAt } = transmission;
    if (alarm) alarms.push({ ...alarm, receivedAt, file });
    const station = stations.get(transmission.stationId);
    if (station) {
      station.transmissions += 1;
      station.alarms += alarm ? 1 : 0;
      if (receivedAt > station.lastSeen) station.lastSeen = receivedAt;
    } else {
      stations.set(transmission.stationId, {
        stationId: transmission.stationId,
        transmissions: 1,
        alarms: alarm ? 1 : 0,
        lastSeen: receivedAt,
      });
    }
  }
  return {
    transmissions: records.map((record) => record.transmission),
    values: latestValues(records),
    alarms,
    stations: [...stations.values()].sort((a, b) => compareText(a.stationId, b.stationId)),
  };
}

/**
 * One row per (station, channel, time), the last one recorded, sorted by that key. Read newest
 * first, so the first value seen for a key is the one kept and only kept values are copied; values
 * come channel by channel, so each channel's times are looked up by number, without a key string.
 */
function latestValues(records: readonly OttRecord[]): StoredOttValue[] {
  // Channels keyed "station\0channel": XML cannot carry a NUL, so these sort as the pairs do.
  const channels = new Map<string, Map<number, StoredOttValue>>();
  for (let r = records.length - 1; r >= 0; r--) {
    const { transmission: { file }, values } = records[r];
    let times: Map<number, StoredOttValue> | undefined;
    let stationId = "";
    let channelId = "";
    for (let v = values.length - 1; v >= 0; v--) {
      const value = values[v];
      if (times === undefined || value.channelId !== channelId || value.stationId !== stationId) {
        ({ stationId, channelId } = value);
        const channel = `${stationId}\0${channelId}`;
        times = channels.get(channel);
        if (times === undefined) channels.set(channel, times = new Map());
      }
      const time = value.time.getTime();
      // SQLite stores NaN as NULL; normalising here makes both backends read back the same.
      if (!times.has(time)) times.set(time, { ...value, value: Number.isNaN(value.value) ? null : value.value, file });
    }
  }
  const rows: StoredOttValue[] = [];
  for (const channel of [...channels.keys()].sort(compareText)) {
    const times = channels.get(channel)!;
    for (const time of [...times.keys()].sort((a, b) => a - b)) rows.push(times.get(time)!);
  }
  return rows;
}

/** Where a page of values ends; the next page starts strictly after it. */
export type ValueKey = Pick<StoredOttValue, "stationId" | "channelId" | "time">;

/**
 * Streams values through `fetchPage`, which must return at most `limit` rows
 * matching `filter`, ordered by station, channel and time, and (when `after`
 * is given) strictly after that key.
 */
export function pagedValues(
  filter: OttValueFilter,
  fetchPage: (after: ValueKey | undefined, limit: number) => Promise<StoredOttValue[]>,
): AsyncGenerator<StoredOttValue> {
  return pagedRows(filter.limit, fetchPage);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
