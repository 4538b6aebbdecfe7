/**
 * The CMX ceiling: a bare `Deno.serve` HTTPS handler that parses each
 * notification batch as JSON and answers 200 with fieldgate's reply shape,
 * storing nothing. No routing, login, validation, distance or database, so
 * nothing fieldgate adds can be faster than this. `/live/leaderboard` and
 * `/live/username_data` parse the request and answer a fixed reply of the
 * size fieldgate's has for the bench's requests (10 leaders; one device
 * with 5 days), written in one TCP write as fieldgate's are.
 *
 * `deno run -A bench/peers/ceiling_cmx.ts --cert-file PEM --key-file PEM`
 * prints `{"port":N}` once it listens on 127.0.0.1.
 */
import { parseArgs } from "node:util";
import { oneWriteBody } from "../../routes/one_write_body.ts";
import { serveHttpsPeer } from "./serve_https.ts";

const { values } = parseArgs({ options: { "cert-file": { type: "string" }, "key-file": { type: "string" } } });

const kmMiles = { kilometres: 123.456, miles: 76.712 };
const LIVE_ANSWERS: Record<string, string> = {
  "/live/leaderboard": JSON.stringify({
    leaders: Array.from({ length: 10 }, (_, i) => ({ ...kmMiles, place: i + 1, username: `walker${10_000 + i}` })),
    total_kilometres: 1_234_567.8,
    total_miles: 767_123.4,
  }),
  "/live/username_data": JSON.stringify([{
    distance_day: Array.from({ length: 5 }, (_, i) => ({ date: `11/2${i}/2026`, km: 12.345, miles: 7.671 })),
    mac: "00:00:5e:00:12:34",
    place: 12_345,
    total_kilometres: 1_234.567,
    total_miles: 767.123,
    username: "walker12345",
  }]),
};

await serveHttpsPeer(values["cert-file"]!, values["key-file"]!, async (request) => {
  const live = LIVE_ANSWERS[new URL(request.url).pathname];
  if (live) {
    await request.json();
    return new Response(oneWriteBody(live), { headers: { "content-type": "application/json" } });
  }
  let notifications: unknown;
  try {
    notifications = JSON.parse(await request.text())?.notifications;
  } catch {
    return Response.json({ error: "body is not JSON" }, { status: 400 });
  }
  if (!Array.isArray(notifications)) return Response.json({ error: 'no "notifications" array' }, { status: 400 });
  return Response.json({ accepted: notifications.length, rejected: [] });
});
