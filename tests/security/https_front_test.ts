/**
 * The guarded HTTPS front (https/front.ts) on real sockets: silent, partial
 * handshake, trickling and idle clients are closed at their deadline, the
 * connection caps refuse the excess while others are still served, and the
 * app sees each client's real address although it is reached over loopback.
 * Clients bind 127.0.0.2 / 127.0.0.3 (all of 127/8 is loopback on Linux) to
 * appear as different addresses.
 */
import assert from "node:assert/strict";
import net from "node:net";
import tls from "node:tls";
import { loadConfig } from "../../config.ts";
import { listenHttps } from "../../https/listen.ts";
import { basicAuth, startTestServer, type TestServer } from "../helpers/server.ts";
import { certificate } from "../tcp/helpers.ts";

const TIMEOUT = 0.5;

/** A raw TCP connection to the HTTPS port from `localAddress`; resolves once connected. */
function connectTcp(server: TestServer, localAddress = "127.0.0.1"): Promise<net.Socket> {
  const socket = net.connect({ host: "127.0.0.1", port: httpsPort(server), localAddress });
  socket.on("error", () => {});
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("error", reject);
  });
}

/** A TLS connection trusting the server's certificate; resolves once the handshake is done. */
async function connectTls(server: TestServer, localAddress = "127.0.0.1"): Promise<tls.TLSSocket> {
  const ca = await Deno.readTextFile(server.caFile);
  const socket = tls.connect({ socket: await connectTcp(server, localAddress), servername: "localhost", ca });
  socket.on("error", () => {});
  return new Promise((resolve, reject) => {
    socket.once("secureConnect", () => resolve(socket));
    socket.once("error", reject);
  });
}

/** Milliseconds from `started` until the server closes `socket`, or null if it is still open after `withinMs`. */
function closedAfter(socket: net.Socket, withinMs: number, started = performance.now()): Promise<number | null> {
  socket.resume(); // a closed socket reports "close" only once its data was read
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), withinMs);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(performance.now() - started);
    });
  });
}

/** Sends one HTTP/1.1 request on an open TLS socket and returns the status line of the answer. */
function request(socket: tls.TLSSocket, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = "";
    const onData = (chunk: Uint8Array) => {
      answer += new TextDecoder().decode(chunk);
      if (!answer.includes("\r\n")) return;
      socket.off("data", onData);
      resolve(answer.slice(0, answer.indexOf("\r\n")));
    };
    socket.on("data", onData);
    socket.once("close", () => reject(new Error(`closed before an answer (got ${JSON.stringify(answer)})`)));
    socket.write(head);
  });
}

function httpsPort(server: TestServer): number {
  return Number(new URL(server.httpsUrl).port);
}

Deno.test("silent and partial-handshake HTTPS clients are closed at the handshake timeout", async () => {
  await using server = await startTestServer({ https: { handshakeTimeoutSeconds: TIMEOUT } });
  const started = performance.now();
  const silent = await connectTcp(server);
  const partial = await connectTcp(server);
  partial.write(new Uint8Array([0x16, 0x03, 0x01])); // half a TLS record header, then nothing
  const [silentMs, partialMs] = await Promise.all([
    closedAfter(silent, 5_000, started),
    closedAfter(partial, 5_000, started),
  ]);
  for (const ms of [silentMs, partialMs]) {
    assert.ok(ms !== null && ms >= TIMEOUT * 1000 - 20 && ms < TIMEOUT * 1000 + 1_000, `closed after ${ms} ms`);
  }
  assert.equal(await (await server.fetch("/ping")).text(), "pong");
});

