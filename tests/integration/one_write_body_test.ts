import assert from "node:assert/strict";
import { join } from "node:path";
import { ensureDevCertificate } from "../../certs/dev_cert.ts";
import { oneWriteBody } from "../../routes/one_write_body.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Reads one chunked HTTP/1.1 response (the only kind a long oneWriteBody makes) off a keep-alive connection. */
async function readChunkedResponse(conn: Deno.Conn): Promise<string> {
  const buffer = new Uint8Array(64 * 1024);
  let text = "";
  while (!text.endsWith("\r\n0\r\n\r\n")) {
    const n = await conn.read(buffer);
    if (n === null) throw new Error(`connection closed after ${JSON.stringify(text)}`);
    text += decoder.decode(buffer.subarray(0, n));
  }
  return text;
}

Deno.test("oneWriteBody keeps short bodies fixed-length and streams long ones", async () => {
  assert.equal(oneWriteBody('{"accepted":1}'), '{"accepted":1}');
  const long = oneWriteBody("x".repeat(2000));
  assert.ok(long instanceof ReadableStream);
  assert.equal(await new Response(long).text(), "x".repeat(2000));
  // Counted in bytes: 100 two-byte characters are 200 bytes, still short.
  assert.equal(new TextDecoder().decode(oneWriteBody("é".repeat(100)) as Uint8Array), "é".repeat(100));
});

Deno.test("a long body reaches an HTTP/1.1 keep-alive client over TLS without waiting for a delayed ACK", async () => {
  const dir = await Deno.makeTempDir();
  const { certFile, keyFile } = await ensureDevCertificate(join(dir, "certs"), ["localhost", "127.0.0.1"]);
  const cert = await Deno.readTextFile(certFile);
  const body = JSON.stringify({
    leaders: Array.from({ length: 20 }, (_, i) => ({ place: i + 1, username: `walker${i}` })),
  });
  assert.ok(body.length > 500, "longer than what Deno writes together with the head anyway");
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, cert, key: await Deno.readTextFile(keyFile), onListen: () => {} },
    () => new Response(oneWriteBody(body), { headers: { "content-type": "application/json" } }),
  );
  const conn = await Deno.connectTls({ hostname: "127.0.0.1", port: server.addr.port, caCerts: [cert] });
  try {
    const milliseconds: number[] = [];
    for (let i = 0; i < 6; i++) {
      const started = performance.now();
      await conn.write(encoder.encode("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
      const response = await readChunkedResponse(conn);
      milliseconds.push(performance.now() - started);
      assert.ok(response.startsWith("HTTP/1.1 200"), response);
      assert.ok(response.includes(body), "the body arrives in one chunk");
    }
    // The first answer on a connection may still wait behind the TLS session ticket; the others must not
    // wait for Linux's 40 ms delayed ACK, as a fixed-length body of this size did (44 ms every time).
    const median = milliseconds.slice(1).sort((a, b) => a - b)[2];
    assert.ok(median < 20, `responses took ${milliseconds.map((ms) => ms.toFixed(1)).join(", ")} ms`);
  } finally {
    conn.close();
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
