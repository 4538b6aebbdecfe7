/**
 * A project's OpenPGP public key, as an owner pastes it when creating the
 * project: uploads are then kept only encrypted to it (see
 * `storage/tus_at_rest.ts`), and the upload page can encrypt in the browser.
 */
import type * as OpenPgp from "openpgp";
import { err, ok, type Result } from "./result.ts";

/** Largest armored key accepted; real keys with a few subkeys are a few KiB. */
export const MAX_ARMORED_KEY_CHARS = 64 * 1024;

/**
 * OpenPGP.js, loaded on first use: only projects with a key need it, and it
 * is a sizeable share of the process's memory.
 */
export function loadOpenpgp(): Promise<typeof OpenPgp> {
  return import("openpgp");
}

/** A usable encryption key: its parsed form and fingerprint (hex, lowercase). */
export interface ProjectKey {
  key: OpenPgp.PublicKey;
  fingerprint: string;
}

/**
 * Reads an armored public key and checks that it can encrypt now. A private
 * key is refused (the server must never hold the owner's secret), as is a
 * key that is expired, revoked or has no encryption-capable (sub)key.
 */
export async function parsePublicKey(armored: string): Promise<Result<ProjectKey>> {
  if (armored.length > MAX_ARMORED_KEY_CHARS) return err(`public key longer than ${MAX_ARMORED_KEY_CHARS} characters`);
  const openpgp = await loadOpenpgp();
  let key: OpenPgp.Key;
  try {
    key = await openpgp.readKey({ armoredKey: armored });
  } catch (error) {
    return err(`not an armored OpenPGP public key: ${(error as Error).message}`);
  }
  if (key.isPrivate()) return err("that is a private key: send only the public key (gpg --armor --export)");
  try {
    await key.getEncryptionKey();
  } catch (error) {
    return err(`the key cannot encrypt: ${(error as Error).message}`);
  }
  return ok({ key: key as OpenPgp.PublicKey, fingerprint: key.getFingerprint() });
}
