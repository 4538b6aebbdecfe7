/**
 * `GET /api/meters/live[?pubId=]`: stored readings as Server-Sent Events
 * (`event: reading`), for dashboards. A client that falls more than
 * {@link MAX_BACKLOG} readings behind is disconnected; EventSource reconnects.
 */
import { Hono, type MiddlewareHandler } from "hono";
import { streamSSE } from "hono/streaming";
import { readingRecord } from "../domain/meter.ts";
import type { ReadingFeed } from "../live/reading_feed.ts";
import type { StoredMeterReading } from "../storage/types.ts";

const MAX_BACKLOG = 1000;
const HEARTBEAT_MS = 15_000;

/** The live feed route behind `guard`. */
export function meterLiveRoutes(feed: ReadingFeed, guard: MiddlewareHandler): Hono {
  const app = new Hono();
  app.get("/api/meters/live", guard, (c) => {
    const pubIdText = c.req.query("pubId");
    const pubId = pubIdText === undefined ? undefined : Number(pubIdText);
    if (pubId !== undefined && !(Number.isSafeInteger(pubId) && pubId > 0)) {
      return c.json({ error: "pubId must be a positive integer" }, 400);
    }
    return streamSSE(c, async (stream) => {
      const backlog: StoredMeterReading[] = [];
      let wake: (() => void) | undefined;
      let overflowed = false;
      const unsubscribe = feed.subscribe((reading) => {
        if (pubId !== undefined && reading.pubId !== pubId) return;
        if (backlog.length >= MAX_BACKLOG) overflowed = true;
        else backlog.push(reading);
        wake?.();
      });
      stream.onAbort(() => wake?.());
      try {
        await stream.writeSSE({ event: "ready", data: "{}" });
        while (!stream.aborted && !overflowed) {
          const reading = backlog.shift();
          if (reading) {
            await stream.writeSSE({
              event: "reading",
              id: String(reading.id),
              data: JSON.stringify(readingRecord(reading)),
            });
            continue;
          }
          await new Promise<void>((resolve) => {
            const heartbeat = setTimeout(resolve, HEARTBEAT_MS);
            wake = () => {
              clearTimeout(heartbeat);
              resolve();
            };
          });
          wake = undefined;
          if (backlog.length === 0 && !stream.aborted) await stream.write(": heartbeat\n\n");
        }
      } finally {
        unsubscribe();
      }
    });
  });
  return app;
}
