/**
 * HTTP-01 challenge responses as files under `<dataDir>/acme/challenges`, so
 * whichever process runs the ACME order (the server's own renewal or
 * `deno task cert renew`) publishes them and the running server serves them.
 */
import { join } from "node:path";
import { replaceFile } from "../storage/replace_file.ts";

/** ACME tokens are base64url (RFC 8555 §8.3); anything else could escape the directory. */
const TOKEN = /^[A-Za-z0-9_-]{16,256}$/;

/** The directory of pending challenge responses. */
export class AcmeChallenges {
  /** `dir` is `<dataDir>/acme/challenges`; see {@link acmeChallengeDir}. */
  constructor(readonly dir: string) {}

  /** Makes `keyAuthorization` the answer for `token` until {@link remove}. */
  async publish(token: string, keyAuthorization: string): Promise<void> {
    await replaceFile(this.path(token), keyAuthorization);
  }

  /** Withdraws the answer for `token` (gone already is fine). */
  async remove(token: string): Promise<void> {
    await Deno.remove(this.path(token)).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
  }

  /** The answer for `token`, or null when none is pending or the token is malformed. */
  async read(token: string): Promise<string | null> {
    if (!TOKEN.test(token)) return null;
    try {
      return await Deno.readTextFile(join(this.dir, token));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return null;
      throw error;
    }
  }

  private path(token: string): string {
    if (!TOKEN.test(token)) throw new Error(`ACME server sent a malformed challenge token ${JSON.stringify(token)}`);
    return join(this.dir, token);
  }
}

/** Where ACME keeps its files: account key, certificate, key, challenges. */
export function acmeDir(dataDir: string): string {
  return join(dataDir, "acme");
}

/** The challenge directory under a data directory. */
export function acmeChallengeDir(dataDir: string): string {
  return join(acmeDir(dataDir), "challenges");
}
