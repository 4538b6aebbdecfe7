/**
 * The meter socket (default port 38981): NDJSON packets from CC3220S power
 * meters; `Thank you` after each packet, sent only once it is committed.
 */
import { getLogger } from "@logtape/logtape";
import { METER_ACK, parseMeterPacket } from "../domain/meter.ts";
import { type MeterStore, type StoredMeterReading, UnknownPubError } from "../storage/types.ts";
import { serveLines } from "./line_protocol.ts";
import type { ConnectionHandler } from "./listener.ts";
import { countIngest } from "../metrics/ingest.ts";

const log = getLogger(["fieldgate", "meter"]);
const MAX_IN_FLIGHT = 64;

/** What the meter handler needs. */
export interface MeterHandlerOptions {
  store: MeterStore;
  /** Register unknown pub ids (dev default) or refuse their packets with an error line. */
  unknownPub: "register" | "reject";
  /** Called after each reading is durable (live feeds); must not throw. */
  onStored?: (reading: StoredMeterReading) => void;
}

/** The connection handler for the meter socket. */
export function meterHandler(options: MeterHandlerOptions): ConnectionHandler {
  const registerPub = options.unknownPub === "register";
  return (connection) =>
    serveLines(connection, async (line) => {
      const parsed = parseMeterPacket(line, new Date());
      if (!parsed.ok) return `error: ${parsed.error}`;
      try {
        const id = await options.store.append(parsed.value, { registerPub });
        countIngest("meter");
        options.onStored?.({ ...parsed.value, id });
        return METER_ACK;
      } catch (error) {
        if (error instanceof UnknownPubError) {
          return `error: unknown pub id ${error.pubId}: provision the device first`;
        }
        log.error("reading from {remote} not stored: {error}", { remote: connection.remoteAddr, error: String(error) });
        return "error: reading not stored (storage unavailable); send it again later";
      }
    }, MAX_IN_FLIGHT);
}
