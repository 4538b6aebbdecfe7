/**
 * PostgreSQL outage under load: a private cluster is crash-stopped
 * (`pg_ctl stop -m immediate`) while OTT loggers, meters, confos and CMX
 * post, stays down a few seconds and comes back. fieldgate must refuse rather than
 * acknowledge during the outage, say so on /server-status, survive (the
 * postgres.js crash on a closed connection), and recover by itself; every
 * acknowledged item is stored exactly once.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../config.ts";
import { openRecordStore } from "../../storage/open.ts";
import { CMX_FLAGS, PROTOCOLS, startIntakeLoad, stopServer, withServerLog } from "../helpers/intake_load.ts";
import { type PrivatePostgres, startPrivatePostgres } from "../helpers/private_postgres.ts";
import { basicAuth, type ChildServer, spawnServer, writeUsersFile } from "../helpers/server.ts";

const OUTAGE_MS = 4_000;
/** Longest a protocol may take to be acknowledged again once PostgreSQL accepts connections. */
const RECOVERY_MS = 5_000;

Deno.test("PostgreSQL outage: nothing lost is acknowledged, status says unhealthy, recovery without restart", async () => {
  await using database = await startPrivatePostgres();
  const dataDir = await Deno.makeTempDir({ prefix: "fieldgate-outage-" });
  try {
    await outageUnderLoad(database, dataDir);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

/** Runs the load, the outage and the checks of the test above. */
async function outageUnderLoad(database: PrivatePostgres, dataDir: string): Promise<void> {
  await writeUsersFile(dataDir);
  const server = await spawnServer(dataDir, ["--database-url", database.url, ...CMX_FLAGS]);
  const load = startIntakeLoad(server, join(dataDir, "certs", "dev-cert.pem"), {
    loggers: 6,
    meters: 10,
    confos: 3,
    cmx: 6,
  });
  let exitCode: number;
  try {
    await load.untilAcknowledged(0, RECOVERY_MS);
    await sleep(1_000);

    await database.stop();
    const stoppedAt = Date.now();
    await sleep(1_000);
    const down = await serverStatus(server, dataDir);
    assert.equal(down.code, 503, "/server-status answers 503 while the database is down");
    assert.equal(down.json.healthy, false);
    assert.equal(down.json.storage.reachable, false);
    assert.equal(typeof down.json.storage.error, "string");
    assert.match(down.html, /database is unreachable/i, "the HTML page says it plainly");
    await sleep(OUTAGE_MS - 1_000);

    const restartAt = Date.now();
    await database.start();
    // Answers to requests that may have reached the database before it stopped are left out.
    for (const protocol of PROTOCOLS) {
      const answers = load.answers(protocol, stoppedAt + 500, restartAt);
      assert.ok(answers.length > 0, `${protocol} clients got answers during the outage`);
      assert.equal(answers.filter((event) => event.acknowledged).length, 0, `no ${protocol} acknowledgement`);
    }
    const recoveredMs = await load.untilAcknowledged(Date.now(), RECOVERY_MS);
    assert.equal((await serverStatus(server, dataDir)).code, 200, "healthy again");
    await sleep(500);
    await load.stop();
    console.log(`every protocol acknowledged again ${recoveredMs} ms after PostgreSQL accepted connections`);
    console.log(load.summary(stoppedAt, restartAt));
  } catch (error) {
    throw withServerLog(error, server);
  } finally {
    await load.stop();
    exitCode = await stopServer(server);
  }
  if (exitCode !== 0) throw withServerLog(new Error(`the server did not survive the outage: exit ${exitCode}`), server);

  const store = await openRecordStore(loadConfig({ overrides: { dataDir, databaseUrl: database.url } }));
  try {
    await load.verify(store);
  } finally {
    await store.close();
  }
}

/** `/server-status` as JSON (status code and body) and as the HTML page. */
async function serverStatus(server: ChildServer, dataDir: string) {
  const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(join(dataDir, "certs", "dev-cert.pem"))] });
  try {
    const get = (accept: string) =>
      fetch(`${server.httpsUrl}/server-status`, { headers: { ...basicAuth(), accept }, client } as RequestInit);
    const json = await get("application/json");
    const html = await get("text/html");
    return { code: json.status, json: await json.json(), html: await html.text() };
  } finally {
    client.close();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
