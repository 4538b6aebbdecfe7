import assert from "node:assert/strict";
import mqtt from "mqtt";
import { connectDevice } from "../helpers/device_client.ts";
import { basicAuth, startTestServer } from "../helpers/server.ts";

const packet = (pubId: number, voltage: number) => ({ Id: pubId, status: true, voltage, freq: 50 });

/** Reads SSE events from a response until `count` events named `name` arrived. */
async function readEvents(response: Response, name: string, count: number): Promise<unknown[]> {
  const events: unknown[] = [];
  let buffered = "";
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  while (events.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    buffered += value;
    let end;
    while ((end = buffered.indexOf("\n\n")) >= 0) {
      const block = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event === name && data) events.push(JSON.parse(data));
    }
  }
  await reader.cancel();
  return events;
}

Deno.test("stored readings stream as Server-Sent Events, filtered by pubId", async () => {
  await using server = await startTestServer();
  const response = await server.fetch("/api/meters/live?pubId=11", { headers: basicAuth() });
  assert.equal(response.headers.get("content-type"), "text/event-stream");
  const events = readEvents(response, "reading", 2);
  using device = await connectDevice(server.meterPort!, server.caFile);
  assert.equal(await device.send(packet(12, 1)), "Thank you");
  assert.equal(await device.send(packet(11, 2)), "Thank you");
  assert.equal(await device.send(packet(11, 3)), "Thank you");
  const received = await events as { pub_id: number; voltage: number }[];
  assert.deepEqual(received.map((r) => [r.pub_id, r.voltage]), [[11, 2], [11, 3]]);
  const anonymous = await server.fetch("/api/meters/live");
  assert.equal(anonymous.status, 401);
  await anonymous.body?.cancel();
});

Deno.test("with meter.mqttUrl each stored reading is published to fieldgate/meters/<pubId>", async () => {
  const subscriber = await mqtt.connectAsync("mqtt://127.0.0.1:1883");
  try {
    const pubId = 100_000 + Math.floor(Math.random() * 800_000);
    await subscriber.subscribeAsync(`fieldgate/meters/${pubId}`);
    const message = new Promise<{ pub_id: number; voltage: number }>((resolve) =>
      subscriber.on("message", (_topic, payload) => resolve(JSON.parse(payload.toString())))
    );
    await using server = await startTestServer({
      meter: { port: 0, hostname: "127.0.0.1", mqttUrl: "mqtt://127.0.0.1:1883" },
    });
    using device = await connectDevice(server.meterPort!, server.caFile);
    let published: { pub_id: number; voltage: number } | undefined;
    // The publisher connects in the background; resend until the broker has it.
    for (let attempt = 0; attempt < 50 && !published; attempt++) {
      assert.equal(await device.send(packet(pubId, 230.5)), "Thank you");
      published = await Promise.race([message, new Promise<undefined>((r) => setTimeout(() => r(undefined), 100))]);
    }
    assert.deepEqual([published?.pub_id, published?.voltage], [pubId, 230.5]);
  } finally {
    await subscriber.endAsync();
  }
});
