import assert from "node:assert/strict";
import { declaredEncoding, decodeXml } from "../../domain/xml_decode.ts";

const latin1Body = new Uint8Array([
  ...new TextEncoder().encode(`<?xml version="1.0" encoding="iso-8859-1"?><u>`),
  0xb0,
  0x43,
  0x80,
  ...new TextEncoder().encode("</u>"),
]);

Deno.test("ISO-8859-1 is decoded byte for byte, including 0x80-0x9F", () => {
  const decoded = decodeXml(latin1Body);
  assert.ok(decoded.ok);
  assert.ok(decoded.value.includes("°C\u0080"));
});

Deno.test("ISO-8859-1: every byte becomes the same code point, with or without bytes 0x80-0x9F in the body", () => {
  const head = new TextEncoder().encode(`<?xml version="1.0" encoding="iso-8859-1"?>`);
  const everyByte = Uint8Array.from({ length: 256 }, (_, byte) => byte);
  const withoutC1 = everyByte.filter((byte) => byte < 0x80 || byte >= 0xa0);
  for (const bytes of [everyByte, withoutC1]) {
    const decoded = decodeXml(new Uint8Array([...head, ...bytes]));
    assert.ok(decoded.ok);
    assert.equal(decoded.value.slice(head.length), String.fromCharCode(...bytes));
  }
});

Deno.test("without a declaration the body is UTF-8, and invalid UTF-8 is refused", () => {
  assert.equal(declaredEncoding(new TextEncoder().encode("<a/>")), "utf-8");
  const decoded = decodeXml(new TextEncoder().encode("<u>°C</u>"));
  assert.ok(decoded.ok && decoded.value === "<u>°C</u>");
  const invalid = decodeXml(new Uint8Array([0x3c, 0x75, 0x3e, 0xff, 0x3c, 0x2f, 0x75, 0x3e]));
  assert.ok(!invalid.ok && /not valid utf-8/.test(invalid.error));
});

Deno.test("an unknown declared encoding is refused with advice", () => {
  const decoded = decodeXml(new TextEncoder().encode(`<?xml version="1.0" encoding="x-klingon"?><a/>`));
  assert.ok(!decoded.ok && /unsupported XML encoding "x-klingon"/.test(decoded.error));
});
