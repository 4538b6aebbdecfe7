import assert from "node:assert/strict";
import { MAX_V1_BYTES, parseProxyHeader, type ProxyParseResult } from "../../tcp/proxy_protocol.ts";

const encoder = new TextEncoder();
const SIGNATURE = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];

/** A v2 header: signature, version/command, family/transport, length, then `body`. */
function v2(command: number, familyTransport: number, body: number[]): Uint8Array {
  return new Uint8Array([...SIGNATURE, 0x20 | command, familyTransport, body.length >> 8, body.length & 0xff, ...body]);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  parts.reduce((offset, part) => (out.set(part, offset), offset + part.length), 0);
  return out;
}

/** Every proper prefix of a valid header is "incomplete": nothing is decided before the last byte. */
function assertIncompleteUntilEnd(header: Uint8Array): void {
  for (let n = 0; n < header.length; n++) {
    assert.deepEqual(parseProxyHeader(header.subarray(0, n)), { status: "incomplete" }, `prefix of ${n} bytes`);
  }
}

function assertInvalid(result: ProxyParseResult, reason: RegExp): void {
  assert.equal(result.status, "invalid", JSON.stringify(result));
  assert.match((result as { reason: string }).reason, reason);
}

Deno.test("v1 TCP4: addresses and ports, and the length so that following bytes stay in the stream", () => {
  const header = encoder.encode("PROXY TCP4 192.0.2.10 198.51.100.1 56324 38981\r\n");
  assertIncompleteUntilEnd(header);
  assert.deepEqual(parseProxyHeader(concat(header, encoder.encode('{"Id":1}\n'))), {
    status: "complete",
    header: {
      version: 1,
      source: { address: "192.0.2.10", port: 56324 },
      destination: { address: "198.51.100.1", port: 38981 },
    },
    length: header.length,
  });
});

Deno.test("v1 TCP6 and UNKNOWN (with or without trailing fields)", () => {
  const tcp6 = encoder.encode("PROXY TCP6 2001:db8::1 ::1 65535 0\r\n");
  assert.deepEqual(parseProxyHeader(tcp6), {
    status: "complete",
    header: { version: 1, source: { address: "2001:db8::1", port: 65535 }, destination: { address: "::1", port: 0 } },
    length: tcp6.length,
  });
  for (const text of ["PROXY UNKNOWN\r\n", "PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"]) {
    assert.deepEqual(parseProxyHeader(encoder.encode(text + "rest")), {
      status: "complete",
      header: { version: 1 },
      length: text.length,
    });
  }
});

Deno.test("v1 malformed headers are invalid, and garbage is refused at its first byte", () => {
  const cases: [string, RegExp][] = [
    ["GET / HTTP/1.1\r\n", /no PROXY header/],
    ["PROXX", /no PROXY header/],
    ["proxy TCP4", /no PROXY header/],
    ["PROXY TCP4 192.0.2.1 192.0.2.2 1 2\n", /CRLF/],
    ["PROXY TCP5 192.0.2.1 192.0.2.2 1 2\r\n", /TCP4, TCP6 or UNKNOWN/],
    ["PROXY \r\n", /TCP4, TCP6 or UNKNOWN/],
    ["PROXY TCP4 192.0.2.1 192.0.2.2 1\r\n", /PROXY TCPx src dst sport dport/],
    ["PROXY TCP4 192.0.2.1  192.0.2.2 1 2\r\n", /PROXY TCPx/],
    ["PROXY TCP4 192.0.2.1 192.0.2.2 1 2 3\r\n", /PROXY TCPx/],
    ["PROXY TCP4 192.0.2.256 192.0.2.2 1 2\r\n", /address "192.0.2.256"/],
    ["PROXY TCP4 2001:db8::1 192.0.2.2 1 2\r\n", /TCP4 address/],
    ["PROXY TCP6 192.0.2.1 ::1 1 2\r\n", /TCP6 address/],
    ["PROXY TCP4 192.0.2.1 192.0.2.2 65536 2\r\n", /port "65536"/],
    ["PROXY TCP4 192.0.2.1 192.0.2.2 01 2\r\n", /port "01"/],
    ["PROXY TCP4 192.0.2.1 192.0.2.2 1 -2\r\n", /port "-2"/],
    ["PROXY TCP4 192.0.2.1 192.0.2.2 1 2\x00\r\n", /non-printable/],
  ];
  for (const [text, reason] of cases) assertInvalid(parseProxyHeader(encoder.encode(text)), reason);
  assertInvalid(parseProxyHeader(new Uint8Array([0x16, 0x03, 0x01])), /no PROXY header/);
});

