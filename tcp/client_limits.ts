/**
 * Connection bookkeeping shared by the device listener (tcp/listener.ts) and
 * the guarded HTTPS front (https/front.ts): how a peer address is counted,
 * the per-IP connection cap, and waiting for sessions with a deadline.
 */

/** Open connections per client IP, never more than `maxPerIp` each. */
export class PerIpConnections {
  readonly #open = new Map<string, number>();
  readonly #maxPerIp: number;

  constructor(maxPerIp: number) {
    this.#maxPerIp = maxPerIp;
  }

  /** Counts one more connection from `ip`; false (and nothing counted) when `ip` is at the cap. */
  claim(ip: string): boolean {
    const count = this.#open.get(ip) ?? 0;
    if (count >= this.#maxPerIp) return false;
    this.#open.set(ip, count + 1);
    return true;
  }

  /** Ends one connection that {@link claim} counted. */
  release(ip: string): void {
    const count = this.#open.get(ip)! - 1;
    if (count === 0) this.#open.delete(ip);
    else this.#open.set(ip, count);
  }
}

/** The client IP as logged and counted; IPv4 clients of a dual-stack socket appear as plain IPv4. */
export function clientIp(address: string | undefined): string {
  if (address === undefined) return "unknown"; // the client was gone before we looked
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}

/** True if all `promises` settled within `ms`. */
export async function settled(promises: Promise<unknown>[], ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), ms));
  try {
    return await Promise.race([Promise.allSettled(promises).then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
