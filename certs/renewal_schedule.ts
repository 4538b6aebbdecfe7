/** When to renew a certificate, retry a failed renewal, and warn about expiry. */

const DAY_MS = 86_400_000;

/** Warn in the logs this long before the served certificate expires. */
export const EXPIRY_WARNING_MS = 14 * DAY_MS;

/** Longest wait between checks and between retries, so a long-lived timer never outlives a changed clock or file. */
export const MAX_WAIT_MS = 6 * 3_600_000;

/** Renewal is due at two thirds of the lifetime (Let's Encrypt's 90 days → 30 days before expiry). */
export function renewalTime(notBefore: Date, notAfter: Date): Date {
  return new Date(notBefore.getTime() + (notAfter.getTime() - notBefore.getTime()) * 2 / 3);
}

/** Wait before retry number `failures` (1 = first): `firstMs`, doubling, at most {@link MAX_WAIT_MS}. */
export function retryDelayMs(failures: number, firstMs: number): number {
  return Math.min(firstMs * 2 ** Math.max(failures - 1, 0), MAX_WAIT_MS);
}

/** Whole days from `now` until `notAfter` (negative once expired). */
export function daysLeft(notAfter: Date, now = new Date()): number {
  return Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS);
}
