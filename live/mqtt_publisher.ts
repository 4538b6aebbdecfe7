/**
 * Publishes every stored reading to an MQTT broker as
 * `fieldgate/meters/<pubId>` (JSON, QoS 0). The feed is best effort: while the
 * broker is away readings are not queued (they are safe in the database), and
 * the client reconnects by itself.
 */
import { getLogger } from "@logtape/logtape";
import { readingRecord } from "../domain/meter.ts";
import type { ReadingFeed } from "./reading_feed.ts";

const log = getLogger(["fieldgate", "mqtt"]);

/** A running publisher; `close()` unsubscribes and disconnects. */
export interface MqttPublisher {
  close(): Promise<void>;
}

/** Connects to `url` and forwards `feed` to it (the MQTT client library is loaded only then). */
export async function startMqttPublisher(url: string, feed: ReadingFeed): Promise<MqttPublisher> {
  const { default: mqtt } = await import("mqtt");
  const client = mqtt.connect(url, { queueQoSZero: false, reconnectPeriod: 2000, connectTimeout: 5000 });
  let connected = false;
  client.on("connect", () => {
    connected = true;
    log.info("MQTT live feed connected to {url}", { url: redact(url) });
  });
  client.on("close", () => {
    if (connected) log.warn("MQTT live feed lost {url}; reconnecting", { url: redact(url) });
    connected = false;
  });
  client.on("error", (error) => log.warn("MQTT live feed error: {error}", { error: error.message }));
  const unsubscribe = feed.subscribe((reading) => {
    if (connected) {
      client.publish(`fieldgate/meters/${reading.pubId}`, JSON.stringify(readingRecord(reading)), { qos: 0 });
    }
  });
  return {
    async close() {
      unsubscribe();
      await client.endAsync();
    },
  };
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = "***";
  return parsed.toString();
}
