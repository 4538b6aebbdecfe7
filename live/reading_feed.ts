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
