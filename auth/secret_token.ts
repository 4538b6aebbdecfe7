/**
 * Random secrets for links and cookies, and the hash they are stored under:
 * the database holds only SHA-256 hashes, so reading it logs nobody in.
 */
import { createHash } from "node:crypto";

/** 32 random bytes, base64url (43 characters): safe in URLs, cookies and form fields. */
export function newSecretToken(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
}

/** The SHA-256 (hex) a token is stored and looked up under. */
export function secretTokenHash(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}
