/**
 * kill -9 while 20 loggers post: after a restart, every transmission that got
 * a <Response> is on disk byte for byte and in the database, every file in the
 * synced tree is a complete transmission, and no temp file is left.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { openRecordStore } from "../../storage/open.ts";
import { loadConfig } from "../../config.ts";
import { crashRounds } from "../helpers/crash_rounds.ts";
import { basicAuth, spawnServer, writeUsersFile } from "../helpers/server.ts";

const LOGGERS = 20;
const ROUNDS = 3;
const BASE_TIME = Date.UTC(2024, 0, 1);

interface Sent {
  station: string;
  time: string;
  value: number;
  body: string;
}

function transmission(station: string, seq: number): Sent {
  const time = new Date(BASE_TIME + seq * 1000).toISOString().slice(0, 19);
  const body = `<?xml version="1.0" encoding="iso-8859-1"?>
<StationDataList><StationData stationId="${station}" name="crash test" timezone="+00:00">
<ChannelData channelId="0001" name="Stage" unit="m"><Values><VT t="${time}">${seq}</VT></Values></ChannelData>
</StationData></StationDataList>`;
  return { station, time, value: seq, body };
}

async function filesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) found.push(...await filesUnder(path));
    else found.push(path);
  }
  return found;
}

Deno.test("kill -9 during 20 concurrent loggers loses nothing acknowledged and leaves nothing half-written", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "fieldgate-crash-" });
  await writeUsersFile(dataDir);
  const acknowledged: Sent[] = [];
  const sent = new Set<string>();
  let seq = 0;

  await crashRounds(dataDir, ROUNDS, ({ server, killed, acknowledged: onAcknowledged }) => {
    const client = Deno.createHttpClient({ caCerts: [Deno.readTextFileSync(join(dataDir, "certs", "dev-cert.pem"))] });
    const logger = async (index: number) => {
      const station = `L${index}`;
      while (!killed()) {
        const item = transmission(station, seq++);
        sent.add(item.body);
        try {
          const response = await fetch(`${server.httpsUrl}/ottt?stationid=${station}&action=senddata`, {
            method: "POST",
            body: item.body,
            headers: basicAuth(),
            client,
          } as RequestInit);
          const text = await response.text();
          if (response.status === 200 && text.includes(`<Response stationId="${station}"`)) {
            acknowledged.push(item);
            onAcknowledged();
          }
        } catch {
          // the server died under us: this transmission was never acknowledged
        }
      }
    };
    const loggers = Array.from({ length: LOGGERS }, (_, i) => logger(i));
    return [Promise.all(loggers).then(() => client.close())];
  });

  const restarted = await spawnServer(dataDir);
  restarted.process.kill("SIGTERM");
  await restarted.exited;

  const files = await filesUnder(join(dataDir, "ott"));
  assert.deepEqual(files.filter((f) => f.endsWith(".tmp")), [], "no temp file is visible after restart");
  const contents = new Set(await Promise.all(files.map((file) => Deno.readTextFile(file))));
  for (const file of files) assert.match(file, /\/ott\/senddata\//, `only complete transmissions: ${file}`);
  for (const body of contents) assert.ok(sent.has(body), "every file is exactly one complete transmission");
  for (const item of acknowledged) {
    assert.ok(contents.has(item.body), `acknowledged transmission on disk: ${item.station} ${item.time}`);
  }

  const store = await openRecordStore(loadConfig({ overrides: { dataDir } }));
  try {
    for (let index = 0; index < LOGGERS; index++) {
      const station = `L${index}`;
      const stored = new Map<string, number | null>();
      for await (const value of store.ott.values({ stationId: station })) {
        stored.set(value.time.toISOString().slice(0, 19), value.value);
      }
      for (const item of acknowledged.filter((a) => a.station === station)) {
        assert.equal(stored.get(item.time), item.value, `acknowledged row present: ${station} ${item.time}`);
      }
    }
  } finally {
    await store.close();
  }
  await Deno.remove(dataDir, { recursive: true });
});
