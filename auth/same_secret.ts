/** Comparing secrets without leaking, through timing, how much of them matched or how long they are. */
import { createHash, timingSafeEqual } from "node:crypto";

function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/**
 * True when `offered` equals `expected`. Both are hashed with SHA-256 first,
 * so `timingSafeEqual` always compares 32 bytes: neither the content nor the
 * length of the secret shows in the time taken.
 */
export function sameSecret(offered: string, expected: string): boolean {
  return timingSafeEqual(digest(offered), digest(expected));
}

/**
 * {@link sameSecret} against one fixed secret whose digest is computed once:
 * a check on every request then hashes only what was offered.
 */
export function secretMatcher(expected: string): (offered: string) => boolean {
  const expectedDigest = digest(expected);
  return (offered) => timingSafeEqual(digest(offered), expectedDigest);
}
