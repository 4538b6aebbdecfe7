import assert from "node:assert/strict";
import { connectDevice } from "../helpers/device_client.ts";
import { readFixture } from "../helpers/fixtures.ts";
import { basicAuth, startTestServer } from "../helpers/server.ts";

Deno.test("a provisioned device confirms on the confo socket and the app reads the hash back over HTTPS", async () => {
  await using server = await startTestServer({
    confo: { port: 0, hostname: "127.0.0.1", apiToken: "app-token-0123456789" },
  });
  using device = await connectDevice(server.confoPort!, server.caFile);
  const fixture = new TextDecoder().decode(await readFixture("confo-packet.ndjson")).trim();
  await device.write(fixture + "\n");
  assert.equal(await device.readLine(), "Thank you");

  const byToken = await server.fetch("/api/confo?deviceName=Movprov&ssid=M0V", {
    headers: { authorization: "Bearer app-token-0123456789" },
  });
  assert.equal(byToken.status, 200);
  const body = await byToken.json();
  assert.equal(body.hash, 13580);
  assert.equal(body.conflict, false);
  const byLogin = await server.fetch("/api/confo?deviceName=Movprov&ssid=M0V", { headers: basicAuth() });
  assert.equal((await byLogin.json()).hash, 13580);
  const wrongToken = await server.fetch("/api/confo?deviceName=Movprov&ssid=M0V", {
    headers: { authorization: "Bearer nope" },
  });
  assert.equal(wrongToken.status, 401);
  await wrongToken.body?.cancel();
  const unknown = await server.fetch("/api/confo?deviceName=Other&ssid=M0V", { headers: basicAuth() });
  assert.equal(unknown.status, 404);
  await unknown.body?.cancel();
});

Deno.test("a second account configuring the same hash is saved as a conflict", async () => {
  await using server = await startTestServer();
  await server.records.confo.registerEmail("first@example.org");
  await server.records.confo.registerEmail("second@example.org");
  using device = await connectDevice(server.confoPort!, server.caFile);
  const confo = (email: string) => ({ deviceName: "Meter A", ssid: "lab", hash: 777, email });
  assert.equal(await device.send(confo("first@example.org")), "Thank you");
  // `latest` orders by receipt time in milliseconds, and a confo wins a tie with a conflict (the store contract):
  // a real second confirmation comes seconds later, two sent back to back here can share a millisecond.
  await nextMillisecond();
  assert.equal(await device.send(confo("second@example.org")), "Thank you");
  const latest = await (await server.fetch("/api/confo?deviceName=Meter%20A&ssid=lab", { headers: basicAuth() }))
    .json();
  assert.equal(latest.conflict, true);
  assert.match(await device.send({ ssid: "lab", hash: 1 }), /^error: missing field "deviceName"/);
});

/** Resolves once `Date.now()` has moved past the millisecond it was called in. */
async function nextMillisecond(): Promise<void> {
  const start = Date.now();
  while (Date.now() === start) await new Promise((resolve) => setTimeout(resolve, 1));
}
