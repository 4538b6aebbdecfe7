/**
 * The OTT ceiling: a bare `Deno.serve` HTTPS handler that stores each body the
 * way fieldgate does (fieldgate's own blob store: temp file, fsync, link, directory
 * fsync, under the same file name) and answers the same XML. No routing, login,
 * parsing or database, so nothing fieldgate adds can be faster than this.
 *
 * `deno run -A bench/peers/ceiling_ott.ts --data-dir DIR --cert-file PEM --key-file PEM`
 * prints `{"port":N}` once it listens on 127.0.0.1.
 */
import { parseArgs } from "node:util";
import { ottResponseXml } from "../../domain/ott.ts";
import { ottFileName } from "../../domain/ott_files.ts";
import { FileBlobStore } from "../../storage/blob_fs.ts";
import { serveHttpsPeer } from "./serve_https.ts";

const { values } = parseArgs({
  options: { "data-dir": { type: "string" }, "cert-file": { type: "string" }, "key-file": { type: "string" } },
});
const files = new FileBlobStore(values["data-dir"]!);

await serveHttpsPeer(values["cert-file"]!, values["key-file"]!, async (request) => {
  const stationId = new URL(request.url).searchParams.get("stationid") ?? "unknown";
  const body = new Uint8Array(await request.arrayBuffer());
  const receivedAt = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000));
  await files.writeNew((attempt) => ottFileName("senddata", stationId, receivedAt, attempt), body);
  return new Response(ottResponseXml(stationId, new Date()), {
    headers: { "content-type": "application/xml; charset=utf-8" },
  });
});
