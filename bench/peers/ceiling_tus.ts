/**
 * The tus client ceiling: a bare `Deno.serve` HTTPS handler that speaks just
 * enough tus (POST creates, PATCH answers the new offset) and reads and
 * discards every PATCH body, into one reused buffer (a BYOB reader, as
 * fieldgate reads), so neither its memory nor its speed suffers from a fresh
 * array per 16 KiB piece. No disk, routing or database: the rate a client
 * reaches here is the most it can send over this TLS stack, whoever receives.
 *
 * `deno run -A bench/peers/ceiling_tus.ts --cert-file PEM --key-file PEM`
 * prints `{"port":N}` once it listens on 127.0.0.1.
 */
import { parseArgs } from "node:util";
import { serveHttpsPeer } from "./serve_https.ts";

const { values } = parseArgs({ options: { "cert-file": { type: "string" }, "key-file": { type: "string" } } });
const TUS_HEADERS = { "Tus-Resumable": "1.0.0" };
const offsets = new Map<string, number>();

await serveHttpsPeer(values["cert-file"]!, values["key-file"]!, async (request) => {
  if (request.method === "POST") {
    const id = crypto.randomUUID();
    offsets.set(id, 0);
    return new Response(null, { status: 201, headers: { ...TUS_HEADERS, Location: `/files/${id}` } });
  }
  const id = new URL(request.url).pathname.split("/").at(-1)!;
  let offset = offsets.get(id) ?? 0;
  if (request.method === "PATCH" && request.body) {
    const reader = request.body.getReader({ mode: "byob" });
    let buffer: ArrayBufferLike = new ArrayBuffer(64 * 1024);
    for (;;) {
      const next: ReadableStreamReadResult<Uint8Array> = await reader.read(new Uint8Array(buffer));
      if (next.done) break;
      offset += next.value.length;
      buffer = next.value.buffer;
    }
    offsets.set(id, offset);
  }
  return new Response(null, { status: 204, headers: { ...TUS_HEADERS, "Upload-Offset": String(offset) } });
});
