/**
 * `deno task cert` as an operator runs it, against a running server: status
 * shows the served certificate, import refuses bad pairs and installs a good
 * one that every listener switches to without dropping a device.
 */
import assert from "node:assert/strict";
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { join } from "node:path";
import { certCli } from "../helpers/cert_cli.ts";
import { connectDevice } from "../helpers/device_client.ts";
import { makeTestPki } from "../helpers/openssl_ca.ts";
import { startTestServer } from "../helpers/server.ts";

const PACKET = { Id: 1, status: true, voltage: 230, freq: 50 };

/** A self-signed certificate for localhost that expired yesterday, and its key, as files in `dir`. */
async function writeExpiredPair(dir: string): Promise<{ certFile: string; keyFile: string }> {
  const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const keys = await crypto.subtle.generateKey(algorithm, true, ["sign", "verify"]) as CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "01",
    name: "CN=localhost",
    notBefore: new Date(Date.now() - 3 * 86_400_000),
    notAfter: new Date(Date.now() - 86_400_000),
    signingAlgorithm: algorithm,
    keys,
  });
  const files = { certFile: join(dir, "expired.pem"), keyFile: join(dir, "expired.key") };
  await Deno.writeTextFile(files.certFile, certificate.toString("pem"));
  await Deno.writeTextFile(
    files.keyFile,
    x509.PemConverter.encode(await crypto.subtle.exportKey("pkcs8", keys.privateKey), "PRIVATE KEY"),
  );
  return files;
}

Deno.test("cert --help describes every command", async () => {
  const usage = await certCli("--help");
  assert.equal(usage.code, 0);
  for (const command of ["status", "renew", "import"]) {
    assert.match(usage.stdout, new RegExp(`^  ${command}`, "m"));
    const help = await certCli(command, "--help");
    assert.equal(help.code, 0, command);
    assert.match(help.stdout, new RegExp(`^Usage: deno task cert ${command}`), command);
  }
});

Deno.test("cert status shows the served certificate; import refuses bad pairs and hot-swaps a good one", async () => {
  const pkiDir = await Deno.makeTempDir({ prefix: "fieldgate-cert-cli-" });
  try {
    const [oldPki, newPki] = [await makeTestPki(pkiDir, "old"), await makeTestPki(pkiDir, "new")];
    const certFile = join(pkiDir, "live.pem");
    const keyFile = join(pkiDir, "live.key");
    await Deno.copyFile(oldPki.leafFile, certFile);
    await Deno.copyFile(oldPki.keyFile, keyFile);
    await using server = await startTestServer({ tls: { certFile, keyFile, reloadCheckSeconds: 0.1 } });
    const flags = ["--data-dir", server.dataDir, "--tls-cert-file", certFile, "--tls-key-file", keyFile];

    const status = await certCli("status", ...flags);
    assert.equal(status.code, 0, status.stderr);
    const oldLeaf = new x509.X509Certificate(await Deno.readTextFile(oldPki.leafFile));
    assert.match(status.stdout, /^file: +.*live\.pem \(configured\)$/m);
    assert.match(status.stdout, /^subject: +CN=localhost$/m);
    assert.match(status.stdout, /^names: +dns:localhost, ip:127\.0\.0\.1$/m);
    assert.match(status.stdout, /^issuer: +CN=old Test CA$/m);
    assert.match(status.stdout, new RegExp(`^not after: +${oldLeaf.notAfter.toISOString()}$`, "m"));
    assert.match(status.stdout, /^days left: +1$/m, "a 2-day certificate has 1 whole day left");

    using device = await connectDevice(server.meterPort!, oldPki.caFile);
    assert.equal(await device.send(PACKET), "Thank you");

    const caFirst = join(pkiDir, "ca-first.pem");
    await Deno.writeTextFile(
      caFirst,
      await Deno.readTextFile(newPki.caFile) + await Deno.readTextFile(newPki.leafFile),
    );
    const expired = await writeExpiredPair(pkiDir);
    const refusals: [string[], RegExp][] = [
      [["--cert", newPki.leafFile, "--key", oldPki.keyFile], /is not the private key of the certificate/],
      [["--cert", caFirst, "--key", newPki.keyFile], /is not in order: certificate 1 \(CN=new Test CA\)/],
      [["--cert", expired.certFile, "--key", expired.keyFile], /expired on/],
      [["--cert", newPki.keyFile, "--key", newPki.keyFile], /holds no PEM certificate/],
    ];
    for (const [args, message] of refusals) {
      const refused = await certCli("import", ...args, ...flags);
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(refused.stderr, message);
    }
    assert.equal(
      await Deno.readTextFile(certFile),
      await Deno.readTextFile(oldPki.leafFile),
      "refusals change nothing",
    );

    const fullChain = join(pkiDir, "fullchain.pem");
    await Deno.writeTextFile(
      fullChain,
      await Deno.readTextFile(newPki.leafFile) + await Deno.readTextFile(newPki.caFile),
    );
    const imported = await certCli("import", "--cert", fullChain, "--key", newPki.keyFile, ...flags);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /installed CN=localhost .*2 certificates/);
    assert.equal((await Deno.stat(keyFile)).mode! & 0o777, 0o600, "the key stays private");

    let renewedDevice = null;
    for (let attempt = 0; attempt < 50 && renewedDevice === null; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      renewedDevice = await connectDevice(server.meterPort!, newPki.caFile).catch(() => null);
    }
    assert.ok(renewedDevice, "the meter socket serves the imported certificate within 5 s");
    using _renewed = renewedDevice;
    assert.equal(await renewedDevice.send(PACKET), "Thank you");
    assert.equal(await device.send(PACKET), "Thank you", "the device connected before the import keeps going");
    assert.match((await certCli("status", ...flags)).stdout, /^issuer: +CN=new Test CA$/m);

    const renew = await certCli("renew", ...flags);
    assert.equal(renew.code, 2);
    assert.match(renew.stderr, /ACME is off/);
  } finally {
    await Deno.remove(pkiDir, { recursive: true });
  }
});
