/**
 * A real ACME CA for tests: Debian's pebble on free ports with its own config,
 * its HTTPS on a throwaway openssl certificate, validating HTTP-01 against a
 * chosen port. Plus a look at the certificate a TLS port actually serves.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort, startDaemon } from "./daemon.ts";
import { makeTestPki } from "./openssl_ca.ts";

/** A configured, not yet started pebble: where it will listen and how to trust its HTTPS. */
export interface PebbleSetup {
  directoryUrl: string;
  /** CA of pebble's own HTTPS (directory and management interface). */
  apiCaFile: string;
  start(): Promise<Pebble>;
}

/** A running pebble. */
export interface Pebble extends AsyncDisposable {
  /** pebble's issuing root, fetched from its management interface, as a PEM file. */
  rootFile: string;
}

/** Writes a pebble config in `dir`: HTTP-01 validated on `httpPort`, certificates valid for `validitySeconds`. */
export async function preparePebble(dir: string, httpPort: number, validitySeconds: number): Promise<PebbleSetup> {
  const pki = await makeTestPki(dir, "pebble-api");
  const [acmePort, managementPort] = [freePort(), freePort()];
  const configFile = join(dir, "pebble.json");
  await Deno.writeTextFile(
    configFile,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${acmePort}`,
        managementListenAddress: `127.0.0.1:${managementPort}`,
        certificate: pki.leafFile,
        privateKey: pki.keyFile,
        httpPort,
        tlsPort: freePort(),
        ocspResponderURL: "",
        externalAccountBindingRequired: false,
        certificateValidityPeriod: validitySeconds,
      },
    }),
  );
  const start = async (): Promise<Pebble> => {
    // Through env(1): no sleeps before validation, no nonces rejected at random (pebble's defaults test clients harder).
    // pebble logs to stdout, which startDaemon discards: ready once the ACME port accepts.
    const daemon = await startDaemon(
      "env",
      ["PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0", "pebble", "-config", configFile],
      () => false,
      acmePort,
    );
    try {
      const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(pki.caFile)] });
      const response = await fetch(`https://localhost:${managementPort}/roots/0`, { client } as RequestInit);
      client.close();
      assert.equal(response.status, 200, "pebble's management interface hands out its root");
      const rootFile = join(dir, "pebble-root.pem");
      await Deno.writeTextFile(rootFile, await response.text());
      return { rootFile, [Symbol.asyncDispose]: () => daemon[Symbol.asyncDispose]() };
    } catch (error) {
      await daemon[Symbol.asyncDispose]();
      throw error;
    }
  };
  return { directoryUrl: `https://localhost:${acmePort}/dir`, apiCaFile: pki.caFile, start };
}

/** The leaf certificate a TLS port serves to "localhost", if it verifies against `caFile` (openssl s_client). */
export async function servedCertificate(port: number, caFile: string): Promise<string | null> {
  const out = await new Deno.Command("openssl", {
    args: [
      "s_client",
      "-connect",
      `127.0.0.1:${port}`,
      "-servername",
      "localhost",
      "-verify_hostname",
      "localhost",
      "-CAfile",
      caFile,
      "-verify_return_error",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).output();
  if (!out.success) return null;
  return new TextDecoder().decode(out.stdout).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/)
    ?.[0] ?? null;
}
