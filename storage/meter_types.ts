/**
 * What the record store keeps for CC3220S power meters: meters (`pub`) and
 * their readings.
 */

/** One reading from a CC3220S power meter (seed 004 packet), validated. */
export interface MeterReading {
  /** The publishing device (`pub.pub_id`). */
  pubId: number;
  /** The packet's timestamp, or the receipt time when the packet had none. */
  createdAt: Date;
  /** When fieldgate received it. */
  savedAt: Date;
  voltage: number;
  frequency: number;
  /** The packet's `status` flag, stored as `protected` like the original. */
  protected: boolean;
}

/** A stored reading with its serial id. */
export interface StoredMeterReading extends MeterReading {
  id: number;
}

/** A meter and its newest reading, for the list API and the status page. */
export interface MeterSummary {
  pubId: number;
  deviceName: string | null;
  hash: number | null;
  /** Email of the registered sender whose confirmation made the meter theirs (`pub.creator`), or null. */
  creator: string | null;
  readings: number;
  latest: StoredMeterReading | null;
}

/** Filter for {@link MeterStore.readings}. */
export interface MeterReadingFilter {
  /** Inclusive lower bound on `createdAt`. */
  from?: Date;
  /** Exclusive upper bound on `createdAt`. */
  to?: Date;
  limit?: number;
}

/** Storage for meters (`pub`) and their readings. */
export interface MeterStore {
  /** True when a pub with this id exists (cached: pubs are never deleted). */
  pubExists(pubId: number): Promise<boolean>;
  /**
   * Stores a reading; resolves with its serial id once committed (group commit).
   * With `registerPub`, an unknown pub is created in the same transaction;
   * without, an unknown pub rejects with {@link UnknownPubError}.
   */
  append(reading: MeterReading, options: { registerPub: boolean }): Promise<number>;
  /** Every meter with its reading count and newest reading, by pub id. */
  meters(): Promise<MeterSummary[]>;
  /** Streams one meter's readings ordered by createdAt, then id (keyset paging). */
  readings(pubId: number, filter: MeterReadingFilter): AsyncIterable<StoredMeterReading>;
}

/** Raised by {@link MeterStore.append} for a pub that does not exist when registration is off. */
export class UnknownPubError extends Error {
  override name = "UnknownPubError";
  constructor(readonly pubId: number) {
    super(`unknown pub id ${pubId}`);
  }
}
