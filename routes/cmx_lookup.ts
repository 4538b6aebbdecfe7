/**
 * The CMX location API client: which MAC has this IP? Asks each configured
 * CMX in turn (`GET <host><lookupPath><ip>`, basic auth, a timeout each) and
 * takes the first `macAddress` found. A host named `test` answers for every
 * IP with a MAC made from its octets, for trying the API without a CMX.
 */
import { getLogger } from "@logtape/logtape";
import { ipv4Octets, isPrivateIpv4, normalizeMac, testMac, UNKNOWN_MAC } from "../domain/cmx_mac.ts";

const log = getLogger(["fieldgate", "cmx", "lookup"]);

/** Where and how to ask (from `config.cmx`). */
export interface CmxLookupOptions {
  /** Host names, `host:port`, full base URLs (`https://cmx.example`) or `test`, tried in order. */
  hosts: readonly string[];
  user: string;
  password: string;
  /** Path and query prefix the IP is appended to, e.g. `/api/location/v2/clients?ipAddress=`. */
  lookupPath: string;
  timeoutMs: number;
}

/**
 * Resolves an IPv4 address to the device's MAC (lower case, colons), or
 * {@link UNKNOWN_MAC} when the address is not private or no CMX knows it.
 * A failing, slow or confused CMX is logged and the next one asked; the
 * promise never rejects.
 */
export function cmxMacLookup(options: CmxLookupOptions): (ip: string) => Promise<string> {
  const authorization = `Basic ${
    btoa(String.fromCharCode(...new TextEncoder().encode(`${options.user}:${options.password}`)))
  }`;
  return async (ip) => {
    const octets = ipv4Octets(ip);
    if (octets === null || !isPrivateIpv4(octets)) return UNKNOWN_MAC;
    for (const host of options.hosts) {
      if (host === "test") return testMac(octets);
      const url = `${host.includes("://") ? host : `http://${host}`}${options.lookupPath}${ip}`;
      try {
        const mac = await askCmx(url, authorization, options.timeoutMs);
        if (mac !== null) return mac;
      } catch (error) {
        log.warn("CMX {host} could not look up {ip}: {error}", { host, ip, error: (error as Error).message });
      }
    }
    return UNKNOWN_MAC;
  };
}

/** The MAC in CMX's answer (an array of clients), or null when it knows none; throws on any failure. */
async function askCmx(url: string, authorization: string, timeoutMs: number): Promise<string | null> {
  const response = await fetch(url, {
    headers: { authorization, accept: "application/json" },
    signal: AbortSignal.timeout(timeoutMs),
  });
  // The timeout covers the body too: the signal aborts a stalled read.
  const text = await response.text();
  if (response.status === 404) return null;
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  let clients: unknown;
  try {
    clients = JSON.parse(text);
  } catch {
    throw new Error("answer is not JSON");
  }
  if (!Array.isArray(clients)) throw new Error("answer is not an array of clients");
  for (const client of clients) {
    const mac = typeof client?.macAddress === "string" ? normalizeMac(client.macAddress) : null;
    if (mac !== null) return mac;
  }
  return null;
}
