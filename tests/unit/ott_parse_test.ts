import assert from "node:assert/strict";
import { checkOttQuery, ottResponseXml, parseOttBody } from "../../domain/ott.ts";
import { parseLoggerTime } from "../../domain/ott_time.ts";
import { decodeXml } from "../../domain/xml_decode.ts";
import { readFixture } from "../helpers/fixtures.ts";

async function fixtureText(name: string): Promise<string> {
  const decoded = decodeXml(await readFixture(name));
  assert.ok(decoded.ok);
  return decoded.value;
}

Deno.test("senddata fixture parses into every value with units decoded from ISO-8859-1", async () => {
  const parsed = parseOttBody("senddata", await fixtureText("ott-senddata.xml"));
  assert.ok(parsed.ok, !parsed.ok ? parsed.error : "");
  const { values, alarm } = parsed.value;
  assert.equal(alarm, null);
  assert.equal(values.length, 6);
  assert.deepEqual(values[0], {
    stationId: "0000452891",
    channelId: "0001",
    channelName: "Stage",
    unit: "m",
    time: new Date("2024-03-05T10:00:00Z"),
    value: 0.842,
    rawValue: "0.842",
    errorCode: null,
    errorText: null,
  });
  const errored = values.find((v) => v.errorCode !== null)!;
  assert.equal(errored.unit, "°C");
  assert.equal(errored.channelName, "Wassertemperatur");
  assert.equal(errored.errorCode, "5");
  assert.equal(errored.errorText, "Sensor getrennt");
  assert.equal(errored.value, 0);
});

Deno.test("station timezone is applied to convert logger time to UTC", () => {
  const xml = `<StationDataList><StationData stationId="7" timezone="+01:00"><ChannelData channelId="0010">
    <Values><VT t="2024-01-01T00:30:00">1.5</VT></Values></ChannelData></StationData></StationDataList>`;
  const parsed = parseOttBody("senddata", xml);
  assert.ok(parsed.ok);
  assert.equal(parsed.value.values[0].time.toISOString(), "2023-12-31T23:30:00.000Z");
  assert.equal(parsed.value.values[0].channelName, "");
});

Deno.test("non-numeric values keep their raw text with a null number", () => {
  const xml = `<StationDataList><StationData stationId="7"><ChannelData channelId="1">
    <Values><VT t="2024-01-01T00:00:00">---</VT><VT t="2024-01-01T00:15:00"/></Values></ChannelData></StationData></StationDataList>`;
  const parsed = parseOttBody("senddata", xml);
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.value.values.map((v) => [v.rawValue, v.value]), [["---", null], ["", null]]);
});

Deno.test("sendalarm fixture parses into one alarm", async () => {
  const parsed = parseOttBody("sendalarm", await fixtureText("ott-sendalarm.xml"));
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.value.alarm, {
    stationId: "0000452891",
    channelId: "0001",
    time: new Date("2024-03-05T10:45:00Z"),
    type: "limit",
    message: "Stage 1.93 m above limit 1.80 m",
  });
  assert.deepEqual(parsed.value.values, []);
});

Deno.test("malformed and wrong-shape bodies are refused with a reason", () => {
  const cases: [string, "senddata" | "sendalarm", RegExp][] = [
    ["<StationDataList><StationData>", "senddata", /malformed XML/],
    ["not xml at all", "senddata", /malformed XML|expected root/],
    ["<Other/>", "senddata", /expected root element <StationDataList>/],
    ["<StationDataList/>", "senddata", /no <StationData>/],
    [
      `<StationDataList><StationData><ChannelData channelId="1"/></StationData></StationDataList>`,
      "senddata",
      /without stationId/,
    ],
    [
      `<StationDataList><StationData stationId="1"><ChannelData channelId="1"><Values><VT t="yesterday">1</VT></Values></ChannelData></StationData></StationDataList>`,
      "senddata",
      /invalid time/,
    ],
    [
      `<StationDataList><StationData stationId="1" timezone="CET"><ChannelData channelId="1"/></StationData></StationDataList>`,
      "senddata",
      /invalid timezone/,
    ],
    ["<StationDataList/>", "sendalarm", /expected root element <AlarmMessage>/],
  ];
  for (const [xml, action, expected] of cases) {
    const parsed = parseOttBody(action, xml);
    assert.ok(!parsed.ok, `should refuse ${xml}`);
    assert.match(parsed.error, expected);
  }
});

