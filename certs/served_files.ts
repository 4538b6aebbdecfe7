/** Which certificate files a configuration serves, without creating anything (for the operator CLI). */
import { join } from "node:path";
import type { Config } from "../config.ts";
import { acmeCertificateFiles } from "./acme.ts";
import { devCertificateFiles } from "./dev_cert.ts";

/** The served chain and key, and who manages them. */
export interface ServedCertificateFiles {
  certFile: string;
  keyFile: string;
  /** acme: issued and renewed by fieldgate; configured: tls.certFile/keyFile; dev: generated self-signed. */
  source: "acme" | "configured" | "dev";
}

/** The files `startFieldgate` would serve under `config`. */
export function servedCertificateFiles(config: Config): ServedCertificateFiles {
  if (config.acme.enabled) return { ...acmeCertificateFiles(config.dataDir), source: "acme" };
  if (config.tls.certFile !== "") {
    return { certFile: config.tls.certFile, keyFile: config.tls.keyFile, source: "configured" };
  }
  return { ...devCertificateFiles(join(config.dataDir, "certs")), source: "dev" };
}
