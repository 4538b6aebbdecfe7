/**
 * Backend-neutral part of the CMX stores: what one group-commit batch of
 * notification posts writes, given the committed state of its devices. The
 * adapters lock and read that state, call {@link planCmxBatch} and write the
 * plan with their own SQL, all in one transaction.
 */
import { advance, type DistanceState } from "../domain/cmx_distance.ts";
import type { CmxMovement } from "../domain/cmx_notification.ts";
import type { CmxBatch, CmxRules } from "./types.ts";

/** One post waiting in the group-commit queue. */
export interface CmxQueued {
  batch: CmxBatch;
  rules: CmxRules;
}

/** A device's new state and the metres the batch added to its total. */
export interface DeviceUpdate {
  mac: string;
  state: DistanceState;
  addedMetres: number;
}

/** Everything one batch writes; every list sorted by its key so concurrent writers lock rows in one order. */
export interface CmxBatchPlan {
  devices: DeviceUpdate[];
  /** Metres to add per device and venue day (only days that gained distance). */
  history: { mac: string; day: string; metres: number }[];
  /** Per minute of receipt: notifications, and devices sighted for the first time in that minute. */
  counts: { minuteMs: number; notifications: number; newDevices: number }[];
  /** Area notifications per zone, with the latest notification time. */
  zones: { zone: string; notifications: number; lastSeenMs: number }[];
}

/**
 * The distinct MACs of a batch's movements, sorted: the adapters lock and
 * read these devices (in this order, so two instances never deadlock).
 */
export function batchMacs(items: readonly CmxQueued[]): string[] {
  const macs = new Set<string>();
  for (const { batch } of items) for (const movement of batch.movements) macs.add(movement.mac);
  return [...macs].sort();
}

/**
 * Plans a batch from the committed state of its devices (`current`, by MAC;
 * null or absent for a device never sighted). A device's movements are
 * applied in timestamp order (arrival order on ties), whichever posts they
 * came in, each with the rules of its own post.
 */
export function planCmxBatch(
  items: readonly CmxQueued[],
  current: ReadonlyMap<string, DistanceState | null>,
): CmxBatchPlan {
  const movements: { movement: CmxMovement; rules: CmxRules; minuteMs: number }[] = [];
  const counts = new Map<number, { notifications: number; newDevices: number }>();
  const zones = new Map<string, { notifications: number; lastSeenMs: number }>();
  for (const { batch, rules } of items) {
    const minuteMs = Math.floor(batch.receivedAt.getTime() / 60_000) * 60_000;
    for (const movement of batch.movements) movements.push({ movement, rules, minuteMs });
    const count = counts.get(minuteMs) ?? { notifications: 0, newDevices: 0 };
    count.notifications += batch.movements.length + batch.zones.length;
    counts.set(minuteMs, count);
    for (const { zone, timestampMs } of batch.zones) {
      const entry = zones.get(zone) ?? { notifications: 0, lastSeenMs: timestampMs };
      entry.notifications++;
      entry.lastSeenMs = Math.max(entry.lastSeenMs, timestampMs);
      zones.set(zone, entry);
    }
  }
  // Array.prototype.sort is stable, so ties keep arrival order; devices come out sorted by MAC.
  movements.sort((a, b) =>
    a.movement.mac < b.movement.mac
      ? -1
      : a.movement.mac > b.movement.mac
      ? 1
      : a.movement.timestampMs - b.movement.timestampMs
  );

  const devices = new Map<string, DeviceUpdate>();
  const history = new Map<string, { mac: string; day: string; metres: number }>();
  for (const { movement, rules, minuteMs } of movements) {
    const before = devices.get(movement.mac);
    const state = before ? before.state : current.get(movement.mac) ?? null;
    if (state === null) counts.get(minuteMs)!.newDevices++;
    const step = advance(state, movement, rules.distance);
    devices.set(movement.mac, {
      mac: movement.mac,
      state: step.state,
      addedMetres: (before?.addedMetres ?? 0) + step.addedMetres,
    });
    if (step.addedMetres > 0) {
      const day = rules.dayOf(movement.timestampMs);
      const key = `${movement.mac} ${day}`;
      const entry = history.get(key) ?? { mac: movement.mac, day, metres: 0 };
      entry.metres += step.addedMetres;
      history.set(key, entry);
    }
  }
  return {
    devices: [...devices.values()],
    history: [...history.values()].sort((a, b) => compare(a.mac, b.mac) || compare(a.day, b.day)),
    counts: [...counts].sort(([a], [b]) => a - b).map(([minuteMs, count]) => ({ minuteMs, ...count })),
    zones: [...zones].sort(([a], [b]) => compare(a, b)).map(([zone, entry]) => ({ zone, ...entry })),
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
