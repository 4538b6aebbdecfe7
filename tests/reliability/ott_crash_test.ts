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
import { spawnServer, writeUsersFile } from "../helpers/server.ts";
import { filesUnder, ottTransmission, postTransmission, type SentTransmission } from "../helpers/ott_transmission.ts";

const LOGGERS = 20;
const ROUNDS = 3;

Deno.test("kill -9 during 20 concurrent loggers loses nothing acknowledged and leaves nothing half-written", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "fieldgate-crash-" });
  await writeUsersFile(dataDir);
  const acknowledged: SentTransmission[] = [];
  const sent = new Set<string>();
  let seq = 0;

  await crashRounds(dataDir, ROUNDS, ({ server, killed, acknowledged: onAcknowledged }) => {
    const client = Deno.createHttpClient({ caCerts: [Deno.readTextFileSync(join(dataDir, "certs", "dev-cert.pem"))] });
    const logger = async (index: number) => {
      const station = `L${index}`;
      while (!killed()) {
        const item = ottTransmission(station, seq++);
        sent.add(item.body);
        if (await postTransmission(server.httpsUrl, item, client)) {
          acknowledged.push(item);
          onAcknowledged();
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
