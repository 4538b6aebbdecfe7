/**
 * Mixed device load for fault tests (database outage, disk full): OTT
 * loggers posting over HTTPS, meters and provisioned devices (confo) on their
 * TLS sockets, and CMX posting movement batches, each keeping going through
 * errors the way real devices do. Every item is unique, so afterwards {@link IntakeLoad.verify}
 * checks that each acknowledged one is stored exactly once.
 */
import assert from "node:assert/strict";
import type { RecordStore } from "../../storage/types.ts";
import { eastwardStep, WALK_STEP_FEET } from "./cmx_client.ts";
import { connectDevice } from "./device_client.ts";
import { ottTransmission, postTransmission, type SentTransmission } from "./ott_transmission.ts";
import type { ChildServer } from "./server.ts";

/** Notification credentials to start the server with (`--cmx-notification-user` …). */
export const CMX_NOTIFIER = { user: "cmx", password: "fault test secret" };

/** Flags that configure a spawned server for {@link startIntakeLoad}'s CMX clients. */
export const CMX_FLAGS = [
  "--cmx-notification-user",
  CMX_NOTIFIER.user,
  "--cmx-notification-password",
  CMX_NOTIFIER.password,
];

/** The three device protocols under load. */
export type Protocol = "ott" | "meter" | "confo" | "cmx";

/** One answer a client got: acknowledged or not, and when (Date.now()). */
export interface LoadEvent {
  protocol: Protocol;
  acknowledged: boolean;
  at: number;
}

/** `error` with the server's last log lines that are not 200s appended, to see why a fault test failed. */
export function withServerLog(error: unknown, server: ChildServer): Error {
  const log = server.output.filter((line) => !line.includes('" 200 ')).slice(-20).join("\n");
  return new Error(`${(error as Error).message}\nlast server log lines:\n${log}`, { cause: error });
}

/** Sends SIGTERM (unless the server already exited) and resolves with its exit code. */
export async function stopServer(server: ChildServer): Promise<number> {
  try {
    server.process.kill("SIGTERM");
  } catch {
    // Already exited: the exit code says how.
  }
  return (await server.exited).code;
}

/** A running load; `stop()` ends it and waits for every client. */
export interface IntakeLoad {
  events: LoadEvent[];
  /**
   * Waits until every protocol has an acknowledgement answered after `since`
   * (Date.now()) and returns how long that took from now; fails after `timeoutMs`.
   */
  untilAcknowledged(since: number, timeoutMs: number): Promise<number>;
  /** The answers of `protocol` given between `from` and `until`. */
  answers(protocol: Protocol, from: number, until: number): LoadEvent[];
  /** Acknowledged/refused counts per protocol before, during and after a fault, for the test log. */
  summary(faultFrom: number, faultUntil: number): string;
  stop(): Promise<void>;
  /** Asserts every acknowledged item is stored exactly once in `store` (and nothing never sent is). */
  verify(store: RecordStore): Promise<void>;
}

/** The three protocols, in report order. */
export const PROTOCOLS: readonly Protocol[] = ["ott", "meter", "confo", "cmx"];

const STEP_METRES = WALK_STEP_FEET * 0.3048;
/** Pause after a refusal, as a device backs off before resending. */
const RETRY_PAUSE_MS = 50;

