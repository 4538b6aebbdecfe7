/**
 * Backend-neutral parts of the meter stores: carrying each caller's outcome
 * through the group-commit queue, deciding which readings of a batch are
 * written, and streaming readings page by page. The SQL lives in the adapters.
 */
import type { GroupCommitOptions, GroupCommitQueue } from "./group_commit.ts";
import { pagedRows } from "./paging.ts";
import { type MeterReading, type MeterReadingFilter, type StoredMeterReading, UnknownPubError } from "./types.ts";

/** One append waiting in the group-commit queue. */
export interface MeterAppend {
  reading: MeterReading;
  registerPub: boolean;
  /**
   * Written by the batch once it has committed: the reading's id, or why it
   * was refused. Refusals travel here rather than as a thrown error because
   * a throw fails the whole batch (the queue then retries item by item).
   */
  result?: number | UnknownPubError;
}

/**
 * A reading is one small row, where an OTT or CMX item is a whole transmission
 * or post; so a meter batch may hold this many times `commit.maxBatch` items.
 */
const READINGS_PER_BATCH_ITEM = 10;

/**
 * The meter queues' options: `maxBatch` scaled by {@link READINGS_PER_BATCH_ITEM}
 * (5,000 readings by default). With thousands of devices waiting, a commit then
 * takes in everything that arrived during the previous one instead of
 * queueing it behind several fsyncs; measured, capping at 500 halved the
 * durable rate on both backends.
 */
export function meterCommitOptions(options: GroupCommitOptions): GroupCommitOptions {
  return { ...options, maxBatch: options.maxBatch * READINGS_PER_BATCH_ITEM };
}

/** Enqueues one reading and resolves with its id once its batch has committed. */
export async function appendThrough(
  queue: GroupCommitQueue<MeterAppend>,
  reading: MeterReading,
  registerPub: boolean,
): Promise<number> {
  const item: MeterAppend = { reading, registerPub };
  await queue.enqueue(item);
  if (typeof item.result === "number") return item.result;
  throw item.result ?? new Error("meter batch committed without settling this reading");
}

/**
 * Pub ids known to exist. Pubs are never deleted, so a positive answer stays
 * true; negative answers are not kept (the pub may be registered any moment).
 * One entry per device, so the set stays small.
 */
export class KnownPubs {
  readonly #ids = new Set<number>();

  has(pubId: number): boolean {
    return this.#ids.has(pubId);
  }

  add(pubId: number): void {
    this.#ids.add(pubId);
  }
}

/** What one batch writes. */
export interface MeterBatchPlan {
  /** Items whose reading is inserted, in insertion order (ids ascend in this order). */
  accepted: MeterAppend[];
  /** Items refused because their pub does not exist and registration was off. */
  rejected: MeterAppend[];
  /**
   * Readings added per pub, sorted by pub id so concurrent writers (several
   * instances on one database) lock pub rows in the same order and cannot
   * deadlock. Upserting these rows also registers the new pubs.
   */
  counts: { pubId: number; readings: number }[];
}

/** Pub ids the adapter must look up inside the batch's transaction before {@link planMeterBatch}. */
export function pubsToCheck(items: readonly MeterAppend[], known: KnownPubs): number[] {
  const ids = new Set<number>();
  for (const { reading, registerPub } of items) {
    if (!registerPub && !known.has(reading.pubId)) ids.add(reading.pubId);
  }
  return [...ids];
}

/** Splits a batch given which of the {@link pubsToCheck} ids exist; records those as known. */
export function planMeterBatch(
  items: readonly MeterAppend[],
  known: KnownPubs,
  existing: Iterable<number>,
): MeterBatchPlan {
  for (const pubId of existing) known.add(pubId);
  const accepted: MeterAppend[] = [];
  const rejected: MeterAppend[] = [];
  const counts = new Map<number, number>();
  for (const item of items) {
    const { pubId } = item.reading;
    if (!item.registerPub && !known.has(pubId)) {
      rejected.push(item);
      continue;
    }
    accepted.push(item);
    counts.set(pubId, (counts.get(pubId) ?? 0) + 1);
  }
  return {
    accepted,
    rejected,
    counts: [...counts].sort(([a], [b]) => a - b).map(([pubId, readings]) => ({ pubId, readings })),
  };
}

/**
 * After the batch committed: hands each caller its id (`ids[i]` belongs to
 * `plan.accepted[i]`) or its refusal, and remembers the pubs now known to exist.
 */
export function settleMeterBatch(plan: MeterBatchPlan, ids: readonly number[], known: KnownPubs): void {
  if (ids.length !== plan.accepted.length) {
    throw new Error(`inserted ${ids.length} readings for ${plan.accepted.length} accepted`);
  }
  plan.accepted.forEach((item, i) => {
    item.result = ids[i];
    known.add(item.reading.pubId);
  });
  for (const item of plan.rejected) item.result = new UnknownPubError(item.reading.pubId);
}

/** Where a page of readings ends; the next page starts strictly after it. */
export type ReadingKey = Pick<StoredMeterReading, "createdAt" | "id">;

/**
 * Streams one pub's readings through `fetchPage`, which must return at most
 * `limit` rows matching `filter`, ordered by createdAt then id, and (when
 * `after` is given) strictly after that key.
 */
export function pagedReadings(
  filter: MeterReadingFilter,
  fetchPage: (after: ReadingKey | undefined, limit: number) => Promise<StoredMeterReading[]>,
): AsyncGenerator<StoredMeterReading> {
  return pagedRows(filter.limit, fetchPage);
}
