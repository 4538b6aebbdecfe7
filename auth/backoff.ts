/**
 * Per-client login backoff: after repeated failures a client must wait, and the
 * wait doubles with each further failure up to a cap. Memory stays bounded no
 * matter how many addresses an attacker uses.
 */

/** Settings of a {@link LoginBackoff}. */
export interface LoginBackoffOptions {
  /** Consecutive failures allowed before the first wait. */
  maxFailures: number;
  /** Longest wait, in seconds. */
  lockoutSeconds: number;
  /** Clock in milliseconds; defaults to `Date.now` (tests inject their own). */
  now?: () => number;
  /** Most clients tracked; the least recently failed are forgotten first. Defaults to 50,000. */
  maxEntries?: number;
  /** Seconds after its last failure that a client is forgotten; defaults to one hour (at least `lockoutSeconds`). */
  idleSeconds?: number;
}

interface Failures {
  count: number;
  lastFailureAt: number;
  blockedUntil: number;
}

/** Tracks consecutive login failures per client key (see {@link backoffKey}). */
export class LoginBackoff {
  #maxFailures: number;
  #lockoutMs: number;
  #idleMs: number;
  #maxEntries: number;
  #now: () => number;
  // Insertion order = order of last failure, so the oldest entries are always at the front.
  #clients = new Map<string, Failures>();

  /** Creates an empty tracker. */
  constructor(options: LoginBackoffOptions) {
    this.#maxFailures = options.maxFailures;
    this.#lockoutMs = options.lockoutSeconds * 1000;
    this.#idleMs = Math.max(options.idleSeconds ?? 3600, options.lockoutSeconds) * 1000;
    this.#maxEntries = options.maxEntries ?? 50_000;
    this.#now = options.now ?? Date.now;
  }

  /** Seconds `client` must still wait before its next attempt; 0 means it may try now. */
  retryAfterSeconds(client: string): number {
    const failures = this.#clients.get(client);
    if (!failures) return 0;
    const now = this.#now();
    if (now - failures.lastFailureAt > this.#idleMs) {
      this.#clients.delete(client);
      return 0;
    }
    return Math.max(0, Math.ceil((failures.blockedUntil - now) / 1000));
  }

  /** Counts a failed attempt; from the `maxFailures`-th on, the wait is 1 s, 2 s, 4 s, … up to the cap. */
  recordFailure(client: string): void {
    const now = this.#now();
    this.#forgetIdle(now);
    const previous = this.#clients.get(client);
    this.#clients.delete(client);
    const count = (previous && now - previous.lastFailureAt <= this.#idleMs ? previous.count : 0) + 1;
    const waitMs = count < this.#maxFailures ? 0 : Math.min(1000 * 2 ** (count - this.#maxFailures), this.#lockoutMs);
    this.#clients.set(client, { count, lastFailureAt: now, blockedUntil: now + waitMs });
    if (this.#clients.size > this.#maxEntries) this.#clients.delete(this.#clients.keys().next().value!);
  }

  /** A successful login clears the client's record. */
  recordSuccess(client: string): void {
    this.#clients.delete(client);
  }

  /** Number of clients currently tracked (for tests and status pages). */
  get size(): number {
    return this.#clients.size;
  }

  #forgetIdle(now: number): void {
    for (const [client, failures] of this.#clients) {
      if (now - failures.lastFailureAt <= this.#idleMs) break;
      this.#clients.delete(client);
    }
  }
}

/**
 * The key an address is tracked under. IPv4 addresses (also IPv4-mapped IPv6)
 * are used whole; IPv6 addresses by their /64 prefix, because one host usually
 * owns a whole /64 and could otherwise pick a fresh address for every attempt.
 */
export function backoffKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1];
  if (!address.includes(":")) return address;
  const withoutZone = address.split("%")[0].toLowerCase();
  const [head, tail] = withoutZone.split("::");
  const headGroups = head ? head.split(":") : [];
  const tailGroups = tail === undefined ? [] : tail ? tail.split(":") : [];
  const zeros = Array(Math.max(0, 8 - headGroups.length - tailGroups.length)).fill("0");
  const groups = [...headGroups, ...(tail === undefined ? [] : zeros), ...tailGroups];
  if (groups.length !== 8 || groups.some((group) => !/^[0-9a-f]{1,4}$/.test(group))) return address;
  return groups.slice(0, 4).map((group) => group.replace(/^0+(?=.)/, "")).join(":") + "::/64";
}