Deno.test("a client trickling its request headers is closed at the header deadline, a slow body is not", async () => {
  await using server = await startTestServer({
    https: { headerTimeoutSeconds: 1, idleTimeoutSeconds: 10 },
  });
  const started = performance.now();
  const trickler = await connectTls(server);
  const silent = await connectTls(server); // handshake done, then no request at all
  trickler.write("GET /ping HTTP/1.1\r\nHost: localhost\r\n");
  const trickle = setInterval(() => trickler.write("X"), 100); // never idle, never done
  try {
    const closed = await Promise.all([closedAfter(trickler, 5_000, started), closedAfter(silent, 5_000, started)]);
    for (const ms of closed) assert.ok(ms !== null && ms >= 950 && ms < 2_000, `closed after ${ms} ms`);
  } finally {
    clearInterval(trickle);
  }

  // Headers in time, body slower than the header deadline: served.
  const uploader = await connectTls(server);
  const body = "x".repeat(20);
  const answer = request(
    uploader,
    `POST /ping HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
  );
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  uploader.write(body.slice(10));
  assert.match(await answer, /^HTTP\/1\.1 \d{3}/);
  uploader.destroy();
});

Deno.test("a keep-alive connection silent both ways is closed at the idle timeout", async () => {
  await using server = await startTestServer({ https: { idleTimeoutSeconds: TIMEOUT } });
  const client = await connectTls(server);
  assert.equal(await request(client, "GET /ping HTTP/1.1\r\nHost: localhost\r\n\r\n"), "HTTP/1.1 200 OK");
  const ms = await closedAfter(client, 5_000);
  assert.ok(ms !== null && ms < TIMEOUT * 1000 + 1_000, `idle keep-alive closed after ${ms} ms`);
});

Deno.test("connections over the per-IP cap and the total cap are refused while others are served", async () => {
  await using server = await startTestServer({
    https: { maxConnectionsPerIp: 3, maxConnections: 5, handshakeTimeoutSeconds: 30 },
  });
  const held = [];
  try {
    for (let i = 0; i < 3; i++) held.push(await connectTcp(server, "127.0.0.2"));
    const overIpCap = await connectTcp(server, "127.0.0.2");
    assert.notEqual(await closedAfter(overIpCap, 2_000), null, "the 4th connection from one address is refused");

    const other = await connectTls(server, "127.0.0.3");
    assert.equal(await request(other, "GET /ping HTTP/1.1\r\nHost: localhost\r\n\r\n"), "HTTP/1.1 200 OK");
    held.push(other, await connectTcp(server, "127.0.0.4")); // 5 open: the total cap
    const overTotal = await connectTcp(server, "127.0.0.5");
    assert.notEqual(await closedAfter(overTotal, 2_000), null, "a 6th connection in all is refused");
    assert.equal(
      await request(other, "GET /ping HTTP/1.1\r\nHost: localhost\r\n\r\n"),
      "HTTP/1.1 200 OK",
      "a connection already open is still served",
    );
    for (const socket of held.splice(0)) socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 200)); // the server notices the closes
    assert.equal(await (await server.fetch("/ping")).text(), "pong", "capacity is back once they are gone");
  } finally {
    for (const socket of held) socket.destroy();
  }
});

Deno.test("the app sees the real client address through the front: login backoff is per client", async () => {
  await using server = await startTestServer({ auth: { maxFailures: 2, lockoutSeconds: 60 } });
  const statusPath = "GET /server-status?format=json HTTP/1.1\r\nHost: localhost\r\n";
  const wrong = `authorization: ${basicAuth("dl001", "wrong").authorization}\r\n\r\n`;
  const attacker = await connectTls(server, "127.0.0.2");
  const statuses = [];
  for (let i = 0; i < 3; i++) statuses.push(await request(attacker, statusPath + wrong));
  assert.deepEqual(statuses, [
    "HTTP/1.1 401 Unauthorized",
    "HTTP/1.1 401 Unauthorized",
    "HTTP/1.1 429 Too Many Requests",
  ]);
  attacker.destroy();

  const bystander = await connectTls(server, "127.0.0.3");
  assert.equal(
    await request(bystander, statusPath + wrong),
    "HTTP/1.1 401 Unauthorized",
    "another address is not locked out",
  );
  bystander.destroy();
});

Deno.test("a taken HTTPS port makes listenHttps reject with the address in the message", async () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const settings = { ...loadConfig().https, hostname: "127.0.0.1", port: taken.addr.port };
  await assert.rejects(
    listenHttps(settings, await certificate(), () => new Response("unused")),
    new RegExp(`cannot listen on 127\\.0\\.0\\.1:${taken.addr.port}`),
  );
});
