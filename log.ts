/**
 * Logging setup: one logtape configuration for the whole process, as logfmt
 * text for people or JSON lines for machines (`--log-format json`).
 */
import { configure, getConsoleSink, getJsonLinesFormatter, getLogfmtFormatter, reset } from "@logtape/logtape";
import type { Config } from "./config.ts";

/** Configures the `fieldgate` logger category from the config. */
export async function setupLogging(config: Config["log"]): Promise<void> {
  await reset();
  await configure({
    sinks: {
      console: getConsoleSink({
        formatter: config.format === "json" ? getJsonLinesFormatter() : getLogfmtFormatter(),
      }),
    },
    loggers: [
      { category: ["fieldgate"], lowestLevel: config.level, sinks: ["console"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["console"] },
    ],
  });
}
