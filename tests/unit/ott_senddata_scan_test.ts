/**
 * The fast senddata scanner against the general saxes reader: whatever the
 * scanner accepts must be exactly what the general reader makes of it, and
 * what it does not vouch for must reach the general reader, so a logger gets
 * the same values or the same refusal either way.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { parseOttBody, parseOttTree } from "../../domain/ott.ts";
import { scanSendData } from "../../domain/ott_senddata_scan.ts";
import { decodeXml } from "../../domain/xml_decode.ts";
import { readFixture } from "../helpers/fixtures.ts";

const fixture = await fixtureText("ott-senddata.xml");

async function fixtureText(name: string): Promise<string> {
  const decoded = decodeXml(await readFixture(name));
  assert.ok(decoded.ok);
  return decoded.value;
}

/** Asserts the scanner's answer for `xml` is the general reader's values, and parseOttBody agrees with it. */
function assertSameAsTree(xml: string, mustScan: boolean | undefined): void {
  const scanned = scanSendData(xml);
  const tree = parseOttTree("senddata", xml);
  if (mustScan === true) assert.ok(scanned, `the scanner should vouch for ${JSON.stringify(xml)}`);
  if (mustScan === false) assert.equal(scanned, undefined, `the scanner should leave ${JSON.stringify(xml)} alone`);
  if (scanned) {
    assert.ok(tree.ok, `scanner accepted what the general reader refuses (${!tree.ok && tree.error})`);
    assert.deepEqual(scanned, tree.value.values);
  }
  assert.deepEqual(parseOttBody("senddata", xml), tree);
}

const station = (body: string, attributes = 'stationId="7"') =>
  `<StationDataList><StationData ${attributes}>${body}</StationData></StationDataList>`;
const channel = (values: string, attributes = 'channelId="1"') =>
  station(`<ChannelData ${attributes}><Values>${values}</Values></ChannelData>`);

Deno.test("the scanner reads every fixture and its 8 KB bench variant exactly as the general reader", () => {
  const extra = Array.from({ length: 159 }, (_, i) => {
    const t = new Date(Date.parse("2024-03-05T10:45:00Z") + i * 900_000).toISOString().slice(0, 19);
    return `        <VT t="${t}">${(0.85 + (i % 50) / 1000).toFixed(3)}</VT>\n`;
  }).join("");
  const benchBody = fixture.replace("      </Values>", `${extra}      </Values>`);
  for (const xml of [fixture, benchBody, fixture.replaceAll("\n", "\r\n")]) assertSameAsTree(xml, true);
  assert.equal(scanSendData(benchBody)?.length, 165);
});

Deno.test("the scanner vouches for the usual variations of well-formed transmissions", () => {
  const accepted = [
    channel(`<VT t='2024-01-01T00:00:00'>1</VT>`),
    channel(`<VT t="2024-01-01T00:00:00"/><VT t="2024-01-01T00:15:00" />`),
    channel(`<VT   t = "2024-01-01T00:00:00"\n errorcode="3"  errortext="a > b">  -1.5e3  </VT >`),
    channel(`<VT t="2024-01-01T00:00:00.25">\u00a0x\u00a0</VT>`),
    channel(`<VT t="2024-01-01T00:00:00">1</VT>`, 'channelId="1" name="Wasser" unit="°C"'),
    station(`<ChannelData channelId="1"/>`, 'stationId="7" timezone="-05:30"'),
    station("", 'stationId="7" timezone=""'),
    station(
      `<Note x="1"><VT t="never">not a value</VT></Note><ChannelData channelId="2"><VT t="nor this"/></ChannelData>`,
    ),
    `<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n${channel(`<VT t="2024-01-01T00:00:00">1</VT>`)}\n`,
    channel(`<VT t="2024-01-01T00:00:00">1</VT>`).replace("<StationData ", '<StationData stationId="6"/><StationData '),
  ];
  for (const xml of accepted) assertSameAsTree(xml, true);
});

Deno.test("anything outside the scanner's subset goes to the general reader, with the same outcome", () => {
  const value = (text: string) => channel(`<VT t="2024-01-01T00:00:00">${text}</VT>`);
  const leftAlone = [
    value("1&amp;2"),
    value("&#49;"),
    value("<![CDATA[1]]>"),
    value("1<!-- note -->"),
    value("1\r2"),
    value("a]]>b"),
    value("<b>1</b>"),
    value("\u0001"),
    channel(`<VT t="2024-01-01T00:00:00" errortext="a\tb">1</VT>`),
    channel(`<VT t="2024-01-01T00:00:00" errortext="a &amp; b">1</VT>`),
    channel(`<VT t="2024-01-01T00:00:00" t="2024-01-01T00:00:00">1</VT>`),
    channel(`<VT t="2024-01-01T00:00:00"errorcode="1">1</VT>`),
    channel(`<VT t=2024-01-01T00:00:00>1</VT>`),
    channel(`<ns:VT t="2024-01-01T00:00:00">1</ns:VT>`),
    `<?xml version="1.1"?>${value("1")}`,
    `<?xml-stylesheet href="a"?>${value("1")}`,
    `<!DOCTYPE StationDataList>${value("1")}`,
    ` <?xml version="1.0"?>${value("1")}`,
    `\ufeff${value("1")}`,
    `${value("1")}x`,
    `${value("1")}<StationDataList/>`,
    station(`<ChannelData channelId="1"><Values><VT t="2024-01-01T00:00:00">1</Values></ChannelData>`),
    value("1").slice(0, -1),
    "",
    "<Other/>",
    "<StationDataList/>",
    station("", 'name="no id"'),
    station("", 'stationId="7" timezone="CET"'),
    station(`<ChannelData name="no id"/>`),
    channel(`<VT t="2024-02-30T00:00:00">1</VT>`),
    channel(`<VT>1</VT>`),
  ];
  for (const xml of leftAlone) assertSameAsTree(xml, false);
});

Deno.test("mutated fixtures: the scanner never accepts what the general reader would read differently", () => {
  const pieces = fc.constantFrom(
    "<",
    ">",
    "/",
    "=",
    '"',
    "'",
    " ",
    "\r",
    "\t",
    "\n",
    "\u0000",
    "\u00e9",
    "\ufffe",
    "\ud800",
    ":",
    "?",
    "!",
    "-",
    "]]>",
    "&amp;",
    "&#x41;",
    "<!-- c -->",
    "<![CDATA[1]]>",
    "x",
    "1",
    "Z",
    "T",
    "+01:00",
    "</VT>",
    "</Values>",
    "<Values>",
    ' a="1"',
    ' t="2024-01-01T00:00:00"',
    '<VT t="2024-03-05T10:00:00">2</VT>',
    "<StationData>",
  );
  const edit = fc.record({
    at: fc.nat(fixture.length),
    cut: fc.nat(4),
    insert: fc.array(pieces, { maxLength: 2 }).map((parts) => parts.join("")),
  });
  let scanned = 0;
  fc.assert(
    fc.property(fc.array(edit, { minLength: 1, maxLength: 3 }), (edits) => {
      let xml = fixture;
      for (const { at, cut, insert } of edits) xml = xml.slice(0, at) + insert + xml.slice(at + cut);
      if (scanSendData(xml)) scanned++;
      assertSameAsTree(xml, undefined);
    }),
    { numRuns: 5000, seed: 20261124 },
  );
  // The property only means something if a fair share of the mutants were the scanner's to accept.
  assert.ok(scanned > 300, `only ${scanned} of 5000 mutants were scanned`);
});
