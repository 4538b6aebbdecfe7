/**
 * Slow and half-open clients on every listener at once: the server keeps
 * serving everyone else, and the HTTPS port and the device sockets shed the
 * connections that never complete a handshake (the HTTPS limits one by one:
 * https_front_test.ts).
 */
import assert from "node:assert/strict";
import { connectDevice } from "../helpers/device_client.ts";
import { basicAuth, startTestServer } from "../helpers/server.ts";

const SLOW_CLIENTS = 100;

Deno.test("hundreds of silent, trickling and half-open clients do not keep others from being served", async () => {
  await using server = await startTestServer({
    tcp: { handshakeTimeoutSeconds: 0.5 },
    https: { handshakeTimeoutSeconds: 0.5 },
  });
  const https = Number(new URL(server.httpsUrl).port);
  const http = Number(new URL(server.httpUrl!).port);
  const hold: Deno.Conn[] = [];
  try {
    for (let i = 0; i < SLOW_CLIENTS; i++) {
      // Silent on HTTPS (no ClientHello), silent on the meter socket, a trickled request line on plain HTTP.
      hold.push(await Deno.connect({ hostname: "127.0.0.1", port: https }));
      hold.push(await Deno.connect({ hostname: "127.0.0.1", port: server.meterPort! }));
      const trickle = await Deno.connect({ hostname: "127.0.0.1", port: http });
      await trickle.write(
        new TextEncoder().encode("POST /ottt?stationid=slow&action=senddata HTTP/1.1\r\nHost: x\r\n"),
      );
      hold.push(trickle);
    }
    const started = performance.now();
    const ping = await server.fetch("/ping");
    assert.equal(await ping.text(), "pong");
    const status = await server.fetch("/server-status?format=json", { headers: basicAuth() });
    assert.equal(status.status, 200);
    await status.body?.cancel();
    using meter = await connectDevice(server.meterPort!, server.caFile);
    assert.equal(await meter.send({ Id: 1, status: true, voltage: 1, freq: 50 }), "Thank you");
    assert.ok(performance.now() - started < 5_000, "served promptly despite the slow clients");

    // The HTTPS port and the meter socket close connections that never complete a handshake.
    const silentConnections = hold.filter((_, i) => i % 3 !== 2);
    const deadline = AbortSignal.timeout(5_000);
    const closed = await Promise.all(silentConnections.map((conn) =>
      new Promise<boolean>((resolve) => {
        deadline.addEventListener("abort", () => resolve(false));
        conn.read(new Uint8Array(16)).then(() => resolve(true), () => resolve(true));
      })
    ));
    assert.ok(closed.every(Boolean), "every half-open HTTPS and meter connection was closed by the server");
  } finally {
    for (const conn of hold) {
      try {
        conn.close();
      } catch {
        // already closed by the server
      }
    }
  }
});
