/** Checking that a private key belongs to a certificate before the pair is served. */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { createPrivateKey, createPublicKey } from "node:crypto";

/**
 * Throws unless `keyPem` is the private key of `certificate`. A chain and key
 * written one after the other are briefly a mismatched pair; serving that
 * would fail every handshake, so loading it must fail instead.
 */
export function assertKeyMatches(certificate: x509.X509Certificate, keyPem: string, keyFile: string): void {
  let publicKey: Buffer;
  try {
    publicKey = createPublicKey(createPrivateKey(keyPem)).export({ type: "spki", format: "der" });
  } catch (error) {
    throw new Error(`${keyFile} is not a usable private key: ${(error as Error).message}`);
  }
  if (!publicKey.equals(new Uint8Array(certificate.publicKey.rawData))) {
    throw new Error(`${keyFile} is not the private key of the certificate for ${certificate.subject}`);
  }
}
