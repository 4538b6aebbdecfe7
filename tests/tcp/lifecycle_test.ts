/** Certificate hot reload, binding errors and shutdown of the device listener. */
import assert from "node:assert/strict";
import type { DeviceConnection } from "../../tcp/listener.ts";
import { serveLines } from "../../tcp/line_protocol.ts";
import { listenDevices } from "../../tcp/listener.ts";
import {
  assertGoodTlsClient,
  captureLogs,
  certificate,
  LineClient,
  makeCertificate,
  startListener,
  testLimits,
  within,
} from "./helpers.ts";

Deno.test("a reloaded certificate serves new connections; connected devices keep going", async () => {
  await using logs = await captureLogs();
  const [before, after] = [await certificate(), await makeCertificate()];
  await using listener = await startListener({ tls: before });
  using old = await LineClient.tls(listener.port, before.cert);
  assert.equal(await old.request('{"Id":1}'), "Thank you");

  await listener.reloadCertificate(after);
  assert.ok(logs.records.some((record) => String(record.message.join("")).includes("new certificate in use")));
  assert.equal(await old.request('{"Id":2}'), "Thank you", "the device connected before the reload keeps its session");
  await assertGoodTlsClient(listener.port, after.cert);
  await assert.rejects(LineClient.tls(listener.port, before.cert), /certificate/i, "the old certificate is gone");
  assert.equal(await old.request('{"Id":3}'), "Thank you");
});

Deno.test("a broken certificate is refused by reloadCertificate and the current one stays", async () => {
  const cert = await certificate();
  await using listener = await startListener({ tls: cert });
  await assert.rejects(listener.reloadCertificate({ cert: "not a certificate", key: cert.key }));
  await assertGoodTlsClient(listener.port, cert.cert);
});

Deno.test("a taken port makes listenDevices reject with the address in the message", async () => {
  const cert = await certificate();
  await using first = await startListener({ tls: cert });
  await assert.rejects(
    listenDevices(
      { name: "meter", hostname: "127.0.0.1", port: first.port, mode: "tls", limits: testLimits(), tls: cert },
      async () => {},
    ),
    new RegExp(`cannot listen on 127\\.0\\.0\\.1:${first.port}`),
  );
});

Deno.test("close() ends idle devices at once, lets a line in hand finish, then frees the port", async () => {
  await using logs = await captureLogs();
  const cert = await certificate();
  const release = Promise.withResolvers<void>();
  const started = Promise.withResolvers<void>();
  const handler = (connection: DeviceConnection) =>
    serveLines(connection, async (line) => {
      if (line === "slow") {
        started.resolve();
        await release.promise; // e.g. a commit in progress
      }
      return "Thank you";
    }, 1);
  const listener = await startListener({ tls: cert }, handler);
  using idle = await LineClient.tls(listener.port, cert.cert);
  using busy = await LineClient.tls(listener.port, cert.cert);
  assert.equal(await idle.request("hello"), "Thank you");
  await busy.send("slow\n");
  await started.promise;

  const closing = listener.close(10);
  assert.equal(await idle.closedByServer(), "eof", "an idle device is let go at once");
  const idleLine = await logs.waitForOutcome("server shutting down");
  assert.equal(idleLine.level, "info");
  release.resolve();
  assert.equal(await busy.readLine(), "Thank you", "the packet in hand is still acknowledged");
  assert.equal(await busy.readLine(), null);
  await within(closing, "close()");
  await logs.waitForOutcome("server shutting down", 2);
  using again = Deno.listen({ hostname: "127.0.0.1", port: listener.port });
  assert.equal((again.addr as Deno.NetAddr).port, listener.port);
});

Deno.test("close() cuts off a handler that outlives the grace period", async () => {
  await using logs = await captureLogs();
  const cert = await certificate();
  const release = Promise.withResolvers<void>();
  const started = Promise.withResolvers<void>();
  const listener = await startListener(
    { tls: cert, limits: testLimits() },
    (connection) =>
      serveLines(connection, async () => {
        started.resolve();
        await release.promise;
        return "Thank you";
      }, 1),
  );
  using stuck = await LineClient.tls(listener.port, cert.cert);
  await stuck.send("line\n");
  await started.promise;
  const closing = listener.close(0.2);
  await stuck.closedByServer();
  release.resolve();
  await within(closing, "close()");
  const line = await logs.waitForOutcome("grace period over");
  assert.equal(line.level, "warning");
});
