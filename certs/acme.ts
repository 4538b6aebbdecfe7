/**
 * Ordering a certificate by ACME (RFC 8555) with acme-client: HTTP-01
 * answered by fieldgate's own plain-HTTP listener (through the challenge
 * directory), a fresh RSA-2048 (or P-256) key per certificate, and the chain
 * stored leaf first where the certificate reloader watches it.
 */
import type * as AcmeClient from "acme-client";
import { getLogger } from "@logtape/logtape";
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import https from "node:https";
import { join } from "node:path";
import type { Config } from "../config.ts";
import { pathExists } from "../storage/blob_fs.ts";
import { replaceFile } from "../storage/replace_file.ts";
import { acmeChallengeDir, AcmeChallenges, acmeDir } from "./acme_challenges.ts";
import { ensureDevCertificate } from "./dev_cert.ts";
import { assertKeyMatches } from "./key_match.ts";
import { loadTlsMaterial } from "./tls.ts";

const log = getLogger(["fieldgate", "tls"]);

/** What an ACME order needs, resolved from the config. */
export interface AcmeSettings {
  dataDir: string;
  directoryUrl: string;
  domains: string[];
  email: string;
  keyType: "rsa2048" | "ecdsa-p256";
  caFile: string;
}

/** The ACME settings of `config`, or null when ACME is off. */
export function acmeSettings(config: Config): AcmeSettings | null {
  if (!config.acme.enabled) return null;
  return {
    dataDir: config.dataDir,
    directoryUrl: config.acme.directoryUrl,
    domains: config.acme.domains.split(",").map((name) => name.trim()).filter(Boolean),
    email: config.acme.email,
    keyType: config.acme.keyType,
    caFile: config.acme.caFile,
  };
}

/** Where the ACME certificate chain and its key live. */
export function acmeCertificateFiles(dataDir: string): { certFile: string; keyFile: string } {
  return { certFile: join(acmeDir(dataDir), "cert.pem"), keyFile: join(acmeDir(dataDir), "key.pem") };
}

/**
 * The ACME certificate files, seeded with the self-signed dev certificate
 * when none was issued yet or the last one is unusable (expired during a long
 * stop, or a crash between writing key and chain): HTTPS must listen before
 * the CA can validate, and the upkeep replaces a self-signed certificate at once.
 */
export async function ensureAcmeCertificateFiles(
  dataDir: string,
  devHostnames: string[],
): Promise<{ certFile: string; keyFile: string }> {
  const files = acmeCertificateFiles(dataDir);
  try {
    await loadTlsMaterial(files.certFile, files.keyFile);
    return files;
  } catch (error) {
    if (await pathExists(files.certFile)) {
      log.warn("ACME certificate unusable ({error}): serving the dev certificate until a new one is issued", {
        error: String(error),
      });
    }
  }
  const dev = await ensureDevCertificate(join(dataDir, "certs"), devHostnames);
  await replaceFile(files.keyFile, await Deno.readTextFile(dev.keyFile));
  await replaceFile(files.certFile, await Deno.readTextFile(dev.certFile));
  return files;
}

/** Orders a certificate for `settings.domains` and installs it atomically; returns its leaf. */
export async function issueCertificate(settings: AcmeSettings): Promise<x509.X509Certificate> {
  // Loaded only when ACME is used: acme-client and its HTTP stack are a sizeable share of the process's memory.
  const acme = await loadAcmeClient();
  const ca = settings.caFile === "" ? undefined : await Deno.readTextFile(settings.caFile);
  // acme-client talks through one shared axios instance; a process has one ACME CA, so trusting it there is scoped enough.
  if (ca !== undefined) acme.axios.defaults.httpsAgent = new https.Agent({ ca });
  await assertDirectoryReachable(settings.directoryUrl, ca);
  const account = await accountKey(settings.dataDir);
  const client = new acme.Client({ directoryUrl: settings.directoryUrl, accountKey: account.pem });
  await register(client, account.existed, settings.email);
  const certificateKey = settings.keyType === "rsa2048"
    ? await acme.crypto.createPrivateRsaKey(2048)
    : await acme.crypto.createPrivateEcdsaKey("P-256");
  const [, csr] = await acme.crypto.createCsr(
    { commonName: settings.domains[0], altNames: settings.domains },
    certificateKey,
  );
  const challenges = new AcmeChallenges(acmeChallengeDir(settings.dataDir));
  const chain = await client.auto({
    csr,
    termsOfServiceAgreed: true,
    challengePriority: ["http-01"],
    // acme-client's self-check fetches port 80 of the name itself; the CA's own validation is the one that counts.
    skipChallengeVerification: true,
    challengeCreateFn: (_authz, challenge, keyAuthorization) => challenges.publish(challenge.token, keyAuthorization),
    challengeRemoveFn: (_authz, challenge) => challenges.remove(challenge.token),
  });
  const keyPem = certificateKey.toString();
  const leaf = new x509.X509Certificate(
    chain.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/)![0],
  );
  assertKeyMatches(leaf, keyPem, "the new ACME key");
  // Key first: until the chain follows, the reloader sees a mismatched pair, refuses it and keeps serving the old one.
  const files = acmeCertificateFiles(settings.dataDir);
  await replaceFile(files.keyFile, keyPem);
  await replaceFile(files.certFile, chain.trim() + "\n");
  return leaf;
}

function loadAcmeClient(): Promise<typeof AcmeClient> {
  return import("acme-client");
}

/** The ACME account key, created on first use (the account is found again by this key). */
async function accountKey(dataDir: string): Promise<{ pem: string; existed: boolean }> {
  const file = join(acmeDir(dataDir), "account-key.pem");
  try {
    return { pem: await Deno.readTextFile(file), existed: true };
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const pem = (await (await loadAcmeClient()).crypto.createPrivateRsaKey(2048)).toString();
  await replaceFile(file, pem);
  return { pem, existed: false };
}

/**
 * Finds the account of a known key, or registers a new one. Registering again
 * with a known key would make acme-client send an account update, which a CA
 * refuses when it changes nothing (no contact email).
 */
async function register(client: AcmeClient.Client, knownKey: boolean, email: string): Promise<void> {
  if (knownKey) {
    try {
      await client.createAccount({ onlyReturnExisting: true });
      return;
    } catch (error) {
      if (!/accountDoesNotExist|no account exists|unable to find existing account/i.test(String(error))) throw error;
    }
  }
  await client.createAccount({ termsOfServiceAgreed: true, contact: email ? [`mailto:${email}`] : undefined });
}

/**
 * Fetches the directory before the order: acme-client 5.4 reports a refused
 * connection or an untrusted certificate only as "Cannot read properties of undefined".
 */
async function assertDirectoryReachable(directoryUrl: string, ca: string | undefined): Promise<void> {
  const client = ca === undefined ? undefined : Deno.createHttpClient({ caCerts: [ca] });
  let response: Response;
  try {
    response = await fetch(directoryUrl, { client, signal: AbortSignal.timeout(30_000) } as RequestInit);
    await response.body?.cancel();
  } catch (error) {
    // Deno's fetch says only "fetch failed"; the cause names the refusal or the TLS problem.
    const { message, cause } = error as Error;
    throw new Error(`cannot reach the ACME directory ${directoryUrl}: ${cause ? String(cause) : message}`);
  } finally {
    client?.close();
  }
  if (!response.ok) throw new Error(`the ACME directory ${directoryUrl} answered HTTP ${response.status}`);
}
