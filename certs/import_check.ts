/**
 * The checks `deno task cert import` makes before installing an operator's
 * certificate: parseable, leaf first with each certificate signed by the
 * next, currently valid, and the key belongs to the leaf.
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { assertKeyMatches } from "./key_match.ts";

/** Returns the parsed chain (leaf first), or throws an error naming the problem and the file. */
export async function checkCertificateForImport(
  chainPem: string,
  keyPem: string,
  files: { certFile: string; keyFile: string },
): Promise<x509.X509Certificate[]> {
  const blocks = chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new Error(`${files.certFile} holds no PEM certificate`);
  const chain = blocks.map((pem, i) => {
    try {
      return new x509.X509Certificate(pem);
    } catch (error) {
      throw new Error(`${files.certFile}: certificate ${i + 1} is not valid X.509: ${(error as Error).message}`);
    }
  });
  for (let i = 0; i + 1 < chain.length; i++) {
    const [child, issuer] = [chain[i], chain[i + 1]];
    if (child.issuer !== issuer.subject || !await child.verify({ publicKey: issuer, signatureOnly: true })) {
      throw new Error(
        `${files.certFile} is not in order: certificate ${i + 1} (${child.subject}) is not signed by ` +
          `certificate ${i + 2} (${issuer.subject}); put the server's certificate first, then each issuer in turn`,
      );
    }
  }
  const leaf = chain[0];
  if (leaf.getExtension(x509.BasicConstraintsExtension)?.ca) {
    throw new Error(
      `${files.certFile} starts with a CA certificate (${leaf.subject}); the server's own must come first`,
    );
  }
  const now = Date.now();
  if (leaf.notAfter.getTime() <= now) {
    throw new Error(`${files.certFile} (${leaf.subject}) expired on ${leaf.notAfter.toISOString()}`);
  }
  if (leaf.notBefore.getTime() > now) {
    throw new Error(`${files.certFile} (${leaf.subject}) is not valid before ${leaf.notBefore.toISOString()}`);
  }
  assertKeyMatches(leaf, keyPem, files.keyFile);
  return chain;
}