/** Starts `counts` clients of each protocol against `server`, trusting `caFile`. */
export function startIntakeLoad(
  server: ChildServer,
  caFile: string,
  counts: { loggers: number; meters: number; confos: number; cmx: number },
): IntakeLoad {
  let running = true;
  let stopped: Promise<void> | undefined;
  let sequence = 0;
  const events: LoadEvent[] = [];
  const ackedOtt: SentTransmission[] = [];
  const ackedReadings = new Map<number, number>();
  const ackedConfos = new Map<number, string>();
  const walks = new Map<string, { acknowledged: number; lastSent: number }>();
  const client = Deno.createHttpClient({ caCerts: [Deno.readTextFileSync(caFile)] });
  const record = (protocol: Protocol, acknowledged: boolean) => events.push({ protocol, acknowledged, at: Date.now() });
  const pause = () => new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));

  const logger = async (station: string) => {
    while (running) {
      const item = ottTransmission(station, sequence++);
      const acknowledged = await postTransmission(server.httpsUrl, item, client);
      record("ott", acknowledged);
      if (acknowledged) ackedOtt.push(item);
      else await pause();
    }
  };

  /** A device on `port` sending `packet(n)` for each new number n; `acknowledged(n)` after each "Thank you". */
  const device = async (
    protocol: "meter" | "confo",
    port: number,
    packet: (n: number) => unknown,
    acknowledged: (n: number) => void,
  ) => {
    while (running) {
      try {
        using connection = await connectDevice(port, caFile);
        while (running) {
          const n = ++sequence;
          const reply = await connection.send(packet(n));
          record(protocol, reply === "Thank you");
          if (reply === "Thank you") acknowledged(n);
          else if (reply === "<EOF>") break;
          else await pause();
        }
      } catch {
        // The connection broke: the packet in flight was not acknowledged; reconnect.
        record(protocol, false);
        await pause();
      }
    }
  };
  const meter = (pubId: number) =>
    device("meter", server.meterPort, (voltage) => ({ Id: pubId, status: true, voltage, freq: 50 }), (voltage) => {
      ackedReadings.set(voltage, pubId);
    });
  const confo = (index: number) =>
    device(
      "confo",
      server.confoPort,
      (hash) => ({ deviceName: `fault-${index}-${hash}`, ssid: "lab", hash }),
      (hash) => {
        ackedConfos.set(hash, `fault-${index}-${hash}`);
      },
    );

  const cmx = async (mac: string) => {
    const walk = { acknowledged: 0, lastSent: -1 };
    walks.set(mac, walk);
    const headers = {
      authorization: `Basic ${btoa(`${CMX_NOTIFIER.user}:${CMX_NOTIFIER.password}`)}`,
      "content-type": "application/json",
    };
    while (running) {
      // Each post is the next step east; a refused step is not resent (a later one supersedes it).
      const step = ++walk.lastSent;
      const notifications = [eastwardStep(mac, step)];
      const init = { method: "POST", body: JSON.stringify({ notifications }), headers, client } as RequestInit;
      const status = await fetch(`${server.httpsUrl}/notification`, init).then(async (response) => {
        await response.body?.cancel();
        return response.status;
      }).catch(() => 0);
      record("cmx", status === 200);
      if (status === 200) walk.acknowledged++;
      else await pause();
    }
  };

  const clients = [
    ...Array.from({ length: counts.loggers }, (_, i) => logger(`F${i}`)),
    ...Array.from({ length: counts.meters }, (_, i) => meter(500 + i)),
    ...Array.from({ length: counts.confos }, (_, i) => confo(i)),
    ...Array.from({ length: counts.cmx }, (_, i) => cmx(`00:00:00:00:fa:${i.toString(16).padStart(2, "0")}`)),
  ];

  return {
    events,
    async untilAcknowledged(since, timeoutMs) {
      const start = Date.now();
      for (;;) {
        const missing = PROTOCOLS.filter((protocol) =>
          !events.some((event) => event.protocol === protocol && event.acknowledged && event.at > since)
        );
        if (missing.length === 0) return Date.now() - start;
        assert.ok(Date.now() - start < timeoutMs, `no acknowledgement within ${timeoutMs} ms for ${missing}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    answers: (protocol, from, until) =>
      events.filter((event) => event.protocol === protocol && event.at > from && event.at < until),
    summary(faultFrom, faultUntil) {
      const phase = (at: number) => at < faultFrom ? "before" : at < faultUntil ? "during" : "after";
      return PROTOCOLS.map((protocol) => {
        const counts = new Map<string, number>();
        for (const event of events.filter((e) => e.protocol === protocol)) {
          const key = `${phase(event.at)} ${event.acknowledged ? "acknowledged" : "refused"}`;
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
        return `${protocol}: ${[...counts].map(([key, n]) => `${key} ${n}`).join(", ")}`;
      }).join("\n");
    },
    stop() {
      running = false;
      stopped ??= Promise.all(clients).then(() => client.close());
      return stopped;
    },
    async verify(store) {
      for (let i = 0; i < counts.loggers; i++) {
        const station = `F${i}`;
        const stored = new Map<string, number | null>();
        for await (const value of store.ott.values({ stationId: station })) {
          stored.set(value.time.toISOString().slice(0, 19), value.value);
        }
        for (const item of ackedOtt.filter((a) => a.station === station)) {
          assert.equal(stored.get(item.time), item.value, `acknowledged OTT value stored: ${station} ${item.time}`);
        }
      }

      const stored = new Map<number, number>();
      for (let i = 0; i < counts.meters; i++) {
        for await (const reading of store.meters.readings(500 + i, {})) {
          assert.ok(!stored.has(reading.voltage), `reading ${reading.voltage} stored once`);
          assert.ok(reading.voltage <= sequence, `reading ${reading.voltage} was sent`);
          stored.set(reading.voltage, reading.pubId);
        }
      }
      for (const [voltage, pubId] of ackedReadings) {
        assert.equal(stored.get(voltage), pubId, `acknowledged reading ${voltage} of pub ${pubId} is stored`);
      }

      for (const [hash, deviceName] of ackedConfos) {
        assert.equal((await store.confo.latest(deviceName, "lab"))?.hash, hash, `acknowledged confo ${deviceName}`);
      }

      for (const [mac, walk] of walks) {
        const metres = (await store.cmx.deviceDays(mac, 30)).reduce((sum, day) => sum + day.metres, 0);
        // A straight walk: every stored step after the second adds its length, a re-sent one adds nothing.
        const least = Math.max(0, walk.acknowledged - 2) * STEP_METRES;
        const most = Math.max(0, walk.lastSent - 1) * STEP_METRES;
        assert.ok(metres >= least - 1e-6, `${mac}: ${metres} m covers the ${walk.acknowledged} acknowledged steps`);
        assert.ok(metres <= most + 1e-6, `${mac}: ${metres} m counts no step twice (at most ${most} m sent)`);
      }
      assert.ok(
        ackedOtt.length > 0 && ackedReadings.size > 0 && ackedConfos.size > 0,
        "OTT, meters, confos acknowledged",
      );
      assert.ok([...walks.values()].some((walk) => walk.acknowledged > 0), "CMX posts were acknowledged");
    },
  };
}
