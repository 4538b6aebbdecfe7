import assert from "node:assert/strict";
import { LineSplitter } from "../../tcp/lines.ts";

const encoder = new TextEncoder();
const bytes = (text: string) => encoder.encode(text);

Deno.test("lines split on \\n across chunk boundaries, \\r\\n and blank lines handled", () => {
  const splitter = new LineSplitter(100);
  assert.deepEqual(splitter.push(bytes('{"Id":')), []);
  assert.deepEqual(splitter.push(bytes('1}\n{"Id"')), ['{"Id":1}']);
  assert.deepEqual(splitter.push(bytes(":2}\r")), []);
  assert.deepEqual(splitter.push(bytes("\n\n \r\n\t\nthree\nfour\r\n")), ['{"Id":2}', "three", "four"]);
  assert.equal(splitter.end(), undefined);
});

Deno.test("a multi-byte character split between chunks decodes whole; invalid UTF-8 becomes U+FFFD", () => {
  const splitter = new LineSplitter(100);
  const euro = bytes("€\n");
  assert.deepEqual(splitter.push(euro.subarray(0, 1)), []);
  assert.deepEqual(splitter.push(euro.subarray(1)), ["€"]);
  assert.deepEqual(splitter.push(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d, 0x0a])), ["{\uFFFD\uFFFD}"]);
});

Deno.test("the last line without a newline is returned at end of stream", () => {
  const splitter = new LineSplitter(100);
  assert.deepEqual(splitter.push(bytes("one\ntwo")), ["one"]);
  assert.equal(splitter.end(), "two");
  const blank = new LineSplitter(100);
  blank.push(bytes("one\n  "));
  assert.equal(blank.end(), undefined);
});

Deno.test("the limit counts the line without its \\r\\n, also when \\r and \\n arrive apart", () => {
  const exact = new LineSplitter(5);
  assert.deepEqual(exact.push(bytes("12345\r")), []);
  assert.deepEqual(exact.push(bytes("\n12345\n")), ["12345", "12345"]);
  assert.equal(exact.overflowed, false);

  const over = new LineSplitter(5);
  assert.deepEqual(over.push(bytes("ok\n123456\nnever\n")), ["ok"]);
  assert.equal(over.overflowed, true);
  assert.deepEqual(over.push(bytes("more\n")), [], "nothing after the long line");
  assert.equal(over.end(), undefined);

  const split = new LineSplitter(5);
  assert.deepEqual(split.push(bytes("1234")), []);
  assert.deepEqual(split.push(bytes("56\n")), []);
  assert.equal(split.overflowed, true);

  const atEnd = new LineSplitter(5);
  atEnd.push(bytes("12345\r"));
  assert.equal(atEnd.end(), "12345");
  const tooLongAtEnd = new LineSplitter(5);
  tooLongAtEnd.push(bytes("123456"));
  assert.equal(tooLongAtEnd.end(), undefined);
  assert.equal(tooLongAtEnd.overflowed, true);
});

Deno.test("a 1 MB line never makes the splitter hold more than the limit", () => {
  const limit = 4096;
  const splitter = new LineSplitter(limit);
  const chunk = new Uint8Array(4096).fill(0x61);
  assert.deepEqual(splitter.push(bytes("first\n")), ["first"]);
  let most = 0;
  for (let sent = 0; sent < 1024 * 1024; sent += chunk.length) {
    assert.deepEqual(splitter.push(chunk), []);
    most = Math.max(most, splitter.bufferedBytes);
  }
  assert.ok(most <= limit + 1, `held ${most} bytes`);
  assert.equal(splitter.overflowed, true);
  assert.equal(splitter.bufferedBytes, 0);
});

Deno.test("the splitter copies what it keeps, so the caller may reuse its read buffer", () => {
  const splitter = new LineSplitter(100);
  const buffer = bytes("abc");
  splitter.push(buffer);
  buffer.set(bytes("xyz"));
  assert.deepEqual(splitter.push(bytes("\n")), ["abc"]);
});
