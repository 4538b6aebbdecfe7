import assert from "node:assert/strict";
import { decideConfo, parseConfoPacket } from "../../domain/confo.ts";
import type { ConfoDecision, ConfoFacts } from "../../storage/types.ts";
import { readFixture } from "../helpers/fixtures.ts";

const receivedAt = new Date("2026-01-01T00:00:00Z");

Deno.test('the fixture confo (lower-case "devicename") parses', async () => {
  const line = new TextDecoder().decode(await readFixture("confo-packet.ndjson")).trim();
  assert.deepEqual(parseConfoPacket(line, receivedAt), {
    ok: true,
    value: { deviceName: "Movprov", ssid: "M0V", hash: 13580, email: "owner@example.org", timestamp: receivedAt },
  });
});

Deno.test("deviceName in any case, optional email, bad fields named", () => {
  const parsed = parseConfoPacket(`{"DeviceName":"d","SSID":"s","Hash":1,"timestamp":1718036101}`, receivedAt);
  assert.ok(parsed.ok);
  assert.equal(parsed.value.email, null);
  assert.equal(parsed.value.timestamp.toISOString(), "2024-06-10T16:15:01.000Z");
  const cases: [string, RegExp][] = [
    [`{"ssid":"s","hash":1}`, /missing field "deviceName"/],
    [`{"deviceName":"d","hash":1}`, /missing field "ssid"/],
    [`{"deviceName":"d","ssid":"s"}`, /missing field "hash"/],
    [`{"deviceName":"d","ssid":"s","hash":"1"}`, /"hash" must be an integer/],
    [`{"deviceName":"d","ssid":"s","hash":1,"email":"nobody"}`, /not an email address/],
    [`{"deviceName":"${"x".repeat(300)}","ssid":"s","hash":1}`, /longer than 256/],
    [`{"deviceName":7,"ssid":"s","hash":1}`, /"deviceName" must be a string/],
  ];
  for (const [line, expected] of cases) {
    const result = parseConfoPacket(line, receivedAt);
    assert.ok(!result.ok, line);
    assert.match(result.error, expected, line);
  }
});

type Creator = "none" | "sender" | "other" | "empty";

function facts(emailRegistered: boolean, creator: Creator): ConfoFacts {
  return {
    emailRegistered,
    pub: creator === "none" ? null : { creatorEmpty: creator === "empty", creatorIsSender: creator === "sender" },
  };
}

Deno.test("decision procedure: every branch of seed 004", () => {
  const table: [boolean, Creator, boolean, ConfoDecision][] = [
    // registered email
    [true, "sender", true, { table: "confo", pub: "none", saveUnregisteredEmail: false }],
    [true, "other", true, { table: "cconfo", pub: "none", saveUnregisteredEmail: false }],
    [true, "empty", true, { table: "confo", pub: "set-creator", saveUnregisteredEmail: false }],
    [true, "none", true, { table: "confo", pub: "create", saveUnregisteredEmail: false }],
    // unregistered email: it goes to csub
    [false, "other", true, { table: "confo", pub: "none", saveUnregisteredEmail: true }],
    [false, "empty", true, { table: "confo", pub: "none", saveUnregisteredEmail: true }],
    [false, "sender", true, { table: "cconfo", pub: "clear-creator", saveUnregisteredEmail: true }],
    [false, "none", true, { table: "confo", pub: "create", saveUnregisteredEmail: true }],
    // no email at all: nothing for csub
    [false, "other", false, { table: "confo", pub: "none", saveUnregisteredEmail: false }],
    [false, "none", false, { table: "confo", pub: "create", saveUnregisteredEmail: false }],
  ];
  for (const [registered, creator, hasEmail, expected] of table) {
    assert.deepEqual(
      decideConfo(facts(registered, creator), hasEmail),
      expected,
      `registered=${registered} creator=${creator} email=${hasEmail}`,
    );
  }
});
