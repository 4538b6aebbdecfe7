/**
 * Loading a PEM certificate chain and key for the TLS listeners, with the
 * checks an operator needs: readable, parseable, leaf first, not expired, key matches.
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { assertKeyMatches } from "./key_match.ts";

/** PEM text ready for `Deno.serve` / `Deno.listenTls`, plus facts for logs and the status page. */
export interface TlsMaterial {
  cert: string;
  key: string;
  subject: string;
  notAfter: Date;
  /** The parsed leaf, for checks beyond subject and expiry (issuer, names, lifetime). */
  leaf: x509.X509Certificate;
}

/**
 * Reads and checks a chain and key. A chain given CA-first is reordered leaf
 * first (TLS stacks send the first certificate as the server's own).
 */
export async function loadTlsMaterial(certFile: string, keyFile: string): Promise<TlsMaterial> {
  const certText = await readPem(certFile, "certificate");
  const key = await readPem(keyFile, "private key");
  if (!/-----BEGIN (RSA |EC )?PRIVATE KEY-----/.test(key)) {
    throw new Error(`${keyFile} holds no PEM private key (expected "-----BEGIN PRIVATE KEY-----")`);
  }
  const blocks = certText.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new Error(`${certFile} holds no PEM certificate`);
  const chain = blocks.map((pem) => new x509.X509Certificate(pem));
  const issuers = new Set(chain.map((certificate) => certificate.issuer));
  const leafIndex = chain.findIndex((certificate) => !issuers.has(certificate.subject) || chain.length === 1);
  const ordered = leafIndex > 0 ? [blocks[leafIndex], ...blocks.filter((_, i) => i !== leafIndex)] : blocks;
  const leaf = chain[Math.max(leafIndex, 0)];
  if (leaf.notAfter.getTime() < Date.now()) {
    throw new Error(`certificate ${certFile} (${leaf.subject}) expired on ${leaf.notAfter.toISOString()}: renew it`);
  }
  assertKeyMatches(leaf, key, keyFile);
  return { cert: ordered.join("\n") + "\n", key, subject: leaf.subject, notAfter: leaf.notAfter, leaf };
}

async function readPem(path: string, what: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    throw new Error(`cannot read TLS ${what} ${path}: ${(error as Error).message}`);
  }
}
