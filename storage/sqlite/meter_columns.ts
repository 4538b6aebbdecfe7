/**
 * A meter batch as it crosses to the SQLite writer thread: one typed array per
 * field, whose buffers are transferred rather than copied, and the per-item
 * outcome coming back the same way.
 */
import type { MeterAppend } from "../meter_batch.ts";
import { UnknownPubError } from "../types.ts";

/** The appends of one batch, column by column (times in epoch milliseconds, flags 0/1). */
export interface MeterColumns {
  pubIds: Float64Array;
  createdAt: Float64Array;
  savedAt: Float64Array;
  voltage: Float64Array;
  frequency: Float64Array;
  protected: Uint8Array;
  registerPub: Uint8Array;
}

/** In a batch's outcome: the reading was refused because its pub is unknown (ids are positive). */
export const REFUSED_UNKNOWN_PUB = -1;

/** Packs `items` into columns. */
export function toColumns(items: readonly MeterAppend[]): MeterColumns {
  const n = items.length;
  const columns: MeterColumns = {
    pubIds: new Float64Array(n),
    createdAt: new Float64Array(n),
    savedAt: new Float64Array(n),
    voltage: new Float64Array(n),
    frequency: new Float64Array(n),
    protected: new Uint8Array(n),
    registerPub: new Uint8Array(n),
  };
  items.forEach(({ reading, registerPub }, i) => {
    columns.pubIds[i] = reading.pubId;
    columns.createdAt[i] = reading.createdAt.getTime();
    columns.savedAt[i] = reading.savedAt.getTime();
    columns.voltage[i] = reading.voltage;
    columns.frequency[i] = reading.frequency;
    columns.protected[i] = reading.protected ? 1 : 0;
    columns.registerPub[i] = registerPub ? 1 : 0;
  });
  return columns;
}

/** The buffers to transfer with `columns`. */
export function columnBuffers(columns: MeterColumns): ArrayBuffer[] {
  return Object.values(columns).map((column: Float64Array | Uint8Array) => column.buffer as ArrayBuffer);
}

/** Unpacks columns into appends again (on the writer thread). */
export function fromColumns(columns: MeterColumns): MeterAppend[] {
  return Array.from(columns.pubIds, (pubId, i) => ({
    reading: {
      pubId,
      createdAt: new Date(columns.createdAt[i]),
      savedAt: new Date(columns.savedAt[i]),
      voltage: columns.voltage[i],
      frequency: columns.frequency[i],
      protected: columns.protected[i] === 1,
    },
    registerPub: columns.registerPub[i] === 1,
  }));
}

/** Each item's outcome from a committed batch: its id, or {@link REFUSED_UNKNOWN_PUB}. */
export function toOutcomes(items: readonly MeterAppend[]): Float64Array {
  return Float64Array.from(items, (item) => {
    if (typeof item.result === "number") return item.result;
    if (item.result instanceof UnknownPubError) return REFUSED_UNKNOWN_PUB;
    throw new Error("meter batch committed without settling every reading");
  });
}

/** Hands each caller its outcome from {@link toOutcomes}. */
export function settleFromOutcomes(items: readonly MeterAppend[], outcomes: Float64Array): void {
  if (outcomes.length !== items.length) throw new Error(`${outcomes.length} outcomes for ${items.length} readings`);
  items.forEach((item, i) => {
    item.result = outcomes[i] === REFUSED_UNKNOWN_PUB ? new UnknownPubError(item.reading.pubId) : outcomes[i];
  });
}

/** What the main thread asks the writer thread; one request at a time. */
export type WriterRequest =
  | { kind: "open"; location: string }
  | { kind: "write"; columns: MeterColumns }
  | { kind: "close" };