Deno.test("a malformed body's error says where in the document it went wrong", () => {
  const parsed = parseOttBody("senddata", '<StationDataList>\n  <StationData stationId="1">\n</StationDataList>');
  assert.ok(!parsed.ok);
  assert.match(parsed.error, /^malformed XML: 3:\d+: /);
});

Deno.test("entity-expansion and external-entity XML is refused without expanding anything", () => {
  const laughs = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
<StationDataList><StationData stationId="&lol2;"/></StationDataList>`;
  const external =
    `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><AlarmMessage stationId="1">&xxe;</AlarmMessage>`;
  for (const [xml, action] of [[laughs, "senddata"], [external, "sendalarm"]] as const) {
    const parsed = parseOttBody(action, xml);
    assert.ok(!parsed.ok);
    assert.match(parsed.error, /DOCTYPE/);
  }
});

Deno.test("impossible calendar dates are not rolled over", () => {
  assert.equal(parseLoggerTime("2024-02-30T10:00:00", "+00:00"), null);
  assert.equal(parseLoggerTime("2024-02-29T10:00:00", "Z")?.toISOString(), "2024-02-29T10:00:00.000Z");
});

Deno.test("logger times: fractions, offsets, leap years and malformed shapes", () => {
  const iso = (t: string, zone: string) => parseLoggerTime(t, zone)?.toISOString() ?? null;
  assert.equal(iso("2024-03-05T10:45:00", "+01:00"), "2024-03-05T09:45:00.000Z");
  assert.equal(iso("2024-03-05T00:15:00", "+01:30"), "2024-03-04T22:45:00.000Z");
  assert.equal(iso("2024-12-31T23:59:59", "-05:00"), "2025-01-01T04:59:59.000Z");
  assert.equal(iso("2024-03-05T10:45:00.5", "Z"), "2024-03-05T10:45:00.500Z");
  assert.equal(iso("2024-03-05T10:45:00.123456", "Z"), "2024-03-05T10:45:00.123Z");
  assert.equal(iso("2024-03-05T10:45:00.999999", "Z"), "2024-03-05T10:45:00.999Z");
  assert.equal(iso("2000-02-29T00:00:00", "Z"), "2000-02-29T00:00:00.000Z");
  assert.equal(iso("1900-02-29T00:00:00", "Z"), null, "1900 was not a leap year");
  assert.equal(iso("2023-02-29T00:00:00", "Z"), null);
  assert.equal(iso("2024-04-31T00:00:00", "Z"), null);
  assert.equal(iso("2024-01-31T00:00:00", "Z"), "2024-01-31T00:00:00.000Z");
  const malformed = [
    "",
    "2024-03-05",
    "2024-03-05 10:45:00",
    "2024-03-05T10:45",
    "2024-03-05T10:45:00.",
    "2024-03-05T10:45:00.1234567",
    "2024-03-05T10:45:00Z",
    "2024-03-05T10:45:00+01:00",
    "2024-3-05T10:45:00",
    "2024-03-05T24:00:00",
    "2024-03-05T10:60:00",
    "2024-03-05T10:45:60",
    "2024-13-05T10:45:00",
    "2024-00-05T10:45:00",
    "2024-03-00T10:45:00",
    "1899-12-31T23:59:59",
    "2024-03-05T1a:45:00",
    "+024-03-05T10:45:00",
    "2024-03-05T10:45:00.1a",
    "２０２４-03-05T10:45:00",
  ];
  for (const t of malformed) assert.equal(iso(t, "Z"), null, t);
  for (const zone of ["", "+1:00", "01:00", "+01:00:00", "UTC", "z"]) {
    assert.equal(iso("2024-03-05T10:45:00", zone), null, zone);
  }
});

Deno.test("query checks accept station ids of the safe shape only", () => {
  assert.deepEqual(checkOttQuery("0000452891", "senddata"), {
    ok: true,
    value: { stationId: "0000452891", action: "senddata" },
  });
  for (const bad of ["", "../etc", "a/b", "a b", "x".repeat(65), "dl.001", "%2e%2e"]) {
    assert.equal(checkOttQuery(bad, "senddata").ok, false, bad);
  }
  assert.equal(checkOttQuery(undefined, "senddata").ok, false);
  const unknown = checkOttQuery("1", "sendpicture");
  assert.ok(!unknown.ok && /unknown action/.test(unknown.error));
});

Deno.test("response is the OTT_Response element with UTC time to the second", () => {
  assert.equal(
    ottResponseXml("0000452891", new Date("2024-03-05T10:00:01.250Z")),
    `<?xml version="1.0" encoding="utf-8"?><Response stationId="0000452891" responseDateTime="2024-03-05T10:00:01" />`,
  );
});
