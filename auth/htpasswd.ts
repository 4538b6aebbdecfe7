/**
 * Apache/nginx htpasswd format: parse, serialize, verify and create password hashes.
 *
 * Pure: no file I/O, so it is easy to test and to reuse. Verifies bcrypt
 * (`$2y$`, `$2a$`, `$2b$`), Apache apr1 (`$apr1$`) and `{SHA}`; creates bcrypt
 * `$2y$` like `htpasswd -B`. Any other format verifies as false.
 */
import bcrypt from "bcryptjs";
import { Buffer } from "node:buffer";
import { createHash, timingSafeEqual } from "node:crypto";
import { sameSecret } from "./same_secret.ts";

/** The hash formats fieldgate can tell apart; only the first three can be verified. */
export type HashFormat = "bcrypt" | "apr1" | "sha1" | "unsupported";

/** One `user:hash` line of an htpasswd file. */
export interface HtpasswdEntry {
  user: string;
  hash: string;
}

/** Usernames fieldgate accepts: no colon (it would split the line) and nothing that needs quoting. */
export const USERNAME_PATTERN: RegExp = /^[A-Za-z0-9._@-]{1,64}$/;

/** Cost of the bcrypt hashes {@link hashPassword} writes (`htpasswd -B` defaults to 5; 10 is the common safe choice). */
export const BCRYPT_COST = 10;

/** bcrypt ignores everything after the first 72 bytes of a password. */
export const BCRYPT_MAX_PASSWORD_BYTES = 72;

/** A username that cannot be stored; the message says what is allowed. */
export class InvalidUsernameError extends Error {
  override name = "InvalidUsernameError";
}

/** Throws {@link InvalidUsernameError} unless `user` matches {@link USERNAME_PATTERN}. */
export function assertValidUsername(user: string): void {
  if (!USERNAME_PATTERN.test(user)) {
    throw new InvalidUsernameError(
      `invalid username ${JSON.stringify(user)}: use 1 to 64 characters from A-Z a-z 0-9 . _ @ -`,
    );
  }
}

const BCRYPT_PATTERN = /^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/;
const APR1_PATTERN = /^\$apr1\$([^$]{0,8})\$([./A-Za-z0-9]{22})$/;
const SHA1_PATTERN = /^\{SHA\}([A-Za-z0-9+/]{27}=)$/;

/** Which format a stored hash is in. */
export function hashFormat(hash: string): HashFormat {
  if (BCRYPT_PATTERN.test(hash)) return "bcrypt";
  if (APR1_PATTERN.test(hash)) return "apr1";
  if (SHA1_PATTERN.test(hash)) return "sha1";
  return "unsupported";
}

/** True when `password` matches `hash`; false for a wrong password or an unsupported/malformed hash. Never throws. */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  try {
    switch (hashFormat(hash)) {
      case "bcrypt":
        return await bcrypt.compare(password, hash);
      case "apr1": {
        const salt = APR1_PATTERN.exec(hash)![1];
        return sameSecret(apr1Crypt(password, salt), hash);
      }
      case "sha1": {
        const expected = Buffer.from(SHA1_PATTERN.exec(hash)![1], "base64");
        const actual = createHash("sha1").update(password, "utf8").digest();
        return expected.length === actual.length && timingSafeEqual(expected, actual);
      }
      default:
        return false;
    }
  } catch {
    // A hash that passed the pattern but still upset the library is simply not a match.
    return false;
  }
}

/** A new bcrypt `$2y$` hash (cost {@link BCRYPT_COST}), the variant Apache's `htpasswd -B` writes. */
export async function hashPassword(password: string): Promise<string> {
  // bcryptjs generates `$2b$` salts; `$2y$` is the same algorithm under the name PHP/Apache use.
  const salt = (await bcrypt.genSalt(BCRYPT_COST)).replace(/^\$2b\$/, "$2y$");
  return await bcrypt.hash(password, salt);
}

