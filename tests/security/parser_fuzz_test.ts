/**
 * Property tests over every parser a device or client reaches: arbitrary and
 * hostile input must give a clear refusal, never an exception, and anything
 * accepted must satisfy the documented invariants.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { parseConfoPacket } from "../../domain/confo.ts";
import { parseMeterPacket } from "../../domain/meter.ts";
import { checkOttQuery, parseOttBody, STATION_ID_PATTERN } from "../../domain/ott.ts";
import { decodeXml } from "../../domain/xml_decode.ts";
import { parseProxyHeader } from "../../tcp/proxy_protocol.ts";

const RUNS = { numRuns: 2000, seed: 20261123 };
const receivedAt = new Date("2026-01-01T00:00:00Z");

const xmlFragment = fc.constantFrom(
  "<StationDataList>",
  "</StationDataList>",
  '<StationData stationId="1" timezone="+01:00">',
  "</StationData>",
  '<ChannelData channelId="0001" name="Stage" unit="m">',
  "</ChannelData>",
  "<Values>",
  "</Values>",
  '<VT t="2024-03-05T10:00:00">',
  '<VT t="2024-02-30T10:00:00" errorcode="5">',
  "</VT>",
  "0.842",
  "&amp;",
  "&lol;",
  "<![CDATA[x]]>",
  '<!DOCTYPE x [<!ENTITY lol "lol">]>',
  '<?xml version="1.0" encoding="iso-8859-1"?>',
  "<AlarmMessage stationId='1' t='2024-03-05T10:45:00'>",
  "</AlarmMessage>",
  "\u0000",
  "<",
  ">",
  '"',
);

Deno.test("OTT bodies: arbitrary XML-like input is parsed or refused with a reason, never thrown", () => {
  fc.assert(
    fc.property(fc.array(xmlFragment, { maxLength: 40 }), fc.constantFrom("senddata", "sendalarm"), (parts, action) => {
      const result = parseOttBody(action as "senddata" | "sendalarm", parts.join(""));
      if (result.ok) {
        for (const value of result.value.values) assert.ok(!Number.isNaN(value.time.getTime()));
      } else {
        assert.ok(result.error.length > 0);
      }
    }),
    RUNS,
  );
  fc.assert(fc.property(fc.string({ maxLength: 500 }), (text) => void parseOttBody("senddata", text)), RUNS);
});

Deno.test("OTT bodies: deep nesting and huge attribute counts are handled without a crash", () => {
  const deep = "<a>".repeat(20_000) + "</a>".repeat(20_000);
  assert.equal(parseOttBody("senddata", deep).ok, false);
  const attributes = Array.from({ length: 20_000 }, (_, i) => `a${i}="${i}"`).join(" ");
  assert.equal(parseOttBody("senddata", `<StationDataList ${attributes}/>`).ok, false);
});

Deno.test("XML decoding: arbitrary bytes under any declaration decode or are refused", () => {
  const declaration = fc.constantFrom(
    "",
    '<?xml version="1.0" encoding="iso-8859-1"?>',
    '<?xml version="1.0" encoding="utf-8"?>',
    '<?xml encoding="koi8-r"?>',
    '<?xml encoding="nope"?>',
  );
  fc.assert(
    fc.property(declaration, fc.uint8Array({ maxLength: 300 }), (head, bytes) => {
      const body = new Uint8Array([...new TextEncoder().encode(head), ...bytes]);
      const decoded = decodeXml(body);
      assert.ok(decoded.ok || decoded.error.length > 0);
    }),
    RUNS,
  );
});

Deno.test("query checks: only safe station ids pass, whatever the input", () => {
  fc.assert(
    fc.property(fc.option(fc.string({ maxLength: 80 })), fc.option(fc.string({ maxLength: 20 })), (station, action) => {
      const checked = checkOttQuery(station ?? undefined, action ?? undefined);
      if (checked.ok) {
        assert.match(checked.value.stationId, STATION_ID_PATTERN);
        assert.ok(!checked.value.stationId.includes("/") && !checked.value.stationId.includes(".."));
      }
    }),
    RUNS,
  );
});

const jsonValue = fc.jsonValue({ maxDepth: 3 });
const meterLike = fc.record({
  id: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(null), fc.bigInt().map(String)),
  status: fc.oneof(fc.boolean(), fc.string(), fc.integer()),
  voltage: fc.oneof(fc.double(), fc.integer(), fc.string()),
  freq: fc.oneof(fc.double(), fc.integer(), fc.constant(null)),
  timestamp: fc.oneof(fc.integer(), fc.double(), fc.constant(undefined)),
  __proto__: fc.oneof(fc.constant({ polluted: true }), fc.constant(undefined)),
}, { requiredKeys: [] });

Deno.test("meter packets: arbitrary JSON and near-miss packets are accepted only when valid", () => {
  fc.assert(
    fc.property(
      fc.oneof(jsonValue.map((v) => JSON.stringify(v)), meterLike.map((v) => JSON.stringify(v)), fc.string()),
      (line) => {
        const parsed = parseMeterPacket(line, receivedAt);
        if (parsed.ok) {
          const reading = parsed.value;
          assert.ok(Number.isSafeInteger(reading.pubId) && reading.pubId > 0);
          assert.ok(Number.isFinite(reading.voltage) && reading.voltage >= 0);
          assert.ok(Number.isFinite(reading.frequency) && reading.frequency >= 0);
          assert.ok(!Number.isNaN(reading.createdAt.getTime()));
        } else {
          assert.match(parsed.error, /^(invalid JSON|missing field|field )/);
        }
      },
    ),
    RUNS,
  );
  assert.equal(({} as Record<string, unknown>).polluted, undefined, "no prototype was polluted");
});

Deno.test("confo packets: arbitrary input is accepted only with a device name, ssid and safe hash", () => {
  fc.assert(
    fc.property(fc.oneof(jsonValue.map((v) => JSON.stringify(v)), fc.string()), (line) => {
      const parsed = parseConfoPacket(line, receivedAt);
      if (parsed.ok) {
        assert.ok(parsed.value.deviceName.length > 0 && parsed.value.ssid.length > 0);
        assert.ok(Number.isSafeInteger(parsed.value.hash));
      }
    }),
    RUNS,
  );
});

Deno.test("PROXY headers: arbitrary bytes never throw", () => {
  const prefix = fc.constantFrom(
    new Uint8Array(),
    new TextEncoder().encode("PROXY "),
    new Uint8Array([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]),
  );
  fc.assert(
    fc.property(prefix, fc.uint8Array({ maxLength: 300 }), (head, bytes) => {
      parseProxyHeader(new Uint8Array([...head, ...bytes]));
    }),
    RUNS,
  );
});
