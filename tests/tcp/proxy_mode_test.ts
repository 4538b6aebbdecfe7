/** Proxy mode: plain TCP from a TLS terminator, each connection opened by a PROXY header. */
import assert from "node:assert/strict";
import net from "node:net";
import { assertGoodProxyClient, captureLogs, LineClient, startListener, thankYou, within } from "./helpers.ts";

Deno.test("a v1 header and the first lines in one packet: the lines reach the handler, the address is the header's", async () => {
  await using logs = await captureLogs();
  const seen = thankYou();
  await using listener = await startListener({ mode: "proxy" }, seen.handler);
  using client = await LineClient.plain(listener.port);
  await client.send('PROXY TCP4 198.51.100.7 127.0.0.1 51000 38981\r\n{"Id":1}\n{"Id":2}\n');
  assert.equal(await client.readLine(), "Thank you");
  assert.equal(await client.readLine(), "Thank you");
  await client.conn.closeWrite();
  assert.equal(await client.readLine(), null);
  assert.deepEqual(seen.lines, ['{"Id":1}', '{"Id":2}']);
  assert.deepEqual(seen.remotes, ["198.51.100.7"]);
  const line = await logs.waitForOutcome("closed by client");
  assert.equal(line.properties.remote, "198.51.100.7");
  assert.equal(line.properties.peer, "127.0.0.1");
});

Deno.test("a v2 header arriving in pieces, over IPv6, then lines", async () => {
  const seen = thankYou();
  await using listener = await startListener({ mode: "proxy" }, seen.handler);
  using client = await LineClient.plain(listener.port);
  const source = [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 0x09];
  const destination = [...new Array(15).fill(0), 0x01];
  const header = new Uint8Array([
    ...[0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21, 0x21, 0x00, 36],
    ...source,
    ...destination,
    ...[0xc7, 0x38, 0x98, 0x45],
  ]);
  for (const piece of [header.subarray(0, 5), header.subarray(5, 20), header.subarray(20)]) await client.send(piece);
  assert.equal(await client.request('{"Id":3}'), "Thank you");
  assert.deepEqual(seen.remotes, ["2001:db8::9"]);
});

Deno.test("a LOCAL header (terminator health check) leaves the socket peer as the address", async () => {
  const seen = thankYou();
  await using listener = await startListener({ mode: "proxy" }, seen.handler);
  using client = await LineClient.plain(listener.port);
  await client.send(
    new Uint8Array([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x20, 0, 0, 0]),
  );
  assert.equal(await client.request("ping"), "Thank you");
  assert.deepEqual(seen.remotes, ["127.0.0.1"]);
});

Deno.test("without a valid PROXY header the connection is closed and logged; others carry on", async () => {
  await using logs = await captureLogs();
  await using listener = await startListener({ mode: "proxy" });
  using device = await LineClient.plain(listener.port);
  await device.send("PROXY TCP4 192.0.2.50 127.0.0.1 40000 38981\r\n");
  using direct = await LineClient.plain(listener.port);
  await direct.send('{"Id":1}\n');
  assert.equal(await direct.closedByServer(), "eof");
  using cut = await LineClient.plain(listener.port);
  await cut.send("PROXY TCP4 192.0.2.1");
  await cut.conn.closeWrite();
  assert.equal(await cut.closedByServer(), "eof");
  assert.match(String((await logs.waitForOutcome("no PROXY header")).properties.outcome), /^bad PROXY header/);
  await logs.waitForOutcome("connection closed before the header was complete");
  assert.equal(logs.connections().length, 2);
  assert.equal(await device.request('{"Id":7}'), "Thank you");
  await assertGoodProxyClient(listener.port);
});

Deno.test("proxy mode: a reset in the middle of a line is reported as such and ends only that connection", async () => {
  await using logs = await captureLogs();
  const seen = thankYou();
  await using listener = await startListener({ mode: "proxy" }, seen.handler);
  const tcp = net.connect({ host: "127.0.0.1", port: listener.port });
  tcp.on("error", () => {});
  await within(new Promise((resolve) => tcp.once("connect", resolve)), "connect");
  const reply = new Promise((resolve) => tcp.once("data", resolve));
  tcp.write('PROXY TCP4 192.0.2.9 127.0.0.1 40000 38981\r\n{"Id":1}\n{"Id":');
  await within(reply, "the reply to the first line");
  tcp.resetAndDestroy();
  const line = await logs.waitForOutcome("connection lost");
  assert.match(String(line.properties.outcome), /ECONNRESET/);
  assert.equal(line.properties.lines, 1);
  assert.deepEqual(seen.lines, ['{"Id":1}'], "the cut line is not handed on");
  await assertGoodProxyClient(listener.port);
});
