/**
 * Process-wide ingestion counters, fed by each protocol at the point where
 * data is acknowledged (durable). Module state rather than a dependency,
 * so each ingestion path needs one call and nothing else; one fieldgate runs
 * per process in production.
 */
import { MinuteCounters } from "./minute_counters.ts";

/** What is counted: acknowledged items per protocol (tus: durable bytes and finished uploads). */
export const INGEST_KINDS = {
  ott: "OTT transmissions",
  meter: "meter readings",
  confo: "confo confirmations",
  cmx: "CMX notifications",
  tus_bytes: "tus bytes",
  tus_uploads: "tus uploads finished",
} as const;

/** One of {@link INGEST_KINDS}. */
export type IngestKind = keyof typeof INGEST_KINDS;

/** The counters behind the dashboard and `/metrics`. */
export const ingestCounters = new MinuteCounters();

/** Counts `amount` acknowledged items of `kind` now. */
export function countIngest(kind: IngestKind, amount = 1): void {
  ingestCounters.add(kind, amount);
}
