import assert from "node:assert/strict";
import { parseMovementBatch, parseZoneBatch } from "../../domain/cmx_notification.ts";
import { readFixture } from "../helpers/fixtures.ts";

const receivedAt = new Date("2024-06-10T16:20:00Z");

Deno.test("the fixture's two movements parse; the int64 floor id is kept exactly", async () => {
  const body = new TextDecoder().decode(await readFixture("cmx-movement.json"));
  const parsed = parseMovementBatch(body, receivedAt);
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.value.rejected, []);
  assert.deepEqual(parsed.value.accepted, [
    {
      mac: "00:00:3a:91:c4:07",
      moveFeet: 52.3,
      point: { x: 120.5, y: 48 },
      floorId: "723413320329068590",
      timestampMs: 1718036101311,
    },
    {
      mac: "00:00:5d:02:aa:19",
      moveFeet: 61,
      point: { x: 10, y: 5.5 },
      floorId: "723413320329068590",
      timestampMs: 1718036101402,
    },
  ]);
});

Deno.test("bad entries are reported by index and field; the good ones stay", () => {
  const good = { deviceId: "AA:BB:CC:DD:EE:FF", moveDistanceInFt: 10, locationCoordinate: { x: 1, y: 2 }, floorId: 7 };
  const entries = [
    good,
    { ...good, deviceId: "nope" },
    { ...good, moveDistanceInFt: -1 },
    { ...good, locationCoordinate: { x: "1", y: 2 } },
    { ...good, floorId: 1.5 },
    { ...good, timestamp: 1718036101 },
    { ...good, notificationType: "absence" },
    "not an object",
  ];
  const parsed = parseMovementBatch(JSON.stringify({ notifications: entries }), receivedAt);
  assert.ok(parsed.ok);
  assert.equal(parsed.value.accepted.length, 1);
  assert.equal(parsed.value.accepted[0].mac, "aa:bb:cc:dd:ee:ff");
  assert.equal(parsed.value.accepted[0].timestampMs, receivedAt.getTime(), "no timestamp: receipt time");
  assert.deepEqual(parsed.value.rejected.map((r) => r.index), [1, 2, 3, 4, 5, 6, 7]);
  assert.match(parsed.value.rejected[0].error, /deviceId/);
  assert.match(parsed.value.rejected[3].error, /floorId/);
  assert.match(parsed.value.rejected[4].error, /timestamp/);
});

Deno.test("bodies that are not a notification batch are refused whole", () => {
  for (const body of ["", "{", "[]", '{"notifications": {}}', "null"]) {
    const parsed = parseMovementBatch(body, receivedAt);
    assert.ok(!parsed.ok, body);
  }
});

Deno.test("area notifications need locationMapHierarchy", () => {
  const parsed = parseZoneBatch(
    JSON.stringify({
      notifications: [{ locationMapHierarchy: "Venue>Hall A>Level 1", timestamp: 1718036101311 }, { deviceId: "x" }],
    }),
    receivedAt,
  );
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.value.accepted, [{ zone: "Venue>Hall A>Level 1", timestampMs: 1718036101311 }]);
  assert.match(parsed.value.rejected[0].error, /locationMapHierarchy/);
});
