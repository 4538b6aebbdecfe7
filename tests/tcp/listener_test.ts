/**
 * The TLS device listener: framing over real sockets, and isolation: each bad
 * peer ends only its own connection, with one log line, while a connected
 * device and a new one carry on.
 */
import assert from "node:assert/strict";
import net from "node:net";
import tls from "node:tls";
import {
  assertGoodTlsClient,
  captureLogs,
  certificate,
  LineClient,
  startListener,
  testLimits,
  thankYou,
  within,
} from "./helpers.ts";

Deno.test("lines arrive whole, with the last one at half-close, and replies go back in order", async () => {
  await using logs = await captureLogs();
  const cert = await certificate();
  const seen = thankYou();
  await using listener = await startListener({ tls: cert }, seen.handler);
  using client = await LineClient.tls(listener.port, cert.cert);
  await client.send('{"Id":1}\n{"Id"');
  assert.equal(await client.readLine(), "Thank you");
  await client.send(':2}\r\n\n{"Id":3}');
  await client.conn.closeWrite();
  assert.equal(await client.readLine(), "Thank you");
  assert.equal(await client.readLine(), "Thank you");
  assert.equal(await client.readLine(), null);
  assert.deepEqual(seen.lines, ['{"Id":1}', '{"Id":2}', '{"Id":3}']);
  assert.deepEqual(seen.remotes, ["127.0.0.1"]);
  const line = await logs.waitForOutcome("closed by client");
  assert.equal(line.level, "info");
  assert.deepEqual({ ...line.properties, durationMs: 0 }, {
    name: "test",
    remote: "127.0.0.1",
    peer: "127.0.0.1",
    durationMs: 0,
    lines: 3,
    outcome: "closed by client",
  });
});

Deno.test("pipelined lines in one write are all answered, in order; many devices at once", async () => {
  const cert = await certificate();
  const seen = thankYou();
  await using listener = await startListener({
    tls: cert,
    limits: testLimits({ maxConnections: 101, maxConnectionsPerIp: 101 }),
  }, seen.handler);
  using burst = await LineClient.tls(listener.port, cert.cert);
  const count = 2000;
  await burst.send(Array.from({ length: count }, (_, i) => `{"Id":${i}}\n`).join(""));
  for (let i = 0; i < count; i++) assert.equal(await burst.readLine(), "Thank you");
  assert.deepEqual(seen.lines.slice(0, 3), ['{"Id":0}', '{"Id":1}', '{"Id":2}']);
  assert.equal(seen.lines.at(-1), `{"Id":${count - 1}}`);

  await Promise.all(Array.from({ length: 100 }, async (_, device) => {
    using client = await LineClient.tls(listener.port, cert.cert);
    for (let i = 0; i < 5; i++) assert.equal(await client.request(`{"Id":${device}}`), "Thank you");
  }));
  assert.equal(seen.lines.length, count + 500);
});

Deno.test("plain text, plain HTTP and random bytes on the TLS port fail only their own handshake", async () => {
  await using logs = await captureLogs();
  const cert = await certificate();
  await using listener = await startListener({ tls: cert });
  using device = await LineClient.tls(listener.port, cert.cert);
  const random = crypto.getRandomValues(new Uint8Array(512));
  random[0] = 0x42; // not 0x16, so it is not mistaken for the start of a TLS record that is still arriving
  for (const garbage of ['{"Id":1}\n', "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", random]) {
    using bad = await LineClient.plain(listener.port);
    await bad.send(garbage);
    await bad.closedByServer();
  }
  await logs.waitForOutcome("TLS handshake failed", 3);
  assert.equal(logs.connections().length, 3, "one line per failed connection");
  assert.ok(logs.connections().every((record) => record.level === "warning"));
  assert.equal(await device.request('{"Id":7}'), "Thank you", "a connected device does not notice");
  await assertGoodTlsClient(listener.port, cert.cert);
});

Deno.test("a client offering only AES256-SHA (static RSA) is refused by rustls, cleanly", async () => {
  await using logs = await captureLogs();
  const cert = await certificate();
  await using listener = await startListener({ tls: cert });
  using device = await LineClient.tls(listener.port, cert.cert);
  const openssl = await new Deno.Command("openssl", {
    args: ["s_client", "-connect", `127.0.0.1:${listener.port}`, "-tls1_2", "-cipher", "AES256-SHA", "-quiet"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(openssl.success, false);
  assert.match(new TextDecoder().decode(openssl.stderr), /handshake failure/);
  const line = await logs.waitForOutcome("TLS handshake failed");
  assert.match(String(line.properties.outcome), /incompatible|NoCipherSuitesInCommon|NoKxGroupsInCommon/);
  assert.equal(await device.request('{"Id":7}'), "Thank you");
  await assertGoodTlsClient(listener.port, cert.cert);
});

Deno.test("a handler that throws ends that connection with an error log line", async () => {
  await using logs = await captureLogs();
  const cert = await certificate();
  await using listener = await startListener({ tls: cert });
  using device = await LineClient.tls(listener.port, cert.cert);
  using buggy = await LineClient.tls(listener.port, cert.cert);
  assert.equal(await buggy.request("fine"), "Thank you");
  await buggy.send("boom\n");
  assert.equal(await buggy.closedByServer(), "eof");
  const line = await logs.waitForOutcome("handler failed");
  assert.equal(line.level, "error");
  assert.equal(line.properties.outcome, "handler failed: handler bug on purpose");
  assert.equal(line.properties.lines, 2);
  assert.equal(await device.request('{"Id":7}'), "Thank you");
  await assertGoodTlsClient(listener.port, cert.cert);
});

Deno.test("a reset in the middle of a line ends only that connection", async () => {
  await using logs = await captureLogs();
  const cert = await certificate();
  await using listener = await startListener({ tls: cert });
  using device = await LineClient.tls(listener.port, cert.cert);
  // Deno.Conn cannot send a TCP reset; node:net can (SO_LINGER 0), under a node:tls session.
  const tcp = net.connect({ host: "127.0.0.1", port: listener.port });
  tcp.on("error", () => {});
  const session = tls.connect({ socket: tcp, ca: [cert.cert], servername: "localhost" });
  session.on("error", () => {});
  await within(new Promise((resolve) => session.once("secureConnect", resolve)), "node:tls handshake");
  const reply = new Promise((resolve) => session.once("data", resolve));
  session.write('{"Id":1}\n{"Id":');
  await within(reply, "the reply to the first line");
  tcp.resetAndDestroy();
  // Deno's node:tls reports a reset as an end of stream: the cut line reaches the handler (and fails to parse
  // there), and the reply to it fails: the connection ends as lost either way, with one warning.
  const line = await logs.waitForOutcome("connection lost");
  assert.equal(line.level, "warning");
  assert.match(String(line.properties.outcome), /ECONNRESET|EPIPE/);
  assert.equal(logs.connections().length, 1);
  assert.equal(await device.request('{"Id":7}'), "Thank you");
  await assertGoodTlsClient(listener.port, cert.cert);
});
