/**
 * The IP → MAC client against real local HTTP servers playing CMX: a good
 * one, a slow one that must time out, one answering bad JSON, one failing,
 * one that does not know the IP; plus the `test` host and the private-IP rule.
 */
import { ensureDevCertificate } from "../../certs/dev_cert.ts";
import assert from "node:assert/strict";
import { UNKNOWN_MAC } from "../../domain/cmx_mac.ts";
import { type CmxLookupOptions, cmxMacLookup } from "../../routes/cmx_lookup.ts";
import { live, startCmxServer } from "../helpers/cmx_client.ts";

const URL_TEMPLATE = "http://{}/api/location/v2/clients?ipAddress=";
const AUTH = `Basic ${btoa("cmxuser:cmxpass")}`;

/** A local server playing CMX; `answer` gets the requested IP. Records what it was asked. */
function fakeCmx(answer: (ip: string) => Response | Promise<Response>) {
  const asked: { ip: string; authorization: string | null }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
    const url = new URL(request.url);
    assert.equal(url.pathname, "/api/location/v2/clients");
    const ip = url.searchParams.get("ipAddress")!;
    asked.push({ ip, authorization: request.headers.get("authorization") });
    return await answer(ip);
  });
  return { host: `127.0.0.1:${server.addr.port}`, asked, server };
}

const clients = (mac: string) => Response.json([{ macAddress: mac, ipAddress: ["10.1.2.3"], ssId: "event-wifi" }]);

function options(hosts: string[], timeoutMs = 2_000): CmxLookupOptions {
  return { hosts, user: "cmxuser", password: "cmxpass", lookupUrl: URL_TEMPLATE, timeoutMs };
}

Deno.test("lookup asks each CMX in turn with basic auth until one knows the IP", async () => {
  const unknown = fakeCmx(() => Response.json([]));
  const broken = fakeCmx(() => new Response("oops", { status: 500 }));
  const good = fakeCmx(() => clients("AA:BB:CC:00:11:22"));
  try {
    const lookup = cmxMacLookup(options([unknown.host, broken.host, good.host]));
    assert.equal(await lookup("10.1.2.3"), "aa:bb:cc:00:11:22");
    for (const fake of [unknown, broken, good]) {
      assert.deepEqual(fake.asked, [{ ip: "10.1.2.3", authorization: AUTH }]);
    }
    assert.equal(await lookup("8.8.8.8"), UNKNOWN_MAC, "public IPs are never looked up");
    assert.equal(good.asked.length, 1);
  } finally {
    await Promise.all([unknown, broken, good].map((fake) => fake.server.shutdown()));
  }
});

Deno.test("a slow CMX times out and the next host answers; bad JSON counts as no answer", async () => {
  let release!: () => void;
  const held = new Promise<void>((resolve) => release = resolve);
  const slow = fakeCmx(async () => {
    await held;
    return clients("00:00:00:00:00:01");
  });
  const garbage = fakeCmx(() => new Response("<html>CMX login</html>", { headers: { "content-type": "text/html" } }));
  const good = fakeCmx(() => clients("00:11:22:33:44:55"));
  try {
    const started = performance.now();
    const lookup = cmxMacLookup(options([slow.host, garbage.host, good.host], 300));
    assert.equal(await lookup("192.168.0.7"), "00:11:22:33:44:55");
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 290 && elapsed < 2_000, `took ${elapsed} ms`);
    assert.equal(garbage.asked.length, 1);
    assert.equal(await cmxMacLookup(options([slow.host, garbage.host], 200))("192.168.0.8"), UNKNOWN_MAC);
  } finally {
    release();
    await Promise.all([slow, garbage, good].map((fake) => fake.server.shutdown()));
  }
});

Deno.test("the test host derives MACs from IPs; an unreachable host is skipped", async () => {
  const lookup = cmxMacLookup(options(["127.0.0.1:1", "test"]));
  // As the original's ip_to_mac: 172.16.5.200 = 2886731208 in pairs after "00".
  assert.equal(await lookup("172.16.5.200"), "00:28:86:73:12:08");
  assert.equal(await lookup("fd00::5"), UNKNOWN_MAC, "the test host derives MACs from IPv4 only");
  assert.equal(await cmxMacLookup(options([]))("10.0.0.1"), UNKNOWN_MAC, "no hosts: nobody knows");
});

Deno.test("an https CMX with its own certificate is trusted through lookupCaFile; private IPv6 is asked too", async () => {
  const dir = await Deno.makeTempDir();
  const { certFile, keyFile } = await ensureDevCertificate(dir, ["localhost"]);
  const cert = await Deno.readTextFile(certFile);
  const asked: string[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, cert, key: await Deno.readTextFile(keyFile), onListen: () => {} },
    (request) => {
      asked.push(new URL(request.url).searchParams.get("ipAddress")!);
      return clients("3c:07:54:00:00:01");
    },
  );
  try {
    const host = `localhost:${server.addr.port}`;
    const https = { ...options([host]), lookupUrl: "https://{}/api/location/v2/clients?ipAddress=" };
    assert.equal(await cmxMacLookup(https)("10.1.2.3"), UNKNOWN_MAC, "an untrusted certificate is refused");
    const trusted = cmxMacLookup({ ...https, caCerts: [cert] });
    assert.equal(await trusted("10.1.2.3"), "3c:07:54:00:00:01");
    assert.equal(await trusted("fd00::5"), "3c:07:54:00:00:01");
    assert.equal(await trusted("2001:db8::5"), UNKNOWN_MAC, "public IPv6 is not looked up");
    assert.deepEqual(asked, ["10.1.2.3", "fd00::5"]);
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("register_username through a real CMX: the MAC it reports is hashed and registered", async () => {
  const cmx = fakeCmx((ip) => ip === "10.9.9.9" ? clients("3c:07:54:a1:b2:c3") : Response.json([]));
  try {
    await using server = await startCmxServer({}, {
      hosts: cmx.host,
      lookupUser: "cmxuser",
      lookupPassword: "cmxpass",
      macHashKey: "",
    });
    const created = await live(server, "register_username", { username: "Real", ip: "10.9.9.9" });
    assert.equal(created.status, 201);
    assert.equal((created.body as { hash_mac: string }).hash_mac, "3c:07:54:a1:b2:c3", "no key: the MAC as is");
    const notThere = await live(server, "register_username", { username: "Away", ip: "10.9.9.10" });
    assert.equal(notThere.status, 404);
    assert.deepEqual(cmx.asked.map((a) => a.authorization), [AUTH, AUTH]);
  } finally {
    await cmx.server.shutdown();
  }
});
