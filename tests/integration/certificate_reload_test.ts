import assert from "node:assert/strict";
import { join } from "node:path";
import { connectDevice } from "../helpers/device_client.ts";
import { makeTestPki } from "../helpers/openssl_ca.ts";
import { startTestServer } from "../helpers/server.ts";

/** Replaces a file the way a renewal tool should: write aside, then rename over. */
async function replaceFile(target: string, source: string): Promise<void> {
  await Deno.copyFile(source, `${target}.new`);
  await Deno.rename(`${target}.new`, target);
}

Deno.test("a renewed certificate on disk is served to new clients while connected devices keep going", async () => {
  const pkiDir = await Deno.makeTempDir({ prefix: "fieldgate-pki-" });
  const [oldPki, newPki] = [await makeTestPki(pkiDir, "old"), await makeTestPki(pkiDir, "new")];
  const certFile = join(pkiDir, "live.pem");
  const keyFile = join(pkiDir, "live.key");
  await Deno.copyFile(oldPki.leafFile, certFile);
  await Deno.copyFile(oldPki.keyFile, keyFile);
  try {
    await using server = await startTestServer({ tls: { certFile, keyFile, reloadCheckSeconds: 0.1 } });
    using connected = await connectDevice(server.meterPort!, oldPki.caFile);
    const packet = { Id: 1, status: true, voltage: 230, freq: 50 };
    assert.equal(await connected.send(packet), "Thank you");

    await replaceFile(keyFile, newPki.keyFile);
    await replaceFile(certFile, newPki.leafFile);
    const newClient = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(newPki.caFile)] });
    try {
      let served = false;
      for (let attempt = 0; attempt < 50 && !served; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        served = await fetch(
          `${server.httpsUrl.replace("127.0.0.1", "localhost")}/ping`,
          { client: newClient } as RequestInit,
        )
          .then(async (response) => (await response.text()) === "pong", () => false);
      }
      assert.ok(served, "HTTPS serves the renewed certificate within 5 s");
    } finally {
      newClient.close();
    }
    using renewedDevice = await connectDevice(server.meterPort!, newPki.caFile);
    assert.equal(await renewedDevice.send(packet), "Thank you", "new devices get the renewed certificate");
    assert.equal(await connected.send(packet), "Thank you", "the device connected before the renewal still works");
    await assert.rejects(connectDevice(server.meterPort!, oldPki.caFile), "the old certificate is no longer served");
  } finally {
    await Deno.remove(pkiDir, { recursive: true });
  }
});
