/**
 * A self-signed RSA-2048 certificate for first use, so `deno task start`
 * serves HTTPS with no setup. RSA because CC3220S devices accept nothing else.
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { isIP } from "node:net";
import { join } from "node:path";

const RSA_SHA256: RsaHashedKeyGenParams = {
  name: "RSASSA-PKCS1-v1_5",
  hash: "SHA-256",
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
};
const VALIDITY_DAYS = 365;
const RENEW_WITHIN_DAYS = 30;

/** Paths of a certificate chain and its key, and whether they were just made. */
export interface CertificatePaths {
  certFile: string;
  keyFile: string;
  generated: boolean;
}

/** Where the dev certificate and its key live under `<certsDir>`. */
export function devCertificateFiles(certsDir: string): { certFile: string; keyFile: string } {
  return { certFile: join(certsDir, "dev-cert.pem"), keyFile: join(certsDir, "dev-key.pem") };
}

/**
 * Returns the dev certificate under `<certsDir>`, generating it when missing,
 * expiring within 30 days, or not covering `hostnames`.
 */
export async function ensureDevCertificate(certsDir: string, hostnames: string[]): Promise<CertificatePaths> {
  const { certFile, keyFile } = devCertificateFiles(certsDir);
  if (await isUsable(certFile, keyFile, hostnames)) return { certFile, keyFile, generated: false };

  await Deno.mkdir(certsDir, { recursive: true, mode: 0o700 });
  const keys = await crypto.subtle.generateKey(RSA_SHA256, true, ["sign", "verify"]) as CryptoKeyPair;
  const notBefore = new Date(Date.now() - 60_000);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: crypto.randomUUID().replaceAll("-", ""),
    name: "CN=fieldgate development certificate, O=fieldgate",
    notBefore,
    notAfter: new Date(notBefore.getTime() + VALIDITY_DAYS * 86_400_000),
    signingAlgorithm: RSA_SHA256,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(
        hostnames.map((name): x509.JsonGeneralName => ({ type: isIP(name) ? "ip" : "dns", value: name })),
      ),
    ],
  });
  const pkcs8 = await crypto.subtle.exportKey("pkcs8", keys.privateKey);
  await Deno.writeTextFile(keyFile, x509.PemConverter.encode(pkcs8, "PRIVATE KEY"), { mode: 0o600 });
  await Deno.writeTextFile(certFile, certificate.toString("pem") + "\n");
  return { certFile, keyFile, generated: true };
}

async function isUsable(certFile: string, keyFile: string, hostnames: string[]): Promise<boolean> {
  try {
    await Deno.stat(keyFile);
    const certificate = new x509.X509Certificate(await Deno.readTextFile(certFile));
    const renewBy = Date.now() + RENEW_WITHIN_DAYS * 86_400_000;
    const san = certificate.getExtension(x509.SubjectAlternativeNameExtension);
    const covered = new Set(san?.names.items.map((item) => item.value) ?? []);
    return certificate.notAfter.getTime() > renewBy && hostnames.every((name) => covered.has(name));
  } catch {
    return false;
  }
}
