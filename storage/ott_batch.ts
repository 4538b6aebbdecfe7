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
  const values = new Map<string, StoredOttValue>();
  const alarms: StoredOttAlarm[] = [];
  const stations = new Map<string, StationSummary>();
  for (const { transmission, values: recordValues, alarm } of records) {
    const { file, receivedAt } = transmission;
    for (const value of recordValues) {
      const key = `${value.stationId}\0${value.channelId}\0${value.time.getTime()}`;
      // A later value for the same key replaces the earlier one. SQLite stores NaN as NULL;
      // normalising here makes both backends read back the same.
      values.set(key, { ...value, value: Number.isNaN(value.value) ? null : value.value, file });
    }
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
    values: [...values.values()].sort(compareValueKeys),
    alarms,
    stations: [...stations.values()].sort((a, b) => compareText(a.stationId, b.stationId)),
  };
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

function compareValueKeys(a: ValueKey, b: ValueKey): number {
  return compareText(a.stationId, b.stationId) || compareText(a.channelId, b.channelId) ||
    a.time.getTime() - b.time.getTime();
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
