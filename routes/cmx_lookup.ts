/**
 * The CMX location API client: which MAC has this IP? Asks each configured
 * CMX in turn (the `lookupUrl` template with the host in `{}` and the IP
 * appended, basic auth, a timeout each) and takes the first `macAddress`
 * found. A host named `test` answers for every IPv4 address with a MAC made
 * from it, for trying the API without a CMX.
 */
import { getLogger } from "@logtape/logtape";
import { ipv4Octets, isPrivateIpv4, isPrivateIpv6, normalizeMac, testMac, UNKNOWN_MAC } from "../domain/cmx_mac.ts";

const log = getLogger(["fieldgate", "cmx", "lookup"]);

/** Where and how to ask (from `config.cmx`). */
export interface CmxLookupOptions {
  /** Host names, `host:port` or `test`, tried in order. */
  hosts: readonly string[];
  user: string;
  password: string;
  /** URL template (CMX_IP2MAC_URL): `{}` is the host, the IP is appended. */
  lookupUrl: string;
  timeoutMs: number;
  /** Trusted CA certificates (PEM) for CMX servers with their own certificate; none = the system's. */
  caCerts?: string[];
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
  const client = options.caCerts?.length ? Deno.createHttpClient({ caCerts: options.caCerts }) : undefined;
  return async (ip) => {
    const octets = ipv4Octets(ip);
    const isPrivate = octets === null ? isPrivateIpv6(ip) : isPrivateIpv4(octets);
    if (!isPrivate) return UNKNOWN_MAC;
    for (const host of options.hosts) {
      if (host === "test") {
        if (octets !== null) return testMac(octets);
        continue;
      }
      const url = options.lookupUrl.replace("{}", host.replace(/\/+$/, "")) + encodeURIComponent(ip);
      try {
        const mac = await askCmx(url, authorization, options.timeoutMs, client);
        if (mac !== null) return mac;
      } catch (error) {
        log.warn("CMX {host} could not look up {ip}: {error}", { host, ip, error: (error as Error).message });
      }
    }
    return UNKNOWN_MAC;
  };
}

/** The MAC in CMX's answer (an array of clients), or null when it knows none; throws on any failure. */
async function askCmx(
  url: string,
  authorization: string,
  timeoutMs: number,
  client: Deno.HttpClient | undefined,
): Promise<string | null> {
  const response = await fetch(url, {
    headers: { authorization, accept: "application/json" },
    signal: AbortSignal.timeout(timeoutMs),
    client,
  } as RequestInit);
  // The timeout covers the body too: the signal aborts a stalled read.
  const text = await response.text();
  if (response.status === 404 || response.status === 204) return null;
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
