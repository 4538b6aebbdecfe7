/**
 * MAC addresses and client IPs as Track Your Steps handles them: CMX's MAC
 * hashing (CMX_MAC_HASH), the private-address rule of the IP → MAC lookup,
 * and the `test` host's made-up MACs.
 */
import { createHash } from "node:crypto";

/** What the lookup answers when no CMX knows the IP (the original's sentinel). */
export const UNKNOWN_MAC = "00:00:00:00:00:00";

const MAC = /^[0-9a-f]{2}([:-]?)[0-9a-f]{2}(\1[0-9a-f]{2}){4}$/;

/** `AA-BB-…`, `aabb…` or `aa:bb:…` → `aa:bb:cc:dd:ee:ff`; null when it is not a MAC. */
export function normalizeMac(text: string): string | null {
  const lower = text.trim().toLowerCase();
  if (!MAC.test(lower)) return null;
  return lower.replace(/[:-]/g, "").match(/../g)!.join(":");
}

/**
 * The MAC as CMX reports it with hashing on: colons stripped, SHA-1 of
 * `mac + key` in hex, last 8 hex digits → `00:00:aa:bb:cc:dd`. An empty key
 * means CMX sends real MACs, so the MAC is returned as is.
 */
export function hashMac(mac: string, key: string): string {
  if (key === "") return mac;
  const digest = createHash("sha1").update(mac.replaceAll(":", "") + key).digest("hex");
  return `00:00:${digest.slice(-8).match(/../g)!.join(":")}`;
}

/** The four octets of a dotted IPv4 address, or null when `text` is not one. */
export function ipv4Octets(text: string): number[] | null {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!match) return null;
  const octets = match.slice(1).map(Number);
  return octets.every((octet) => octet <= 255) ? octets : null;
}

/**
 * Private IPv4 as the original judged it (Python's `is_private` for the ranges
 * a venue meets: RFC 1918, loopback, link-local): only those are looked up.
 */
export function isPrivateIpv4(octets: readonly number[]): boolean {
  const [a, b] = octets;
  return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || a === 127 ||
    (a === 169 && b === 254);
}

/** Private IPv6 (unique local fc00::/7, link-local fe80::/10, loopback), as Python's `is_private` counts them. */
export function isPrivateIpv6(text: string): boolean {
  const address = text.toLowerCase();
  return address === "::1" || /^f[cd][0-9a-f]{0,2}:/.test(address) || /^fe[89ab][0-9a-f]?:/.test(address);
}

/**
 * The `test` host's MAC for an IPv4 address, as the original's `ip_to_mac`:
 * the address as one integer in decimal, zero-padded to 10 digits, in pairs
 * after `00` (10.20.1.17 = 169083153 → 00:01:69:08:31:53).
 */
export function testMac(octets: readonly number[]): string {
  const integer = octets.reduce((value, octet) => value * 256 + octet, 0);
  return `00:${String(integer).padStart(10, "0").match(/../g)!.join(":")}`;
}
