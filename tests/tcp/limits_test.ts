/** Limits of the device listener: line length, idle and handshake timeouts, connection caps. */
import assert from "node:assert/strict";
import {
  assertGoodProxyClient,
  assertGoodTlsClient,
  captureLogs,
  certificate,
  LineClient,
  startListener,
  testLimits,
  within,
} from "./helpers.ts";

Deno.test("a 1 MB line gets the error line and a close; earlier lines are answered first", async () => {
  await using logs = await captureLogs();
  const cert = await certificate();
  await using listener = await startListener({ tls: cert, limits: testLimits({ maxLineBytes: 4096 }) });
  using device = await LineClient.tls(listener.port, cert.cert);
  using flood = await LineClient.tls(listener.port, cert.cert);
  const huge = new Uint8Array(1024 * 1024).fill(0x61);
  // Written while the replies are read: the server stops framing after 4 KiB but swallows the rest, so the
  // client sees the error line instead of a reset.
  const writing = (async () => {
    await flood.send('{"Id":1}\n');
    await flood.send(huge);
    await flood.send("\n");
  })().catch((error) => error);
  assert.equal(await flood.readLine(), "Thank you");
  assert.equal(await flood.readLine(), "error: line longer than 4096 bytes");
  assert.equal(await flood.readLine(), null);
  assert.equal(await within(writing, "the 1 MB write"), undefined, "the whole line could be sent");
  flood.conn.close();
  const line = await logs.waitForOutcome("line longer than 4096 bytes");
  assert.equal(line.level, "warning");
  assert.equal(line.properties.lines, 1);
  assert.equal(await device.request('{"Id":7}'), "Thank you");
  await assertGoodTlsClient(listener.port, cert.cert);
});

Deno.test("a connection that sends nothing for the idle timeout is closed; a steady one is not", async () => {
  await using logs = await captureLogs();
  const cert = await certificate();
  await using listener = await startListener({ tls: cert, limits: testLimits({ idleTimeoutSeconds: 0.3 }) });
  using quiet = await LineClient.tls(listener.port, cert.cert);
  using steady = await LineClient.tls(listener.port, cert.cert);
  assert.equal(await quiet.request("first"), "Thank you");
  // Five lines 100 ms apart span longer than the timeout; each one resets it.
  for (let i = 0; i < 5; i++) {
    assert.equal(await steady.request(`{"Id":${i}}`), "Thank you");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(await quiet.closedByServer(), "eof");
  const line = await logs.waitForOutcome("idle timeout");
  assert.equal(line.properties.lines, 1);
  assert.ok(Number(line.properties.durationMs) >= 300);
  assert.equal(await steady.request("still here"), "Thank you");
  await assertGoodTlsClient(listener.port, cert.cert);
});

Deno.test("half-open clients that never finish the TLS handshake are closed after the handshake timeout", async () => {
  await using logs = await captureLogs();
  const cert = await certificate();
  await using listener = await startListener({ tls: cert, limits: testLimits({ handshakeTimeoutSeconds: 0.2 }) });
  using silent = await LineClient.plain(listener.port);
  using partial = await LineClient.plain(listener.port);
  await partial.send(new Uint8Array([0x16, 0x03, 0x01, 0x02, 0x00])); // a ClientHello record header, no body
  assert.equal(await silent.closedByServer(), "eof");
  await partial.closedByServer();
  const line = await logs.waitForOutcome("handshake timeout", 2);
  assert.ok(Number(line.properties.durationMs) >= 200);
  await assertGoodTlsClient(listener.port, cert.cert);
});

Deno.test("proxy mode: no PROXY header within the handshake timeout closes the connection", async () => {
  await using logs = await captureLogs();
  await using listener = await startListener({
    mode: "proxy",
    limits: testLimits({ handshakeTimeoutSeconds: 0.2 }),
  });
  using silent = await LineClient.plain(listener.port);
  using partial = await LineClient.plain(listener.port);
  await partial.send("PROXY TCP4 192.0.2.1 ");
  assert.equal(await silent.closedByServer(), "eof");
  assert.equal(await partial.closedByServer(), "eof");
  await logs.waitForOutcome("handshake timeout", 2);
  await assertGoodProxyClient(listener.port);
});

Deno.test("connections over maxConnections are closed at once and logged; a slot frees on close", async () => {
  await using logs = await captureLogs();
  const cert = await certificate();
  await using listener = await startListener({ tls: cert, limits: testLimits({ maxConnections: 2 }) });
  using first = await LineClient.tls(listener.port, cert.cert);
  using second = await LineClient.tls(listener.port, cert.cert);
  await assert.rejects(LineClient.tls(listener.port, cert.cert));
  const refused = await logs.waitForOutcome("refused");
  assert.equal(refused.properties.outcome, "refused: 2 connections open (maxConnections)");
  assert.equal(await second.request("ok"), "Thank you");
  first.conn.close();
  await logs.waitForOutcome("closed by client");
  await assertGoodTlsClient(listener.port, cert.cert);
});

Deno.test("maxConnectionsPerIp refuses a second connection from the same address", async () => {
  await using logs = await captureLogs();
  const cert = await certificate();
  await using listener = await startListener({ tls: cert, limits: testLimits({ maxConnectionsPerIp: 1 }) });
  using first = await LineClient.tls(listener.port, cert.cert);
  await assert.rejects(LineClient.tls(listener.port, cert.cert));
  assert.equal(
    (await logs.waitForOutcome("refused")).properties.outcome,
    "refused: too many connections from 127.0.0.1",
  );
  assert.equal(await first.request("ok"), "Thank you");
  first.conn.close();
  await logs.waitForOutcome("closed by client");
  await assertGoodTlsClient(listener.port, cert.cert);
});

Deno.test("proxy mode: the per-IP cap counts the address from the PROXY header, not the terminator's", async () => {
  await using logs = await captureLogs();
  await using listener = await startListener({ mode: "proxy", limits: testLimits({ maxConnectionsPerIp: 1 }) });
  const connect = async (source: string) => {
    const client = await LineClient.plain(listener.port);
    await client.send(`PROXY TCP4 ${source} 127.0.0.1 50000 38981\r\n`);
    return client;
  };
  using a = await connect("192.0.2.1");
  using b = await connect("192.0.2.2");
  assert.equal(await a.request("a"), "Thank you");
  assert.equal(await b.request("b"), "Thank you");
  using again = await connect("192.0.2.1");
  assert.equal(await again.closedByServer(), "eof");
  const refused = await logs.waitForOutcome("refused");
  assert.equal(refused.properties.outcome, "refused: too many connections from 192.0.2.1");
  assert.equal(refused.properties.remote, "192.0.2.1");
  assert.equal(await a.request("a again"), "Thank you");
  await assertGoodProxyClient(listener.port, "192.0.2.3");
});
