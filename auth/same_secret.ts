/** Comparing secrets without leaking, through timing, how much of them matched or how long they are. */
import { createHash, timingSafeEqual } from "node:crypto";

/**
 * True when `offered` equals `expected`. Both are hashed with SHA-256 first,
 * so `timingSafeEqual` always compares 32 bytes: neither the content nor the
 * length of the secret shows in the time taken.
 */
export function sameSecret(offered: string, expected: string): boolean {
  const digest = (text: string) => createHash("sha256").update(text, "utf8").digest();
  return timingSafeEqual(digest(offered), digest(expected));
}
