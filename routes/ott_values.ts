/**
 * `GET /api/ott/values?station=&channel=&from=&to=&limit=` → the parsed OTT
 * values as JSON or CSV (`Accept: text/csv` or `?format=csv`), streamed.
 */
import { Hono, type MiddlewareHandler } from "hono";
import { z } from "zod";
import type { OttStore, StoredOttValue } from "../storage/types.ts";
import { instantParam, invalidQuery } from "./query.ts";
import { type FlatRow, mapRows, tabularResponse, wantsCsv } from "./tabular_response.ts";

const COLUMNS = [
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

const querySchema = z.object({
  station: z.string().max(64).optional(),
  channel: z.string().max(64).optional(),
  from: instantParam.optional(),
  to: instantParam.optional(),
  limit: z.coerce.number().int().positive().optional(),
  format: z.enum(["json", "csv"]).optional(),
});

/** The values API as a Hono sub-app behind `guard`. */
export function ottValueRoutes(store: OttStore, guard: MiddlewareHandler): Hono {
  const app = new Hono();
  app.get("/api/ott/values", guard, (c) => {
    const query = querySchema.safeParse(c.req.query());
    if (!query.success) return invalidQuery(c, query.error);
    const { station, channel, from, to, limit, format } = query.data;
    const rows = store.values({ stationId: station, channelId: channel, from, to, limit });
    return tabularResponse(mapRows(rows, flatten), {
      csv: wantsCsv(c, format),
      columns: COLUMNS,
      filename: "ott-values.csv",
    });
  });
  return app;
}

function flatten(row: StoredOttValue): FlatRow<(typeof COLUMNS)[number]> {
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
