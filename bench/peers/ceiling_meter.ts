/**
 * The meter ceiling: a plain Deno TLS server that answers `Thank you` to every
 * line and stores nothing — what the socket alone costs.
 *
 * `deno run -A bench/peers/ceiling_meter.ts --cert-file PEM --key-file PEM`
 * prints `{"port":N}` once it listens on 127.0.0.1.
 */
import { parseArgs } from "node:util";

const NEWLINE = 0x0a;
const ACK = new TextEncoder().encode("Thank you\n");

const { values } = parseArgs({ options: { "cert-file": { type: "string" }, "key-file": { type: "string" } } });
const listener = Deno.listenTls({
  hostname: "127.0.0.1",
  port: 0,
  cert: await Deno.readTextFile(values["cert-file"]!),
  key: await Deno.readTextFile(values["key-file"]!),
});
console.log(JSON.stringify({ port: listener.addr.port }));

for await (const conn of listener) serve(conn);

/** One `Thank you` per newline received, written in one go per read. */
async function serve(conn: Deno.TlsConn): Promise<void> {
  const buffer = new Uint8Array(16 * 1024);
  try {
    for (let n = await conn.read(buffer); n !== null; n = await conn.read(buffer)) {
      let lines = 0;
      for (let i = 0; i < n; i++) if (buffer[i] === NEWLINE) lines++;
      if (lines === 0) continue;
      const reply = new Uint8Array(ACK.length * lines);
      for (let i = 0; i < lines; i++) reply.set(ACK, i * ACK.length);
      for (let written = 0; written < reply.length;) written += await conn.write(reply.subarray(written));
    }
  } catch {
    // A reset or failed handshake ends only this connection.
  } finally {
    conn.close();
  }
}
