import "reflect-metadata";
import assert from "node:assert/strict";
import * as x509 from "@peculiar/x509";
import { join } from "node:path";
import { ensureDevCertificate } from "../../certs/dev_cert.ts";
import { loadTlsMaterial } from "../../certs/tls.ts";
import { makeTestPki } from "../helpers/openssl_ca.ts";

Deno.test("the dev certificate is RSA-2048, covers the configured names and is reused on the next start", async () => {
  const dir = await Deno.makeTempDir();
  const first = await ensureDevCertificate(join(dir, "certs"), ["localhost", "127.0.0.1"]);
  assert.equal(first.generated, true);
  const certificate = new x509.X509Certificate(await Deno.readTextFile(first.certFile));
  const algorithm = certificate.publicKey.algorithm as RsaHashedKeyAlgorithm;
  assert.equal(algorithm.name, "RSASSA-PKCS1-v1_5");
  assert.equal(algorithm.modulusLength, 2048);
  const names = certificate.getExtension(x509.SubjectAlternativeNameExtension)!.names.items.map((n) => n.value);
  assert.deepEqual(names.sort(), ["127.0.0.1", "localhost"]);
  assert.equal((await Deno.stat(first.keyFile)).mode! & 0o777, 0o600);

  const again = await ensureDevCertificate(join(dir, "certs"), ["localhost"]);
  assert.equal(again.generated, false);
  const wider = await ensureDevCertificate(join(dir, "certs"), ["localhost", "logger.example"]);
  assert.equal(wider.generated, true, "a name the certificate lacks forces a new one");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("openssl accepts the dev certificate and key as a matching RSA pair", async () => {
  const dir = await Deno.makeTempDir();
  const { certFile, keyFile } = await ensureDevCertificate(dir, ["localhost"]);
  const modulus = async (args: string[]) => {
    const out = await new Deno.Command("openssl", { args, stdout: "piped", stderr: "piped" }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    return new TextDecoder().decode(out.stdout).trim();
  };
  assert.equal(
    await modulus(["x509", "-noout", "-modulus", "-in", certFile]),
    await modulus(["rsa", "-noout", "-modulus", "-in", keyFile]),
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a chain given CA first is served leaf first", async () => {
  const dir = await Deno.makeTempDir();
  const pki = await makeTestPki(dir, "chain");
  const ca = await Deno.readTextFile(pki.caFile);
  const leaf = await Deno.readTextFile(pki.leafFile);
  await Deno.writeTextFile(join(dir, "chain.pem"), ca + leaf);
  const material = await loadTlsMaterial(join(dir, "chain.pem"), pki.keyFile);
  assert.equal(material.subject, "CN=localhost");
  assert.ok(material.cert.indexOf(leaf.trim()) < material.cert.indexOf(ca.trim()));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("unreadable or wrong TLS files give errors naming the file", async () => {
  await assert.rejects(loadTlsMaterial("/nonexistent/cert.pem", "/nonexistent/key.pem"), /cannot read TLS certificate/);
  const dir = await Deno.makeTempDir();
  const { certFile } = await ensureDevCertificate(dir, ["localhost"]);
  await assert.rejects(loadTlsMaterial(certFile, certFile), /holds no PEM private key/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a key that is not the certificate's is refused, so a half-replaced pair is never served", async () => {
  const [first, second] = [await Deno.makeTempDir(), await Deno.makeTempDir()];
  const one = await ensureDevCertificate(first, ["localhost"]);
  const other = await ensureDevCertificate(second, ["localhost"]);
  await assert.rejects(loadTlsMaterial(one.certFile, other.keyFile), /is not the private key of the certificate/);
  assert.equal(
    (await loadTlsMaterial(one.certFile, one.keyFile)).subject,
    "CN=fieldgate development certificate, O=fieldgate",
  );
  await Promise.all([first, second].map((dir) => Deno.remove(dir, { recursive: true })));
});
