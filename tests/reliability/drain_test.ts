/**
 * SIGTERM drains: a request already in flight still completes and is stored,
 * a connected meter gets its "Thank you" for the packet in hand, and the
 * process exits 0; afterwards nothing listens any more.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { connectDevice } from "../helpers/device_client.ts";
import { readFixture } from "../helpers/fixtures.ts";
import { basicAuth, spawnServer, writeUsersFile } from "../helpers/server.ts";

Deno.test("SIGTERM lets in-flight work finish, then exits 0", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "fieldgate-drain-" });
  await writeUsersFile(dataDir);
  const server = await spawnServer(dataDir);
  const caFile = join(dataDir, "certs", "dev-cert.pem");
  const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(caFile)] });
  try {
    using meter = await connectDevice(server.meterPort, caFile);
    assert.equal(await meter.send({ Id: 9, status: true, voltage: 1, freq: 50 }), "Thank you");

    // A transmission whose body is still arriving when SIGTERM comes.
    const body = await readFixture("ott-senddata.xml");
    let sendRest!: () => void;
    const rest = new Promise<void>((resolve) => sendRest = resolve);
    const stream = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(body.subarray(0, 100));
        await rest;
        controller.enqueue(body.subarray(100));
        controller.close();
      },
    });
    const inFlight = fetch(`${server.httpsUrl}/ottt?stationid=drain&action=senddata`, {
      method: "POST",
      body: stream,
      headers: basicAuth(),
      client,
    } as RequestInit);
    await new Promise((resolve) => setTimeout(resolve, 300));
    server.process.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 300));
    const late = meter.send({ Id: 9, status: true, voltage: 2, freq: 50 });
    sendRest();
    const response = await inFlight;
    assert.equal(response.status, 200);
    assert.match(await response.text(), /<Response stationId="drain"/);
    assert.match(await late, /^(Thank you|<EOF>)$/, "a packet sent during the drain is acknowledged or not at all");
    const status = await server.exited;
    assert.equal(status.code, 0, server.output.join("\n"));
    assert.ok(server.output.some((line) => line.includes("stopped cleanly")));
    await assert.rejects(fetch(`${server.httpsUrl}/ping`, { client } as RequestInit), "nothing listens after exit");
  } finally {
    client.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