Deno.test("v1: no CRLF within 107 bytes is invalid; exactly 107 bytes is fine", () => {
  const longest = "PROXY UNKNOWN " + "x".repeat(MAX_V1_BYTES - 16) + "\r\n";
  assert.equal(longest.length, MAX_V1_BYTES);
  assert.equal(parseProxyHeader(encoder.encode(longest)).status, "complete");
  assertInvalid(parseProxyHeader(encoder.encode("PROXY UNKNOWN " + "x".repeat(MAX_V1_BYTES))), /longer than 107/);
  assertInvalid(parseProxyHeader(encoder.encode("PROXY UNKNOWN " + "x".repeat(MAX_V1_BYTES) + "\r\n")), /longer/);
  assert.equal(parseProxyHeader(encoder.encode("PROXY UNKNOWN " + "x".repeat(50))).status, "incomplete");
});

Deno.test("v2 PROXY over IPv4: addresses, ports, TLVs skipped, stream bytes after the header", () => {
  const addresses = [192, 0, 2, 10, 127, 0, 0, 1, 0xdc, 0x04, 0x98, 0x45];
  const tlvs = [0x01, 0x00, 0x02, 0x68, 0x32, 0x04, 0x00, 0x00]; // ALPN "h2", then an empty NOOP
  const header = v2(1, 0x11, [...addresses, ...tlvs]);
  assertIncompleteUntilEnd(header);
  assert.deepEqual(parseProxyHeader(concat(header, encoder.encode("{}\n"))), {
    status: "complete",
    header: {
      version: 2,
      source: { address: "192.0.2.10", port: 56324 },
      destination: { address: "127.0.0.1", port: 38981 },
    },
    length: 16 + 20,
  });
});

Deno.test("v2 PROXY over IPv6, printed in RFC 5952 form", () => {
  const ip = (...groups: number[]) => groups.flatMap((group) => [group >> 8, group & 0xff]);
  const cases: [number[], string][] = [
    [ip(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), "2001:db8::1"],
    [ip(0, 0, 0, 0, 0, 0, 0, 1), "::1"],
    [ip(0, 0, 0, 0, 0, 0, 0, 0), "::"],
    [ip(0x2001, 0xdb8, 0, 1, 0, 0, 0, 1), "2001:db8:0:1::1"],
    [ip(0x2001, 0, 0, 1, 0, 0, 0, 1), "2001:0:0:1::1"],
    [ip(0xfe80, 1, 2, 3, 4, 5, 6, 0), "fe80:1:2:3:4:5:6:0"],
    [ip(0xABCD, 0, 0, 0, 0, 0, 0, 0), "abcd::"],
  ];
  for (const [source, text] of cases) {
    const result = parseProxyHeader(v2(1, 0x21, [...source, ...ip(0, 0, 0, 0, 0, 0, 0, 1), 0x01, 0xbb, 0x98, 0x45]));
    assert.equal(result.status, "complete");
    const { header } = result as { header: { source: { address: string; port: number } } };
    assert.deepEqual(header.source, { address: text, port: 443 });
  }
});

Deno.test("v2 LOCAL, UNSPEC and UNIX carry no client IP", () => {
  for (
    const header of [
      v2(0, 0x00, []),
      v2(0, 0x11, new Array(12).fill(1)),
      v2(1, 0x00, []),
      v2(1, 0x31, new Array(216).fill(0)),
    ]
  ) {
    assert.deepEqual(parseProxyHeader(header), { status: "complete", header: { version: 2 }, length: header.length });
  }
});

Deno.test("v2 malformed headers are invalid", () => {
  const good = v2(1, 0x11, new Array(12).fill(1));
  const mutate = (index: number, value: number) => good.map((byte, i) => i === index ? value : byte);
  assertInvalid(parseProxyHeader(mutate(5, 0x0a)), /bad v2 signature/);
  assertInvalid(parseProxyHeader(new Uint8Array([0x0d, 0x0a, 0x0d, 0x0b])), /bad v2 signature/);
  assertInvalid(parseProxyHeader(mutate(12, 0x11)), /version 1/);
  assertInvalid(parseProxyHeader(mutate(12, 0x22)), /command 2/);
  assertInvalid(parseProxyHeader(mutate(13, 0x41)), /family\/transport 0x41/);
  assertInvalid(parseProxyHeader(mutate(13, 0x13)), /0x13/);
  assertInvalid(parseProxyHeader(v2(1, 0x11, new Array(11).fill(1))), /11 bytes is too short/);
  assertInvalid(parseProxyHeader(v2(1, 0x21, new Array(12).fill(1))), /too short for family 2/);
  assertInvalid(parseProxyHeader(v2(1, 0x31, new Array(100).fill(1))), /too short for family 3/);
});

Deno.test("v2: a declared length longer than the bytes so far waits for the rest", () => {
  const header = v2(1, 0x11, new Array(500).fill(0));
  assert.equal(parseProxyHeader(header.subarray(0, 400)).status, "incomplete");
  assert.equal(parseProxyHeader(header).status, "complete");
});
