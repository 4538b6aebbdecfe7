/**
 * The users file on disk: verification for the server (reloaded when the file
 * changes, with a cache because bcrypt is slow) and edits for the CLI (atomic).
 */
import { getLogger } from "@logtape/logtape";
import { replaceFile } from "../storage/replace_file.ts";
import { hash as digest, randomBytes } from "node:crypto";
import {
  assertValidUsername,
  type HashFormat,
  hashFormat,
  hashPassword,
  Htpasswd,
  verifyPassword,
} from "./htpasswd.ts";

const logger = getLogger(["fieldgate", "auth"]);

/** How often at most the file is stat'ed for changes. */
const RELOAD_CHECK_MS = 1000;

/**
 * A bcrypt cost-10 hash of a random string nobody knows: checked when the user
 * does not exist, so that answer takes as long as a wrong password would.
 */
const DUMMY_HASH = "$2y$10$V/enHa4EiTQTtdIyhOu9KuEpl1u1ygWf1zdZWw/957cZPRSCAhc92";

/** Tuning knobs, mostly for tests. */
export interface UsersFileOptions {
  /** Clock in milliseconds used to rate-limit reload checks; defaults to `Date.now`. */
  now?: () => number;
  /** Most successful verifications remembered; defaults to 10,000. */
  cacheSize?: number;
}

/** One user as the CLI lists it. */
export interface UserInfo {
  user: string;
  format: HashFormat;
}

/** An htpasswd users file: verify logins against it and add/remove users atomically. */
export class UsersFile {
  /** Path of the htpasswd file. */
  readonly path: string;
  #now: () => number;
  #cacheSize: number;
  // Successful verifications, keyed by a salted SHA-256 so no password is kept in memory; Map order gives LRU.
  #verified = new Map<string, true>();
  #verifying = new Map<string, Promise<boolean>>();
  #salt = randomBytes(32).toString("base64");
  #users = Htpasswd.parse("");
  #stamp: string | undefined;
  #checkedAt = -Infinity;
  #reloading: Promise<void> | undefined;

  /** Reads nothing yet: the file is loaded on the first {@link verify}. */
  constructor(path: string, options: UsersFileOptions = {}) {
    this.path = path;
    this.#now = options.now ?? Date.now;
    this.#cacheSize = options.cacheSize ?? 10_000;
  }

  /** True when `user` exists and `password` matches their hash. Unknown users cost as much as wrong passwords. */
  async verify(user: string, password: string): Promise<boolean> {
    await this.#refresh();
    const hash = this.#users.get(user);
    if (hash === undefined) {
      await verifyPassword(password, DUMMY_HASH);
      return false;
    }
    // JSON keeps the three fields unambiguous whatever characters they contain. A random salt, not an HMAC:
    // the key is never shown to anyone, so only preimage and collision resistance matter, and the one-shot
    // hash costs a quarter of an HMAC on every request of every logged-in device.
    const key = digest("sha256", this.#salt + JSON.stringify([user, password, hash]), "base64");
    if (this.#verified.delete(key)) {
      this.#verified.set(key, true);
      return true;
    }
    // A logger reconnecting with many parallel requests costs one bcrypt check, not one per request.
    let pending = this.#verifying.get(key);
    if (pending === undefined) {
      pending = verifyPassword(password, hash).finally(() => this.#verifying.delete(key));
      this.#verifying.set(key, pending);
    }
    if (!await pending) return false;
    if (this.#verified.size >= this.#cacheSize) this.#verified.delete(this.#verified.keys().next().value!);
    this.#verified.set(key, true);
    return true;
  }

  /** Every user in the file, in file order, with the format of their hash. A missing file has none. */
  async list(): Promise<UserInfo[]> {
    const document = await this.#readDocument();
    return document.entries().map(({ user, hash }) => ({ user, format: hashFormat(hash) }));
  }

  /** Adds `user` or replaces their password (bcrypt); returns true if the user is new. Throws on an invalid name. */
  async add(user: string, password: string): Promise<boolean> {
    assertValidUsername(user);
    const document = await this.#readDocument();
    const created = document.set(user, await hashPassword(password));
    await this.#write(document);
    return created;
  }

  /** Removes `user`; returns false (and writes nothing) if there was no such user. */
  async remove(user: string): Promise<boolean> {
    const document = await this.#readDocument();
    if (!document.delete(user)) return false;
    await this.#write(document);
    return true;
  }

  async #readDocument(): Promise<Htpasswd> {
    try {
      return Htpasswd.parse(await Deno.readTextFile(this.path));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return Htpasswd.parse("");
      throw error;
    }
  }

  async #write(document: Htpasswd): Promise<void> {
    await replaceFile(this.path, document.toString());
    this.#checkedAt = -Infinity;
  }

  /** Reloads when the file changed, checking at most once per {@link RELOAD_CHECK_MS}. */
  async #refresh(): Promise<void> {
    // Callers arriving during a load wait for it, so the first requests never see an empty user list.
    if (this.#reloading) return await this.#reloading;
    if (this.#now() - this.#checkedAt < RELOAD_CHECK_MS) return;
    this.#checkedAt = this.#now();
    this.#reloading = this.#reloadIfChanged().finally(() => this.#reloading = undefined);
    await this.#reloading;
  }

  async #reloadIfChanged(): Promise<void> {
    let stamp: string;
    try {
      // A stamp taken before reading can only be older than the content, which at worst causes one extra reload.
      const info = await Deno.stat(this.path);
      stamp = `${info.mtime?.getTime()}:${info.size}:${info.ino}`;
      if (stamp === this.#stamp) return;
      this.#users = Htpasswd.parse(await Deno.readTextFile(this.path));
    } catch (error) {
      this.#users = Htpasswd.parse("");
      const missing = error instanceof Deno.errors.NotFound;
      const failure = missing ? "missing" : `error:${(error as Error).message}`;
      if (failure === this.#stamp) return;
      this.#stamp = failure;
      if (missing) {
        logger.warn("No users file at {path}: every login is refused. Add a user with: deno task user add NAME", {
          path: this.path,
        });
      } else {
        logger.error("Cannot read users file {path}: {error}; every login is refused until it is readable", {
          path: this.path,
          error: (error as Error).message,
        });
      }
      return;
    }
    this.#stamp = stamp;
    this.#reportProblems();
  }

  #reportProblems(): void {
    const entries = this.#users.entries();
    logger.info("Loaded {count} users from {path}", { count: entries.length, path: this.path });
    const malformed = this.#users.malformedLines();
    if (malformed.length > 0) {
      logger.warn("Users file {path}: lines {lines} are not user:hash and are ignored", {
        path: this.path,
        lines: malformed.join(","),
      });
    }
    const unsupported = entries.filter((entry) => hashFormat(entry.hash) === "unsupported").map((entry) => entry.user);
    if (unsupported.length > 0) {
      logger.warn(
        "Users file {path}: {users} have hashes fieldgate cannot verify (only bcrypt, apr1, {{SHA}}); " +
          "they cannot log in until reset with: deno task user add NAME",
        { path: this.path, users: unsupported.join(",") },
      );
    }
  }
}
