import assert from "node:assert/strict";
import { ottBatchRows } from "../../storage/ott_batch.ts";
import type { OttRecord, OttValue } from "../../storage/types.ts";

function value(stationId: string, channelId: string, minute: number, number: number): OttValue {
  return {
    stationId,
    channelId,
    channelName: "",
    unit: "m",
    time: new Date(Date.UTC(2024, 0, 1, 0, minute)),
    value: number,
    rawValue: String(number),
    errorCode: null,
    errorText: null,
  };
}

function record(file: string, values: OttValue[]): OttRecord {
  const transmission = {
    stationId: values[0]?.stationId ?? "s",
    action: "senddata" as const,
    receivedAt: new Date(Date.UTC(2024, 0, 2)),
    file,
    bytes: 1,
    user: "u",
    remoteAddr: "127.0.0.1",
    parseError: null,
  };
  return { transmission, values, alarm: null };
}

Deno.test("batch rows: one value per station, channel and time, the last recorded winning, sorted by that key", () => {
  const rows = ottBatchRows([
    record("a", [value("s2", "1", 5, 1), value("s1", "2", 0, 2), value("s1", "10", 3, 3), value("s1", "2", 0, 4)]),
    record("b", [value("s1", "2", 9, 5), value("s1", "2", 1, 6), value("s2", "1", 5, 7), value("s1", "1", 0, NaN)]),
    record("c", []),
  ]);
  assert.deepEqual(
    rows.values.map((v) => [v.stationId, v.channelId, v.time.getUTCMinutes(), v.value, v.file]),
    [
      ["s1", "1", 0, null, "b"],
      ["s1", "10", 3, 3, "a"],
      ["s1", "2", 0, 4, "a"],
      ["s1", "2", 1, 6, "b"],
      ["s1", "2", 9, 5, "b"],
      ["s2", "1", 5, 7, "b"],
    ],
  );
  assert.deepEqual(rows.transmissions.map((t) => t.file), ["a", "b", "c"]);
  assert.deepEqual(rows.stations.map((s) => [s.stationId, s.transmissions]), [["s", 1], ["s1", 1], ["s2", 1]]);
});
