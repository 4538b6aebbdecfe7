/**
 * Logging setup: one logtape configuration for the whole process, as logfmt
 * text for people or JSON lines for machines (`--log-format json`).
 */
import { configure, getConsoleSink, getJsonLinesFormatter, getLogfmtFormatter, reset } from "@logtape/logtape";
import type { Config } from "./config.ts";
import { problemCounterSink } from "./metrics/log_counter.ts";

/** Configures the `fieldgate` logger category from the config. */
export async function setupLogging(config: Config["log"]): Promise<void> {
  await reset();
  await configure({
    sinks: {
      console: getConsoleSink({
        formatter: config.format === "json" ? getJsonLinesFormatter() : getLogfmtFormatter(),
      }),
      // Feeds the error counts of the dashboard and /metrics.
      problems: problemCounterSink(),
    },
    loggers: [
      { category: ["fieldgate"], lowestLevel: config.level, sinks: ["console", "problems"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["console"] },
    ],
  });
}
