/**
 * `GET /api/ott/values?station=&channel=&from=&to=&limit=` → the parsed OTT
 * values as JSON or CSV (`Accept: text/csv` or `?format=csv`), streamed so a
 * download of millions of rows never sits in memory.
 */
import { Hono, type MiddlewareHandler } from "hono";
import { z } from "zod";
import { csvLine } from "../domain/csv.ts";
import type { OttStore, StoredOttValue } from "../storage/types.ts";

const CSV_COLUMNS = [
  "station_id",
  "channel_id",
  "channel_name",
  "unit",
  "time",
  "value",
  "raw_value",
  "error_code",
  "error_text",
  "file",
] as const;

const instant = z.string().refine((text) => !Number.isNaN(Date.parse(text)), "not a date/time (use ISO 8601)")
  .transform((text) => new Date(text));
const querySchema = z.object({
  station: z.string().max(64).optional(),
  channel: z.string().max(64).optional(),
  from: instant.optional(),
  to: instant.optional(),
  limit: z.coerce.number().int().positive().optional(),
  format: z.enum(["json", "csv"]).optional(),
});

/** The values API as a Hono sub-app behind `guard`. */
export function ottValueRoutes(store: OttStore, guard: MiddlewareHandler): Hono {
  const app = new Hono();
  app.get("/api/ott/values", guard, (c) => {
    const query = querySchema.safeParse(c.req.query());
    if (!query.success) {
      const problems = query.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ");
      return c.json({ error: `invalid query: ${problems}` }, 400);
    }
    const { station, channel, from, to, limit, format } = query.data;
    const wantsCsv = format === "csv" || (format === undefined && (c.req.header("accept") ?? "").includes("text/csv"));
    const rows = store.values({ stationId: station, channelId: channel, from, to, limit });
    const body = wantsCsv ? csvChunks(rows) : jsonChunks(rows);
    const headers: Record<string, string> = wantsCsv
      ? { "content-type": "text/csv; charset=utf-8", "content-disposition": `attachment; filename="ott-values.csv"` }
      : { "content-type": "application/json; charset=utf-8" };
    return new Response(ReadableStream.from(encode(body)), { headers });
  });
  return app;
}

async function* jsonChunks(rows: AsyncIterable<StoredOttValue>): AsyncGenerator<string> {
  let separator = "[\n";
  for await (const row of rows) {
    yield separator + JSON.stringify(toJson(row));
    separator = ",\n";
  }
  yield separator === "[\n" ? "[]\n" : "\n]\n";
}

async function* csvChunks(rows: AsyncIterable<StoredOttValue>): AsyncGenerator<string> {
  yield csvLine(CSV_COLUMNS);
  for await (const row of rows) {
    const json = toJson(row);
    yield csvLine(CSV_COLUMNS.map((column) => json[column]));
  }
}

function toJson(row: StoredOttValue): Record<(typeof CSV_COLUMNS)[number], string | number | null> {
  return {
    station_id: row.stationId,
    channel_id: row.channelId,
    channel_name: row.channelName,
    unit: row.unit,
    time: row.time.toISOString(),
    value: row.value,
    raw_value: row.rawValue,
    error_code: row.errorCode,
    error_text: row.errorText,
    file: row.file,
  };
}

/** Batches small strings into ~64 KiB chunks so millions of rows are not millions of writes. */
async function* encode(chunks: AsyncIterable<string>): AsyncGenerator<Uint8Array> {
  const encoder = new TextEncoder();
  let pending = "";
  for await (const chunk of chunks) {
    pending += chunk;
    if (pending.length >= 65_536) {
      yield encoder.encode(pending);
      pending = "";
    }
  }
  if (pending) yield encoder.encode(pending);
}
