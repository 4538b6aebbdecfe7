/**
 * PROXY protocol v1 (text) and v2 (binary) header parsing, as sent by stunnel
 * (`protocol = proxy`) and HAProxy (`send-proxy`, `send-proxy-v2`) in front of
 * a plain listener. Pure: bytes in, a header (or what is wrong) out.
 *
 * Specification: "The PROXY protocol", versions 1 & 2 (haproxy.org).
 */
import { isIPv4, isIPv6 } from "node:net";

/** An address and port taken from a PROXY header. */
export interface ProxyAddress {
  address: string;
  port: number;
}

/** A parsed PROXY header. */
export interface ProxyHeader {
  version: 1 | 2;
  /**
   * Where the client connected from and to; absent for v2 LOCAL, v1 UNKNOWN and
   * address families without an IP (the terminator speaks for itself, e.g. a
   * health check), in which case the socket peer is the client.
   */
  source?: ProxyAddress;
  destination?: ProxyAddress;
}

/** The outcome of looking at the first bytes of a connection. */
export type ProxyParseResult =
  | { status: "incomplete" }
  | { status: "invalid"; reason: string }
  | { status: "complete"; header: ProxyHeader; length: number };

/** A v1 header is at most 107 bytes including CRLF. */
export const MAX_V1_BYTES = 107;

const V1_PREFIX = new TextEncoder().encode("PROXY ");
const V2_SIGNATURE = new Uint8Array([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const INCOMPLETE: ProxyParseResult = { status: "incomplete" };
const PORT = /^(0|[1-9][0-9]{0,4})$/;

/**
 * Parses the PROXY header at the start of `bytes`. Returns "incomplete" while
 * the bytes so far are a valid beginning of a header, and "invalid" as soon as
 * they cannot be one, so garbage is refused without waiting for a timeout.
 * On success `length` is the header size: bytes after it belong to the stream.
 */
export function parseProxyHeader(bytes: Uint8Array): ProxyParseResult {
  if (bytes.length === 0) return INCOMPLETE;
  if (bytes[0] === V1_PREFIX[0]) return parseV1(bytes);
  if (bytes[0] === V2_SIGNATURE[0]) return parseV2(bytes);
  return invalid('no PROXY header (expected "PROXY " or the v2 signature)');
}

function parseV1(bytes: Uint8Array): ProxyParseResult {
  if (!startsWith(bytes, V1_PREFIX)) return invalid('no PROXY header (expected "PROXY ")');
  const end = bytes.indexOf(0x0a);
  if (end === -1) {
    return bytes.length >= MAX_V1_BYTES ? invalid(`v1 header longer than ${MAX_V1_BYTES} bytes`) : INCOMPLETE;
  }
  if (end + 1 > MAX_V1_BYTES) return invalid(`v1 header longer than ${MAX_V1_BYTES} bytes`);
  if (bytes[end - 1] !== 0x0d) return invalid("v1 header must end with CRLF");
  const text = String.fromCharCode(...bytes.subarray(0, end - 1));
  if (!/^[\x20-\x7e]*$/.test(text)) return invalid("v1 header holds non-printable bytes");
  const fields = text.split(" ");
  const length = end + 1;
  // "UNKNOWN" may be followed by anything up to CRLF, which the receiver must ignore.
  if (fields[1] === "UNKNOWN") return { status: "complete", header: { version: 1 }, length };
  if (fields[1] !== "TCP4" && fields[1] !== "TCP6") {
    return invalid(`v1 protocol must be TCP4, TCP6 or UNKNOWN, not ${JSON.stringify(fields[1] ?? "")}`);
  }
  if (fields.length !== 6) return invalid("v1 header must be PROXY TCPx src dst sport dport");
  const [, protocol, source, destination, sourcePort, destinationPort] = fields;
  const isIp = protocol === "TCP4" ? isIPv4 : isIPv6;
  for (const address of [source, destination]) {
    if (!isIp(address)) return invalid(`v1 ${protocol} address ${JSON.stringify(address)} is not valid`);
  }
  for (const port of [sourcePort, destinationPort]) {
    if (!PORT.test(port) || Number(port) > 65535) return invalid(`v1 port ${JSON.stringify(port)} is not valid`);
  }
  return {
    status: "complete",
    header: {
      version: 1,
      source: { address: source, port: Number(sourcePort) },
      destination: { address: destination, port: Number(destinationPort) },
    },
    length,
  };
}

function parseV2(bytes: Uint8Array): ProxyParseResult {
  if (!startsWith(bytes, V2_SIGNATURE)) return invalid("no PROXY header (bad v2 signature)");
  if (bytes.length < 16) return INCOMPLETE;
  const version = bytes[12] >> 4;
  const command = bytes[12] & 0x0f;
  const family = bytes[13] >> 4;
  const transport = bytes[13] & 0x0f;
  const length = 16 + ((bytes[14] << 8) | bytes[15]);
  if (version !== 2) return invalid(`v2 signature with version ${version}`);
  if (command > 1) return invalid(`v2 command ${command} is neither LOCAL nor PROXY`);
  if (family > 3 || transport > 2) return invalid(`v2 address family/transport 0x${hex(bytes[13])} is not defined`);
  if (bytes.length < length) return INCOMPLETE;
  // LOCAL: the terminator's own connection (health check); addresses, if any, are to be ignored.
  if (command === 0) return { status: "complete", header: { version: 2 }, length };
  const view = new DataView(bytes.buffer, bytes.byteOffset + 16, length - 16);
  const addressBytes = [0, 12, 36, 216][family];
  if (view.byteLength < addressBytes) {
    return invalid(`v2 address block of ${view.byteLength} bytes is too short for family ${family}`);
  }
  // UNSPEC and UNIX carry no IP: the socket peer stands for the client. TLVs after the addresses are skipped.
  if (family === 0 || family === 3) return { status: "complete", header: { version: 2 }, length };
  const size = family === 1 ? 4 : 16;
  const format = family === 1 ? formatIPv4 : formatIPv6;
  const at = (offset: number) => new Uint8Array(bytes.buffer, bytes.byteOffset + 16 + offset, size);
  return {
    status: "complete",
    header: {
      version: 2,
      source: { address: format(at(0)), port: view.getUint16(2 * size) },
      destination: { address: format(at(size)), port: view.getUint16(2 * size + 2) },
    },
    length,
  };
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  const n = Math.min(bytes.length, prefix.length);
  for (let i = 0; i < n; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

function invalid(reason: string): ProxyParseResult {
  return { status: "invalid", reason };
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}

function formatIPv4(bytes: Uint8Array): string {
  return bytes.join(".");
}

/** RFC 5952 text form: lower-case hex, the longest run of two or more zero groups as "::". */
function formatIPv6(bytes: Uint8Array): string {
  const groups = Array.from({ length: 8 }, (_, i) => (bytes[2 * i] << 8) | bytes[2 * i + 1]);
  let best = { start: -1, length: 1 };
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.length) best = { start: i, length: j - i };
    i = j === i ? i + 1 : j;
  }
  const text = groups.map((group) => group.toString(16));
  if (best.start === -1) return text.join(":");
  return `${text.slice(0, best.start).join(":")}::${text.slice(best.start + best.length).join(":")}`;
}
