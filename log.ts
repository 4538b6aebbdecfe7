/**
 * Logging setup: one logtape configuration for the whole process, as logfmt
 * text for people or JSON lines for machines (`--log-format json`).
 */
import {
  configure,
  getJsonLinesFormatter,
  getLogfmtFormatter,
  reset,
  type Sink,
  type TextFormatter,
} from "@logtape/logtape";
import type { Config } from "./config.ts";
import { problemCounterSink } from "./metrics/log_counter.ts";

/** Configures the `fieldgate` logger category from the config. */
export async function setupLogging(config: Config["log"]): Promise<void> {
  await reset();
  await configure({
    sinks: {
      console: stdioSink(config.format === "json" ? getJsonLinesFormatter() : getLogfmtFormatter()),
      // Feeds the error counts of the dashboard and /metrics.
      problems: problemCounterSink(),
    },
    loggers: [
      { category: ["fieldgate"], lowestLevel: config.level, sinks: ["console", "problems"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["console"] },
    ],
  });
}

const encoder = new TextEncoder();

/**
 * Each formatted record written synchronously to stdout, warnings and errors to stderr: where logtape's
 * console sink puts them, without `console`'s own formatting pass over every line (a few µs per request).
 */
function stdioSink(formatter: TextFormatter): Sink {
  return (record) => {
    const output = record.level === "warning" || record.level === "error" || record.level === "fatal"
      ? Deno.stderr
      : Deno.stdout;
    const line = encoder.encode(formatter(record));
    for (let written = 0; written < line.length;) written += output.writeSync(line.subarray(written));
  };
}
