/**
 * kill -9 while 20 CMX clients post movement batches: after a restart,
 * every batch that got its 200 is reflected in the stored state of its
 * devices (last sighting and distance), and the counters hold at least every
 * acknowledged notification.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { crashRounds } from "../helpers/crash_rounds.ts";
import { writeUsersFile } from "../helpers/server.ts";
import { eastwardStep, WALK_STEP_FEET, WALK_T0 } from "../helpers/cmx_client.ts";

const CLIENTS = 20;
const DEVICES_PER_CLIENT = 5;
const USER = "cmx";
const PASSWORD = "crash test secret";

Deno.test("kill -9 under CMX notification load loses no acknowledged batch", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "fieldgate-cmx-crash-" });
  await writeUsersFile(dataDir);
  // spawnServer passes the parent's environment on to main.ts, which reads FIELDGATE_*.
  Deno.env.set("FIELDGATE_CMX_NOTIFICATION_USER", USER);
  Deno.env.set("FIELDGATE_CMX_NOTIFICATION_PASSWORD", PASSWORD);
  const caCerts = () => [Deno.readTextFileSync(join(dataDir, "certs", "dev-cert.pem"))];
  /**
   * Per device: the last acknowledged step and how many steps were acknowledged (each client walks its
   * devices straight east, one step per post; a step lost with a crash was never acknowledged).
   */
  const acknowledged = new Map<string, { last: number; count: number }>();
  const sent = new Map<string, number>();
  let acknowledgedNotifications = 0;
  try {
    await crashRounds(
      dataDir,
      3,
      ({ server, killed, acknowledged: ack }) =>
        Array.from({ length: CLIENTS }, async (_, client) => {
          const client_ = Deno.createHttpClient({ caCerts: caCerts() });
          const macs = Array.from({ length: DEVICES_PER_CLIENT }, (_, d) => `00:00:00:00:${hex(client)}:${hex(d)}`);
          try {
            while (!killed()) {
              // The next step continues after the last one ever sent: an unacknowledged one may have committed.
              const step = sent.get(macs[0]) ?? 0;
              for (const mac of macs) sent.set(mac, step + 1);
              const notifications = macs.map((mac) => eastwardStep(mac, step));
              const response = await fetch(`${server.httpsUrl}/notification`, {
                method: "POST",
                body: JSON.stringify({ notifications }),
                headers: { authorization: `Basic ${btoa(`${USER}:${PASSWORD}`)}`, "content-type": "application/json" },
                client: client_,
              } as RequestInit);
              if (response.status !== 200) break;
              await response.body?.cancel();
              for (const mac of macs) {
                acknowledged.set(mac, { last: step, count: (acknowledged.get(mac)?.count ?? 0) + 1 });
              }
              acknowledgedNotifications += macs.length;
              ack();
            }
          } catch {
            // the server died under us: the post in flight was never acknowledged
          } finally {
            client_.close();
          }
        }),
    );
  } finally {
    Deno.env.delete("FIELDGATE_CMX_NOTIFICATION_USER");
    Deno.env.delete("FIELDGATE_CMX_NOTIFICATION_PASSWORD");
  }

  const db = new DatabaseSync(join(dataDir, "fieldgate.sqlite"), { readOnly: true });
  try {
    const rows = new Map(
      (db.prepare("SELECT mac, last_seen, metres FROM cmx_distance").all() as {
        mac: string;
        last_seen: number;
        metres: number;
      }[]).map((row) => [row.mac, row]),
    );
    assert.ok(acknowledged.size > 0, "some batches were acknowledged");
    for (const [mac, { last, count }] of acknowledged) {
      const row = rows.get(mac);
      assert.ok(row, `device ${mac} with ${count} acknowledged sightings is stored`);
      assert.ok(row.last_seen >= WALK_T0 + 60_000 * last, `${mac}: last acknowledged sighting is stored`);
      // A straight walk: every stored sighting after the second adds one step.
      const minimum = Math.max(0, count - 2) * WALK_STEP_FEET * 0.3048;
      assert.ok(row.metres >= minimum - 1e-6, `${mac}: ${row.metres} m ≥ ${minimum} m acknowledged`);
    }
    const { n } = db.prepare("SELECT sum(notification_count) AS n FROM cmx_counts").get() as { n: number };
    assert.ok(n >= acknowledgedNotifications, `${n} counted ≥ ${acknowledgedNotifications} acknowledged`);
  } finally {
    db.close();
  }
  await Deno.remove(dataDir, { recursive: true });
});

function hex(n: number): string {
  return n.toString(16).padStart(2, "0");
}
