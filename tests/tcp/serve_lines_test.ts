/**
 * serveLines (the meter and confo sockets' request/reply loop) on a real device socket: it takes lines as
 * they arrive (receiveLines), so the limits and endings are checked here too; and once on a connection
 * of the test's own, to count its writes.
 */
import assert from "node:assert/strict";
import type { DeviceConnection } from "../../tcp/listener.ts";
import { serveLines } from "../../tcp/line_protocol.ts";
import { captureLogs, certificate, LineClient, startListener, testLimits } from "./helpers.ts";

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A handler that answers `ok <line>` after `ms`, up to 4 lines in flight. */
const delayedEcho = (ms: number) => (connection: DeviceConnection) =>
  serveLines(connection, async (line) => {
    await delay(ms);
    return `ok ${line}`;
  }, 4);

Deno.test("serveLines: pipelined lines are answered in order when handled out of order, at most maxInFlight at a time", async () => {
  await using logs = await captureLogs();
  const cert = await certificate();
  let running = 0;
  let mostRunning = 0;
  const handled: string[] = [];
  const handler = (connection: DeviceConnection) =>
    serveLines(connection, async (line) => {
      running++;
      mostRunning = Math.max(mostRunning, running);
      handled.push(line);
      await delay(line === "0" || line === "3" ? 60 : 5); // the first of each window finishes last
      running--;
      return `reply ${line}`;
    }, 3);
  await using listener = await startListener({ tls: cert }, handler);
  using client = await LineClient.tls(listener.port, cert.cert);
  await client.send(Array.from({ length: 8 }, (_, i) => `${i}\n`).join(""));
  for (let i = 0; i < 8; i++) assert.equal(await client.readLine(), `reply ${i}`);
  assert.equal(mostRunning, 3);
  assert.deepEqual(handled, ["0", "1", "2", "3", "4", "5", "6", "7"]);
  await client.send("last without newline");
  await client.conn.closeWrite();
  assert.equal(await client.readLine(), "reply last without newline");
  assert.equal(await client.readLine(), null);
  const line = await logs.waitForOutcome("closed by client");
  assert.equal(line.properties.lines, 9);
});

Deno.test("serveLines: a device that sends faster than it is served is paused, not buffered without bound", async () => {
  const cert = await certificate();
  const release = Promise.withResolvers<void>();
  let handled = 0;
  const handler = (connection: DeviceConnection) =>
    serveLines(connection, async (line) => {
      handled++;
      await release.promise;
      return `ok ${line.length}`;
    }, 2);
  await using listener = await startListener({ tls: cert }, handler);
  using client = await LineClient.tls(listener.port, cert.cert);
  const lines = 200;
  const text = "x".repeat(1000);
  await client.send(Array.from({ length: lines }, () => text + "\n").join(""));
  await delay(200);
  assert.equal(handled, 2, "only the window is handled while its replies are owed");
  release.resolve();
  for (let i = 0; i < lines; i++) assert.equal(await client.readLine(), "ok 1000");
  assert.equal(handled, lines);
});

Deno.test("serveLines: a line too long gets the earlier replies, then the error line and a close", async () => {
  await using logs = await captureLogs();
  const cert = await certificate();
  const handler = delayedEcho(20);
  await using listener = await startListener({ tls: cert, limits: testLimits({ maxLineBytes: 100 }) }, handler);
  using client = await LineClient.tls(listener.port, cert.cert);
  await client.send("a\nb\n" + "y".repeat(500) + "\n");
  assert.equal(await client.readLine(), "ok a");
  assert.equal(await client.readLine(), "ok b");
  assert.equal(await client.readLine(), "error: line longer than 100 bytes");
  assert.equal(await client.readLine(), null);
  const line = await logs.waitForOutcome("line longer than 100 bytes");
  assert.equal(line.properties.lines, 2);
});

Deno.test("serveLines: a silent device is closed after the idle timeout", async () => {
  await using logs = await captureLogs();
  const cert = await certificate();
  const handler = delayedEcho(5);
  await using listener = await startListener({ tls: cert, limits: testLimits({ idleTimeoutSeconds: 0.3 }) }, handler);
  using quiet = await LineClient.tls(listener.port, cert.cert);
  assert.equal(await quiet.request("first"), "ok first");
  assert.equal(await quiet.closedByServer(), "eof");
  const line = await logs.waitForOutcome("idle timeout");
  assert.equal(line.properties.lines, 1);
  assert.ok(Number(line.properties.durationMs) >= 300);
});

Deno.test("serveLines: a device that goes away with replies owed ends only its own connection", async () => {
  await using logs = await captureLogs();
  const cert = await certificate();
  const release = Promise.withResolvers<void>();
  const started = Promise.withResolvers<void>();
  const handler = (connection: DeviceConnection) =>
    serveLines(connection, async (line) => {
      started.resolve();
      await release.promise;
      return `ok ${line}`;
    }, 4);
  await using listener = await startListener({ tls: cert }, handler);
  const gone = await LineClient.tls(listener.port, cert.cert);
  await gone.send("1\n2\n");
  await started.promise;
  gone.conn.close();
  await delay(50);
  release.resolve();
  const line = await logs.waitForOutcome(/connection lost|closed by client|connection closed/);
  assert.notEqual(line.level, "error");
  using next = await LineClient.tls(listener.port, cert.cert);
  assert.equal(await next.request("3"), "ok 3");
});

Deno.test("serveLines: the replies of one group commit go out in one write", async () => {
  // A connection of our own, so the writes can be counted: one write per batch is one TLS record per batch.
  const writes: string[] = [];
  let sink: Parameters<DeviceConnection["receiveLines"]>[0] | undefined;
  const connection: DeviceConnection = {
    remoteAddr: "192.0.2.1",
    receiveLines: (lineSink) => sink = lineSink,
    resumeLines: () => {},
    reply: (text) => {
      writes.push(text);
      return Promise.resolve();
    },
  };
  const commit = Promise.withResolvers<void>();
  const served = serveLines(connection, async (line) => {
    await commit.promise;
    return `Thank you ${line}`;
  }, 16);
  for (let i = 0; i < 16; i++) assert.equal(sink!.line(String(i)), true);
  commit.resolve();
  sink!.end();
  await served;
  assert.deepEqual(writes, [Array.from({ length: 16 }, (_, i) => `Thank you ${i}`).join("\n")]);
});