const CRYPT_ALPHABET = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** Apache's apr1 variant of Poul-Henning Kamp's MD5-crypt: returns the full `$apr1$salt$hash` string. */
export function apr1Crypt(password: string, salt: string): string {
  const magic = "$apr1$";
  const pw = Buffer.from(password, "utf8");
  const saltBytes = Buffer.from(salt.slice(0, 8), "utf8");
  const md5 = (...parts: Uint8Array[]) => {
    const hash = createHash("md5");
    for (const part of parts) hash.update(part);
    return hash.digest();
  };

  const alternate = md5(pw, saltBytes, pw);
  const context = createHash("md5").update(pw).update(magic).update(saltBytes);
  for (let left = pw.length; left > 0; left -= 16) context.update(alternate.subarray(0, Math.min(left, 16)));
  // The original reads a zero byte or the first password byte for each bit of the length.
  for (let bits = pw.length; bits > 0; bits >>= 1) context.update(bits & 1 ? Buffer.of(0) : pw.subarray(0, 1));
  let digest = context.digest();

  // 1000 rounds exist only to make the hash slow to compute.
  for (let round = 0; round < 1000; round++) {
    const parts: Uint8Array[] = [round & 1 ? pw : digest];
    if (round % 3) parts.push(saltBytes);
    if (round % 7) parts.push(pw);
    parts.push(round & 1 ? digest : pw);
    digest = md5(...parts);
  }

  const encode = (value: number, chars: number) => {
    let out = "";
    for (let i = 0; i < chars; i++, value >>= 6) out += CRYPT_ALPHABET[value & 0x3f];
    return out;
  };
  const groups: [number, number, number][] = [[0, 6, 12], [1, 7, 13], [2, 8, 14], [3, 9, 15], [4, 10, 5]];
  let encoded = groups.map(([a, b, c]) => encode((digest[a] << 16) | (digest[b] << 8) | digest[c], 4)).join("");
  encoded += encode(digest[11], 2);
  return `${magic}${saltBytes.toString("utf8")}$${encoded}`;
}

/** One line of the file; `entry` is set when it is a `user:hash` line. */
interface Line {
  text: string;
  entry?: HtpasswdEntry;
}

/**
 * The lines of an htpasswd file. Comments, blank lines and lines fieldgate does
 * not understand are kept verbatim, so editing one user never loses the rest.
 */
export class Htpasswd {
  #lines: Line[];

  private constructor(lines: Line[]) {
    this.#lines = lines;
  }

  /** Parses htpasswd text; `#` comments and blank lines are kept but ignored. */
  static parse(text: string): Htpasswd {
    const rawLines = text.split("\n").map((line) => line.replace(/\r$/, ""));
    if (rawLines.at(-1) === "") rawLines.pop();
    return new Htpasswd(rawLines.map((text): Line => {
      const colon = text.indexOf(":");
      if (isCommentOrBlank(text) || colon <= 0) return { text };
      // nginx allows `user:hash:comment`; no supported hash contains a colon.
      return { text, entry: { user: text.slice(0, colon), hash: text.slice(colon + 1).split(":")[0] } };
    }));
  }

  /** Line numbers (1-based) that are neither entries, comments nor blank: worth a warning. */
  malformedLines(): number[] {
    return this.#lines.flatMap((line, index) => !line.entry && !isCommentOrBlank(line.text) ? [index + 1] : []);
  }

  /** All entries in file order (a duplicated user appears twice; {@link get} returns the first, as Apache does). */
  entries(): HtpasswdEntry[] {
    return this.#lines.flatMap((line) => line.entry ? [{ ...line.entry }] : []);
  }

  /** The stored hash of `user`, or undefined. */
  get(user: string): string | undefined {
    return this.#lines.find((line) => line.entry?.user === user)?.entry?.hash;
  }

  /** Adds `user` or replaces their hash in place; returns true if the user is new. Throws on an invalid name. */
  set(user: string, hash: string): boolean {
    assertValidUsername(user);
    const fresh: Line = { text: `${user}:${hash}`, entry: { user, hash } };
    const index = this.#lines.findIndex((line) => line.entry?.user === user);
    if (index === -1) {
      this.#lines.push(fresh);
      return true;
    }
    this.#lines[index] = fresh;
    // Later duplicates would be dead weight that a future edit could resurrect.
    this.#lines = this.#lines.filter((line, i) => i <= index || line.entry?.user !== user);
    return false;
  }

  /** Removes every line of `user`; returns false if there was none. */
  delete(user: string): boolean {
    const before = this.#lines.length;
    this.#lines = this.#lines.filter((line) => line.entry?.user !== user);
    return this.#lines.length !== before;
  }

  /** The file text: untouched lines exactly as they were, `\n` line ends, trailing newline. */
  toString(): string {
    return this.#lines.map((line) => line.text + "\n").join("");
  }
}

function isCommentOrBlank(text: string): boolean {
  const trimmed = text.trim();
  return trimmed === "" || trimmed.startsWith("#");
}
