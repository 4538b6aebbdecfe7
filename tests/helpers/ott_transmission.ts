/** Small OTT transmissions that identify themselves, for tests that must find each one again. */
import { join } from "node:path";
import { basicAuth } from "./server.ts";

const BASE_TIME = Date.UTC(2024, 0, 1);

/** One senddata body: its station, the value's time (to the second) and the value, all unique per `seq`. */
export interface SentTransmission {
  station: string;
  time: string;
  value: number;
  body: string;
}

/** The `seq`-th transmission of `station`: one value `seq` at BASE_TIME + `seq` seconds. */
export function ottTransmission(station: string, seq: number): SentTransmission {
  const time = new Date(BASE_TIME + seq * 1000).toISOString().slice(0, 19);
  const body = `<?xml version="1.0" encoding="iso-8859-1"?>
<StationDataList><StationData stationId="${station}" name="crash test" timezone="+00:00">
<ChannelData channelId="0001" name="Stage" unit="m"><Values><VT t="${time}">${seq}</VT></Values></ChannelData>
</StationData></StationDataList>`;
  return { station, time, value: seq, body };
}

/** Every file under `dir`, recursively. */
export async function filesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) found.push(...await filesUnder(path));
    else found.push(path);
  }
  return found;
}

/**
 * POSTs `item` as a logger would; true only when fieldgate acknowledged it
 * with its `<Response>`. A failed connection (server killed) is simply false.
 */
export async function postTransmission(
  baseUrl: string,
  item: SentTransmission,
  client: Deno.HttpClient,
): Promise<boolean> {
  try {
    const response = await fetch(`${baseUrl}/ottt?stationid=${item.station}&action=senddata`, {
      method: "POST",
      body: item.body,
      headers: basicAuth(),
      client,
    } as RequestInit);
    const text = await response.text();
    return response.status === 200 && text.includes(`<Response stationId="${item.station}"`);
  } catch {
    return false;
  }
}
