/**
 * ACME end to end against a real pebble: fieldgate answers HTTP-01 on its own
 * plain-HTTP listener, serves pebble's chain on HTTPS and the device sockets,
 * renews at two thirds of a short lifetime without dropping a device, retries
 * an unreachable CA with backoff, and `deno task cert renew` forces a renewal.
 */
import assert from "node:assert/strict";
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { join } from "node:path";
import { ensureDevCertificate } from "../../certs/dev_cert.ts";
import { certCli } from "../helpers/cert_cli.ts";
import { freePort } from "../helpers/daemon.ts";
import { connectDevice } from "../helpers/device_client.ts";
import { type PebbleSetup, preparePebble, servedCertificate } from "../helpers/pebble.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

const PACKET = { Id: 1, status: true, voltage: 230, freq: 50 };

/** Polls until `read` gives a value `accept` takes, for at most `ms`. */
async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean, what: string, ms: number) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (accept(value)) return value;
    if (Date.now() > deadline) assert.fail(`${what} within ${ms} ms (last: ${String(value).slice(0, 80)})`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The ACME options pointing fieldgate at `pebble` for the name localhost. */
function acmeOptions(pebble: PebbleSetup) {
  return {
    enabled: true,
    directoryUrl: pebble.directoryUrl,
    domains: "localhost",
    email: "ops@example.org",
    caFile: pebble.apiCaFile,
    retrySeconds: 0.5,
  };
}

/** fieldgate with ACME on, its plain-HTTP listener on the port pebble validates against. */
function startAcmeServer(pebble: PebbleSetup, httpPort: number, dataDir?: string): Promise<TestServer> {
  return startTestServer({
    ...(dataDir ? { dataDir } : {}),
    http: { port: httpPort },
    tls: { reloadCheckSeconds: 0.1 },
    acme: acmeOptions(pebble),
  });
}

/** Waits until `port` serves a certificate chaining to pebble's root other than `previous`; returns it. */
async function pebbleCertificate(port: number, rootFile: string, what: string, previous?: x509.X509Certificate) {
  const pem = await eventually(
    () => servedCertificate(port, rootFile),
    (pem) => pem !== null && new x509.X509Certificate(pem).serialNumber !== previous?.serialNumber,
    what,
    15_000,
  );
  return new x509.X509Certificate(pem!);
}

async function withTempDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "fieldgate-acme-" });
  try {
    await run(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("ACME: pebble issues over HTTP-01, every listener serves it, renewal swaps it under a connected device", () =>
  withTempDir(async (dir) => {
    const httpPort = freePort();
    // 12 s certificates: renewal is due 8 s after issuance.
    const setup = await preparePebble(dir, httpPort, 12);
    await using pebble = await setup.start();
    await using server = await startAcmeServer(setup, httpPort);
    const httpsPort = Number(new URL(server.httpsUrl).port);
    const first = await pebbleCertificate(httpsPort, pebble.rootFile, "HTTPS serves a certificate from pebble");
    assert.match(first.issuer, /Pebble Intermediate CA/);
    const onMeter = await pebbleCertificate(server.meterPort!, pebble.rootFile, "the meter socket serves it");
    assert.equal(onMeter.serialNumber, first.serialNumber, "the same ACME certificate on the device socket");

    const stored = await Deno.readTextFile(join(server.dataDir, "acme", "cert.pem"));
    const chain = stored.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!.map((pem) =>
      new x509.X509Certificate(pem)
    );
    assert.equal(chain.length, 2, "leaf and pebble's intermediate are stored");
    assert.equal(chain[0].serialNumber, first.serialNumber, "leaf first");
    assert.equal(chain[0].issuer, chain[1].subject, "then its issuer");
    const algorithm = chain[0].publicKey.algorithm as RsaHashedKeyAlgorithm;
    assert.equal(algorithm.name, "RSASSA-PKCS1-v1_5");
    assert.equal(algorithm.modulusLength, 2048, "RSA-2048 by default (CC3220S)");
    const upkeep = server.certificateUpkeep();
    assert.equal(upkeep.failures, 0);
    const lifetime = first.notAfter.getTime() - first.notBefore.getTime();
    assert.equal(upkeep.renewAt?.getTime(), Math.trunc(first.notBefore.getTime() + lifetime * 2 / 3), "renewal at 2/3");

    using device = await connectDevice(server.meterPort!, pebble.rootFile);
    assert.equal(await device.send(PACKET), "Thank you");

    const second = await pebbleCertificate(httpsPort, pebble.rootFile, "HTTPS serves the renewal", first);
    assert.ok(second.notBefore.getTime() >= upkeep.renewAt!.getTime() - 1000, "renewed when due, not before");
    await pebbleCertificate(server.meterPort!, pebble.rootFile, "the meter socket serves the renewal", first);
    assert.equal(await device.send(PACKET), "Thank you", "the device connected before the renewal keeps going");
    assert.deepEqual([...Deno.readDirSync(join(server.dataDir, "acme", "challenges"))], [], "challenges withdrawn");
  }));

Deno.test("ACME: a broken pair and an unreachable CA: the placeholder is served, retries back off until the CA answers", () =>
  withTempDir(async (dir) => {
    const httpPort = freePort();
    const setup = await preparePebble(dir, httpPort, 3600);
    // What a crash between writing the new key and the new chain leaves: a key that is not the chain's.
    const dataDir = join(dir, "data");
    const [one, other] = [
      await ensureDevCertificate(join(dir, "one"), ["localhost"]),
      await ensureDevCertificate(join(dir, "other"), ["localhost"]),
    ];
    await Deno.mkdir(join(dataDir, "acme"), { recursive: true });
    await Deno.copyFile(one.certFile, join(dataDir, "acme", "cert.pem"));
    await Deno.copyFile(other.keyFile, join(dataDir, "acme", "key.pem"));
    await using server = await startAcmeServer(setup, httpPort, dataDir);
    const failing = await eventually(
      () => Promise.resolve(server.certificateUpkeep()),
      (status) => status.failures >= 2,
      "two failed attempts (0.5 s, then 1 s apart)",
      10_000,
    );
    assert.match(failing.lastError ?? "", /cannot reach the ACME directory .*Connection refused/);
    const httpsPort = Number(new URL(server.httpsUrl).port);
    assert.ok(await servedCertificate(httpsPort, server.caFile), "HTTPS keeps serving the self-signed placeholder");

    await using pebble = await setup.start();
    await pebbleCertificate(httpsPort, pebble.rootFile, "a retry succeeds once pebble runs");
    assert.equal(server.certificateUpkeep().failures, 0);
    assert.equal(server.certificateUpkeep().lastError, null);
  }));

Deno.test("ACME: `deno task cert renew` renews (here with ECDSA) through the running server, `status` shows the schedule", () =>
  withTempDir(async (dir) => {
    const httpPort = freePort();
    const setup = await preparePebble(dir, httpPort, 3600);
    await using pebble = await setup.start();
    await using server = await startAcmeServer(setup, httpPort);
    const httpsPort = Number(new URL(server.httpsUrl).port);
    const first = await pebbleCertificate(httpsPort, pebble.rootFile, "HTTPS serves a certificate from pebble");
    const acme = acmeOptions(setup);
    const flags = [
      ...["--data-dir", server.dataDir, "--acme-enabled", "true", "--acme-directory-url", acme.directoryUrl],
      ...["--acme-domains", acme.domains, "--acme-ca-file", acme.caFile],
    ];

    const status = await certCli("status", ...flags);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^file: +.*acme\/cert\.pem \(acme\)$/m);
    assert.match(status.stdout, /^issuer: +CN=Pebble Intermediate CA/m);
    const renewAt = new Date(first.notBefore.getTime() + 2400_000).toISOString();
    assert.match(status.stdout, new RegExp(`^renewal due: +${renewAt.slice(0, 16)}`, "m"), "2/3 of an hour");

    // The optional key type rides along: the forced renewal comes with an ECDSA P-256 key.
    const renewed = await certCli("renew", ...flags, "--acme-key-type", "ecdsa-p256");
    assert.equal(renewed.code, 0, renewed.stderr);
    assert.match(renewed.stdout, /^renewed: CN=localhost from CN=Pebble Intermediate CA/m);
    const second = await pebbleCertificate(httpsPort, pebble.rootFile, "HTTPS serves the forced renewal", first);
    const algorithm = second.publicKey.algorithm as EcKeyAlgorithm;
    assert.deepEqual([algorithm.name, algorithm.namedCurve], ["ECDSA", "P-256"]);
  }));
