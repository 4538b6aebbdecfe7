/**
 * `deno task backup`: a running fieldgate child with OTT transmissions, meter
 * readings, users and its certificate is backed up (to a directory and to a
 * tar file) while loggers keep posting; each backup restored into a new data
 * directory starts a server that has the data.
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { main } from "../../cli/backup.ts";
import { connectDevice } from "../helpers/device_client.ts";
import { readFixture } from "../helpers/fixtures.ts";
import { basicAuth, type ChildServer, spawnServer, writeUsersFile } from "../helpers/server.ts";

const fixture = await readFixture("ott-senddata.xml");

/** Posts the fixture for `stationId` and returns the status. */
async function post(server: ChildServer, client: Deno.HttpClient, stationId: string): Promise<number> {
  const url = `${server.httpsUrl}/ottt?stationid=${stationId}&action=senddata`;
  const response = await fetch(url, { method: "POST", headers: basicAuth(), body: fixture, client });
  await response.body?.cancel();
  return response.status;
}

async function stop(server: ChildServer): Promise<void> {
  server.process.kill("SIGTERM");
  await server.exited;
}

async function files(dir: string): Promise<Map<string, Uint8Array>> {
  const found = new Map<string, Uint8Array>();
  const walk = async (at: string) => {
    for await (const entry of Deno.readDir(at)) {
      if (entry.isDirectory) await walk(join(at, entry.name));
      else found.set(relative(dir, join(at, entry.name)), await Deno.readFile(join(at, entry.name)));
    }
  };
  await walk(dir);
  return found;
}

Deno.test("a running server's data survives backup and restore, as a directory and as a tar file", async () => {
  const root = await Deno.makeTempDir({ prefix: "fieldgate-backup-" });
  try {
    const source = join(root, "source");
    await writeUsersFile(source);
    const server = await spawnServer(source);
    const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(join(source, "certs", "dev-cert.pem"))] });
    let postedDuring = 0;
    try {
      for (let i = 0; i < 5; i++) assert.equal(await post(server, client, "0000452891"), 200);
      {
        using meter = await connectDevice(server.meterPort, join(source, "certs", "dev-cert.pem"));
        for (let i = 0; i < 4; i++) {
          assert.equal(await meter.send({ Id: 21, status: true, voltage: 230, freq: 50 }), "Thank you");
        }
      }
      // A logger keeps posting while both backups run: the server is online throughout.
      let posting = true;
      const during = (async () => {
        while (posting) {
          assert.equal(await post(server, client, "0000452892"), 200);
          postedDuring++;
        }
      })();
      assert.equal(await main(["create", "--to", join(root, "copy"), "--data-dir", source]), 0);
      assert.equal(await main(["create", "--to", join(root, "backup.tar"), "--data-dir", source]), 0);
      posting = false;
      await during;
      assert.ok(postedDuring > 0, "posts went on during the backup");
      assert.equal(await main(["create", "--to", join(root, "copy"), "--data-dir", source]), 2, "target not empty");
    } finally {
      client.close();
      await stop(server);
    }
    const sourceFiles = await files(source);

    for (const backup of ["copy", "backup.tar"]) {
      const restored = join(root, `restored-${backup}`);
      assert.equal(await main(["restore", "--from", join(root, backup), "--data-dir", restored]), 0);
      const restoredFiles = await files(restored);
      for (const [name, bytes] of restoredFiles) {
        if (name.startsWith("fieldgate.sqlite")) continue;
        assert.deepEqual(bytes, sourceFiles.get(name), `${name} restored byte for byte`);
      }
      assert.equal((await Deno.stat(join(restored, "certs", "dev-key.pem"))).mode! & 0o777, 0o600);

      const again = await spawnServer(restored);
      const caCerts = [await Deno.readTextFile(join(restored, "certs", "dev-cert.pem"))];
      const restoredClient = Deno.createHttpClient({ caCerts });
      try {
        // The restored users file lets the logger in; the restored certificate is served again.
        const response = await fetch(`${again.httpsUrl}/server-status?format=json`, {
          headers: basicAuth(),
          client: restoredClient,
        });
        assert.equal(response.status, 200);
        const status = await response.json();
        const station = (id: string) => status.stations.find((s: { stationId: string }) => s.stationId === id);
        assert.equal(station("0000452891").transmissions, 5);
        assert.ok((station("0000452892")?.transmissions ?? 0) <= postedDuring);
        assert.equal(status.meters.find((m: { pubId: number }) => m.pubId === 21).readings, 4);
        const ottFiles = [...restoredFiles.keys()].filter((name) => name.includes("/0000452891_"));
        assert.equal(ottFiles.length, 5, "every acknowledged transmission's raw file is in the backup");
      } finally {
        restoredClient.close();
        await stop(again);
      }
    }
    assert.equal(await main(["restore", "--from", join(root, "copy"), "--data-dir", source]), 2, "not empty");
    assert.equal(await main(["restore", "--from", root, "--data-dir", join(root, "x")]), 2, "no manifest");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
