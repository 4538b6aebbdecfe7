/**
 * The confo socket (default port 38979): provisioned devices confirm
 * themselves; each confo is saved (in confo or cconfo) before the reply.
 */
import { getLogger } from "@logtape/logtape";
import { CONFO_ACK, decideConfo, parseConfoPacket } from "../domain/confo.ts";
import type { ConfoStore } from "../storage/types.ts";
import { serveLines } from "./line_protocol.ts";
import type { ConnectionHandler } from "./listener.ts";
import { countIngest } from "../metrics/ingest.ts";

const log = getLogger(["fieldgate", "confo"]);

/** The connection handler for the confo socket. */
export function confoHandler(store: ConfoStore): ConnectionHandler {
  return (connection) =>
    serveLines(connection, async (line) => {
      const receivedAt = new Date();
      const parsed = parseConfoPacket(line, receivedAt);
      if (!parsed.ok) return `error: ${parsed.error}`;
      const packet = parsed.value;
      try {
        const decision = await store.confirm(packet, receivedAt, (facts) => decideConfo(facts, packet.email !== null));
        const fields = { device: packet.deviceName, ssid: packet.ssid, remote: connection.remoteAddr, ...decision };
        if (decision.table === "cconfo") {
          log.warn("confo conflict for device {device} on {ssid}: saved in cconfo; the owner must rename it", fields);
        } else {
          log.info("confo from device {device} on {ssid} saved (pub: {pub})", fields);
        }
        countIngest("confo");
        return CONFO_ACK;
      } catch (error) {
        log.error("confo from {remote} not stored: {error}", { remote: connection.remoteAddr, error: String(error) });
        return "error: confirmation not stored (storage unavailable); send it again later";
      }
    }, 1);
}
