/**
 * Keeps the served certificate valid: with ACME on, renews it at two thirds of
 * its lifetime (and at once when it is self-signed, expired or misses a
 * configured name), retrying with backoff; in every mode, warns in the logs
 * from 14 days before expiry. A renewal only writes the files; the reloader
 * swaps them into every listener.
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { getLogger } from "@logtape/logtape";
import { type AcmeSettings, issueCertificate } from "./acme.ts";
import { daysLeft, EXPIRY_WARNING_MS, MAX_WAIT_MS, renewalTime, retryDelayMs } from "./renewal_schedule.ts";
import { loadTlsMaterial } from "./tls.ts";

const log = getLogger(["fieldgate", "tls"]);

/** Longest a shutdown waits for an ACME order in progress. */
const STOP_WAIT_MS = 10_000;

/** Renewal state for the status page and logs. */
export interface UpkeepStatus {
  acme: boolean;
  /** When the current certificate is due for renewal; null without ACME or before the first check. */
  renewAt: Date | null;
  /** Failed renewals in a row. */
  failures: number;
  lastError: string | null;
  nextCheckAt: Date | null;
}

/** A running upkeep; `stop()` waits for a renewal in progress (at most 10 s). */
export interface CertificateUpkeep {
  status(): UpkeepStatus;
  stop(): Promise<void>;
}

/** Checks the certificate in `files` now and then whenever the next renewal, retry or warning is due. */
export function startCertificateUpkeep(options: {
  files: { certFile: string; keyFile: string };
  acme: AcmeSettings | null;
  retrySeconds: number;
}): CertificateUpkeep {
  const state: UpkeepStatus = {
    acme: options.acme !== null,
    renewAt: null,
    failures: 0,
    lastError: null,
    nextCheckAt: null,
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;

  const check = async () => {
    let leaf: x509.X509Certificate | null = null;
    try {
      leaf = (await loadTlsMaterial(options.files.certFile, options.files.keyFile)).leaf;
      warnIfExpiring(leaf);
    } catch (error) {
      if (options.acme === null) log.error("certificate check failed: {error}", { error: String(error) });
    }
    let waitMs = MAX_WAIT_MS;
    if (options.acme !== null) {
      if (leaf === null || renewalDue(leaf, options.acme.domains)) {
        try {
          leaf = await issueCertificate(options.acme);
          state.failures = 0;
          state.lastError = null;
          log.info("ACME certificate issued for {domains} by {issuer}, valid until {notAfter}", {
            domains: options.acme.domains.join(", "),
            issuer: leaf.issuer,
            notAfter: leaf.notAfter.toISOString(),
          });
        } catch (error) {
          state.failures++;
          state.lastError = String(error);
          waitMs = retryDelayMs(state.failures, options.retrySeconds * 1000);
          log.error("ACME renewal failed ({failures} in a row), next try in {seconds} s: {error}", {
            failures: state.failures,
            seconds: Math.round(waitMs / 1000),
            error: state.lastError,
          });
        }
      }
      if (state.failures === 0 && leaf !== null) {
        state.renewAt = renewalTime(leaf.notBefore, leaf.notAfter);
        // At least a second, so a certificate already due on arrival cannot spin the loop.
        waitMs = Math.min(Math.max(state.renewAt.getTime() - Date.now(), 1000), MAX_WAIT_MS);
      }
    }
    if (stopped) return;
    state.nextCheckAt = new Date(Date.now() + waitMs);
    timer = setTimeout(() => running = check(), waitMs);
  };
  running = check();
  return {
    status: () => ({ ...state }),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      // A shutdown must not hang on a slow CA: an order still running after this only ever replaces whole files.
      let giveUp: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([running, new Promise((resolve) => giveUp = setTimeout(resolve, STOP_WAIT_MS))]);
      clearTimeout(giveUp);
    },
  };
}

/** Self-signed (the first-start placeholder), missing a configured name, or past two thirds of its lifetime. */
function renewalDue(leaf: x509.X509Certificate, domains: string[]): boolean {
  const names = new Set(leaf.getExtension(x509.SubjectAlternativeNameExtension)?.names.items.map((n) => n.value));
  return leaf.issuer === leaf.subject || !domains.every((domain) => names.has(domain)) ||
    Date.now() >= renewalTime(leaf.notBefore, leaf.notAfter).getTime();
}

function warnIfExpiring(leaf: x509.X509Certificate): void {
  if (leaf.notAfter.getTime() - Date.now() > EXPIRY_WARNING_MS) return;
  log.warn("the served certificate {subject} expires in {days} days ({notAfter}): renew it", {
    subject: leaf.subject,
    days: daysLeft(leaf.notAfter),
    notAfter: leaf.notAfter.toISOString(),
  });
}
