/** Test helper: collects everything logged under the "fieldgate" category. */
import { configure, type LogRecord, reset } from "@logtape/logtape";

/** Captured log records; dispose (`await using`) to restore an unconfigured logtape. */
export interface CapturedLogs extends AsyncDisposable {
  records: LogRecord[];
  /** Every record as `level: message {properties}`, one per line: what a log file would reveal. */
  text(): string;
}

/** Routes fieldgate's log records into memory until disposed. */
export async function captureLogs(): Promise<CapturedLogs> {
  const records: LogRecord[] = [];
  await configure({
    sinks: { memory: (record: LogRecord) => records.push(record) },
    loggers: [
      { category: ["fieldgate"], lowestLevel: "debug", sinks: ["memory"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: [] },
    ],
    reset: true,
  });
  return {
    records,
    text: () =>
      records.map((record) =>
        `${record.level}: ${
          record.message.map((part) => typeof part === "string" ? part : JSON.stringify(part)).join("")
        } ${JSON.stringify(record.properties)}`
      ).join("\n"),
    [Symbol.asyncDispose]: () => reset(),
  };
}
