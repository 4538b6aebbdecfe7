import assert from "node:assert/strict";
import { parseMeterPacket } from "../../domain/meter.ts";
import { readFixture } from "../helpers/fixtures.ts";

const receivedAt = new Date("2026-01-01T00:00:00Z");

Deno.test('the fixture packet with Go\'s "Id" key parses into a reading', async () => {
  const line = new TextDecoder().decode(await readFixture("meter-packet.ndjson")).trim();
  assert.deepEqual(parseMeterPacket(line, receivedAt), {
    ok: true,
    value: {
      pubId: 987654,
      createdAt: new Date(1718036101 * 1000),
      savedAt: receivedAt,
      voltage: 231.4,
      frequency: 50.02,
      protected: true,
    },
  });
});

Deno.test("keys match case-insensitively and the last duplicate wins, like Go's decoder", () => {
  const parsed = parseMeterPacket(`{"ID":1,"id":2,"STATUS":false,"Voltage":1,"FREQ":2,"extra":"ignored"}`, receivedAt);
  assert.ok(parsed.ok);
  assert.equal(parsed.value.pubId, 2);
  assert.equal(parsed.value.protected, false);
});

Deno.test("absent or zero timestamp means the receipt time", () => {
  for (const timestamp of ["", `"timestamp":0,`]) {
    const parsed = parseMeterPacket(`{${timestamp}"id":5,"status":true,"voltage":0,"freq":0}`, receivedAt);
    assert.ok(parsed.ok);
    assert.equal(parsed.value.createdAt, receivedAt);
  }
});

Deno.test("invalid packets are refused with the field named", () => {
  const cases: [string, RegExp][] = [
    ["not json", /invalid JSON/],
    ["[1,2]", /expected an object/],
    ["null", /expected an object/],
    [`{"status":true,"voltage":1,"freq":1}`, /missing field "id"/],
    [`{"id":"7","status":true,"voltage":1,"freq":1}`, /"id" must be an integer/],
    [`{"id":1.5,"status":true,"voltage":1,"freq":1}`, /"id" must be an integer/],
    [`{"id":0,"status":true,"voltage":1,"freq":1}`, /positive pub id/],
    [`{"id":9007199254740993,"status":true,"voltage":1,"freq":1}`, /"id" is out of range/],
    [`{"id":1,"status":"yes","voltage":1,"freq":1}`, /"status" must be true or false/],
    [`{"id":1,"status":true,"freq":1}`, /missing field "voltage"/],
    [`{"id":1,"status":true,"voltage":-1,"freq":1}`, /"voltage" must not be negative/],
    [`{"id":1,"status":true,"voltage":1e999,"freq":1}`, /"voltage" must be a finite number/],
    [`{"id":1,"status":true,"voltage":1,"freq":-50}`, /"freq" must not be negative/],
    [`{"id":1,"status":true,"voltage":1,"freq":1,"timestamp":-5}`, /not a Unix time/],
    [`{"id":1,"status":true,"voltage":1,"freq":1,"timestamp":1e20}`, /"timestamp" is out of range/],
    ['{"id":1,"status":true,"voltage":1,"freq":1,"x":"\uFFFD"}', /not valid UTF-8/],
  ];
  for (const [line, expected] of cases) {
    const parsed = parseMeterPacket(line, receivedAt);
    assert.ok(!parsed.ok, line);
    assert.match(parsed.error, expected, line);
  }
});

Deno.test("prototype-pollution keys are plain data and change nothing", () => {
  const parsed = parseMeterPacket(
    `{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}},"id":3,"status":true,"voltage":1,"freq":1}`,
    receivedAt,
  );
  assert.ok(parsed.ok);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});
