/**
 * The meter ceiling on node:tls: the same server as ceiling_meter.ts (answers
 * `Thank you` to every line, stores nothing) but on the stack fieldgate's device
 * listener uses, `net.createServer` + the handshake of tcp/handshake.ts, so the
 * two ceilings show what node:tls itself costs.
 *
 * `deno run -A bench/peers/ceiling_meter_node.ts --cert-file PEM --key-file PEM`
 * prints `{"port":N}` once it listens on 127.0.0.1.
 */
import net from "node:net";
import type tls from "node:tls";
import { parseArgs } from "node:util";
import { secureContext, tlsHandshake } from "../../tcp/handshake.ts";

const NEWLINE = 0x0a;
const ACK = new TextEncoder().encode("Thank you\n");

const { values } = parseArgs({ options: { "cert-file": { type: "string" }, "key-file": { type: "string" } } });
const context = secureContext({
  cert: await Deno.readTextFile(values["cert-file"]!),
  key: await Deno.readTextFile(values["key-file"]!),
});
const server = net.createServer({ allowHalfOpen: true }, serve);
server.listen({ host: "127.0.0.1", port: 0 }, () => {
  console.log(JSON.stringify({ port: (server.address() as net.AddressInfo).port }));
});

function serve(tcp: net.Socket): void {
  tcp.setNoDelay(true);
  // A failed handshake ends only this connection.
  tlsHandshake(tcp, context).then(echo, () => tcp.destroy());
}

/** One `Thank you` per newline received, written in one go per chunk. */
function echo(secure: tls.TLSSocket): void {
  // A reset ends only this connection.
  secure.on("error", () => secure.destroy());
  secure.on("end", () => secure.end());
  secure.on("data", (chunk: Uint8Array) => {
    let lines = 0;
    for (let i = 0; i < chunk.length; i++) if (chunk[i] === NEWLINE) lines++;
    if (lines === 0) return;
    const reply = new Uint8Array(ACK.length * lines);
    for (let i = 0; i < lines; i++) reply.set(ACK, i * ACK.length);
    secure.write(reply);
  });
}
