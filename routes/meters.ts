/**
 * What the original's "finisher" served: the meters, their readings
 * (`GET /api/meters/{pubId}/readings`, JSON or CSV, streamed) and, for the
 * provisioning app, the latest cloud confirmation (`GET /api/confo`).
 */
import { Hono, type MiddlewareHandler } from "hono";
import { z } from "zod";
import { READING_COLUMNS, readingRecord } from "../domain/meter.ts";
import type { ConfoStore, MeterStore } from "../storage/types.ts";
import { instantParam, invalidQuery } from "./query.ts";
import { mapRows, tabularResponse, wantsCsv } from "./tabular_response.ts";

const readingsQuery = z.object({
  from: instantParam.optional(),
  to: instantParam.optional(),
  limit: z.coerce.number().int().positive().optional(),
  format: z.enum(["json", "csv"]).optional(),
});
const pubIdParam = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const confoQuery = z.object({ deviceName: z.string().min(1).max(256), ssid: z.string().min(1).max(256) });

/** Meter and confo retrieval as a Hono sub-app; `confoGuard` may also accept the app's token. */
export function meterRoutes(
  stores: { meters: MeterStore; confo: ConfoStore },
  guard: MiddlewareHandler,
  confoGuard: MiddlewareHandler,
): Hono {
  const app = new Hono();
  app.get("/api/meters", guard, async (c) => {
    const meters = await stores.meters.meters();
    return c.json(meters.map((meter) => ({
      pub_id: meter.pubId,
      device_name: meter.deviceName,
      hash: meter.hash,
      readings: meter.readings,
      latest: meter.latest ? readingRecord(meter.latest) : null,
    })));
  });
  app.get("/api/meters/:pubId/readings", guard, async (c) => {
    const pubId = pubIdParam.safeParse(c.req.param("pubId"));
    if (!pubId.success) return c.json({ error: "pub id must be a positive integer" }, 400);
    const query = readingsQuery.safeParse(c.req.query());
    if (!query.success) return invalidQuery(c, query.error);
    if (!await stores.meters.pubExists(pubId.data)) return c.json({ error: `no meter with pub id ${pubId.data}` }, 404);
    const { from, to, limit, format } = query.data;
    const rows = stores.meters.readings(pubId.data, { from, to, limit });
    return tabularResponse(mapRows(rows, readingRecord), {
      csv: wantsCsv(c, format),
      columns: READING_COLUMNS,
      filename: `meter-${pubId.data}.csv`,
    });
  });
  app.get("/api/confo", confoGuard, async (c) => {
    const query = confoQuery.safeParse(c.req.query());
    if (!query.success) return invalidQuery(c, query.error);
    const confo = await stores.confo.latest(query.data.deviceName, query.data.ssid);
    if (!confo) return c.json({ error: "no confirmation yet for this device name and ssid" }, 404);
    return c.json({
      deviceName: confo.deviceName,
      ssid: confo.ssid,
      hash: confo.hash,
      confirmedAt: confo.receivedAt.toISOString(),
      conflict: confo.conflict,
    });
  });
  return app;
}
