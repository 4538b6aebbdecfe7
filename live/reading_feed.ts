/**
 * In-process fan-out of stored meter readings to live subscribers (Server-Sent
 * Events, MQTT). A reading enters only after it is durable; a subscriber that
 * cannot keep up loses readings rather than slowing the meters down.
 */
import type { StoredMeterReading } from "../storage/types.ts";

/** Receives each stored reading; must not throw or block. */
export type ReadingListener = (reading: StoredMeterReading) => void;

/** Publish/subscribe for stored readings. */
export class ReadingFeed {
  readonly #listeners = new Set<ReadingListener>();

  /** Hands `reading` to every subscriber; a throwing subscriber is dropped, never the caller. */
  publish(reading: StoredMeterReading): void {
    for (const listener of this.#listeners) {
      try {
        listener(reading);
      } catch {
        this.#listeners.delete(listener);
      }
    }
  }

  /** Adds a subscriber; returns the function that removes it. */
  subscribe(listener: ReadingListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** How many subscribers are listening (for the status page and tests). */
  get subscribers(): number {
    return this.#listeners.size;
  }
}

/** The JSON shape of a reading on every live channel (snake_case like the retrieval API). */
export function readingJson(reading: StoredMeterReading): Record<string, string | number | boolean> {
  return {
    pub_id: reading.pubId,
    id: reading.id,
    created_at: reading.createdAt.toISOString(),
    saved_at: reading.savedAt.toISOString(),
    voltage: reading.voltage,
    frequency: reading.frequency,
    protected: reading.protected,
  };
}
