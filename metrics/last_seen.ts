/**
 * When each OTT station and each meter last delivered data, oldest first,
 * with the ones silent longer than the stale threshold marked.
 */
import type { RecordStore } from "../storage/types.ts";
import { DATABASE_TIMEOUT_MS, withTimeout } from "./health.ts";

/** One station or device and when it was last heard from. */
export interface LastSeen {
  kind: "OTT station" | "meter";
  id: string;
  name: string | null;
  /** Items stored from it so far (transmissions or readings). */
  count: number;
  lastSeen: Date | null;
  stale: boolean;
}

/** Every station and meter, stale and never-seen ones first; throws if the database does not answer in time. */
export async function collectLastSeen(
  records: RecordStore,
  staleAfterMs: number,
  now = new Date(),
): Promise<LastSeen[]> {
  const [stations, meters] = await withTimeout(
    Promise.all([records.ott.stations(), records.meters.meters()]),
    DATABASE_TIMEOUT_MS,
    "last-seen query",
  );
  const isStale = (seen: Date | null) => seen === null || now.getTime() - seen.getTime() > staleAfterMs;
  const rows: LastSeen[] = [
    ...stations.map((station) => ({
      kind: "OTT station" as const,
      id: station.stationId,
      name: null,
      count: station.transmissions,
      lastSeen: station.lastSeen,
    })),
    ...meters.map((meter) => ({
      kind: "meter" as const,
      id: String(meter.pubId),
      name: meter.deviceName,
      count: meter.readings,
      lastSeen: meter.latest?.savedAt ?? null,
    })),
  ].map((row) => ({ ...row, stale: isStale(row.lastSeen) }));
  return rows.sort((a, b) => (a.lastSeen?.getTime() ?? 0) - (b.lastSeen?.getTime() ?? 0));
}
