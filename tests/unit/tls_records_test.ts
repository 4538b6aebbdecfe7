import assert from "node:assert/strict";
import { TlsRecordWatch } from "../../https/tls_records.ts";

/** A TLS record: type, version 3.3, 2-byte length, body. */
function record(type: number, bodyBytes: number): number[] {
  return [type, 3, 3, bodyBytes >> 8, bodyBytes & 0xff, ...new Array(bodyBytes).fill(0x17)];
}

Deno.test("the first application_data record is found however the stream is split", () => {
  // ClientHello (its body full of 0x17 bytes, which must not count), ChangeCipherSpec, then Finished as app data.
  const stream = new Uint8Array([...record(0x16, 300), ...record(0x14, 1), ...record(0x17, 40)]);
  const headerEnd = 5 + 300 + 5 + 1 + 5; // just past the application_data record's header
  for (let cut = 0; cut <= stream.length; cut++) {
    const watch = new TlsRecordWatch();
    assert.equal(watch.push(stream.subarray(0, cut)), cut >= headerEnd, `cut at ${cut}`);
    assert.equal(watch.push(stream.subarray(cut)), true, `cut at ${cut}`);
  }
  const byteByByte = new TlsRecordWatch();
  assert.equal([...stream].findIndex((byte) => byteByByte.push(new Uint8Array([byte]))), headerEnd - 1);
});

Deno.test("handshake records alone, or half a record header, are no application data", () => {
  const watch = new TlsRecordWatch();
  assert.equal(watch.push(new Uint8Array(record(0x16, 512))), false);
  assert.equal(watch.push(new Uint8Array([0x17, 0x03, 0x03])), false, "the type alone decides nothing yet");
  assert.equal(new TlsRecordWatch().push(new Uint8Array([0x16, 0x03, 0x01])), false);
});
