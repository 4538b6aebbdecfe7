/**
 * Error counts for the dashboard and `/metrics`: a logtape sink counting the
 * warnings and errors each subsystem logs. Every refused request, failed
 * handshake and storage failure is already logged once, so counting log
 * records covers them all without a hook on each failure path.
 */
import type { LogRecord, Sink } from "@logtape/logtape";
import { MinuteCounters } from "./minute_counters.ts";

/** Logged problems per `<subsystem>.<warning|error>`, e.g. `meter.error`. */
export const loggedProblems = new MinuteCounters();

/** The subsystem of a record: the category below `fieldgate` (`["fieldgate", "ott"]` → `ott`). */
function subsystem(record: LogRecord): string {
  return record.category[1] ?? record.category[0] ?? "fieldgate";
}

/** A sink that counts warning, error and fatal records (fatal counts as error). */
export function problemCounterSink(): Sink {
  return (record) => {
    if (record.level === "warning") loggedProblems.add(`${subsystem(record)}.warning`);
    else if (record.level === "error" || record.level === "fatal") loggedProblems.add(`${subsystem(record)}.error`);
  };
}
