/**
 * The CMX ceiling: a bare `Deno.serve` HTTPS handler that parses each
 * notification batch as JSON and answers 200 with fieldgate's reply shape,
 * storing nothing. No routing, login, validation, distance or database, so
 * nothing fieldgate adds can be faster than this.
 *
 * `deno run -A bench/peers/ceiling_cmx.ts --cert-file PEM --key-file PEM`
 * prints `{"port":N}` once it listens on 127.0.0.1.
 */
import { parseArgs } from "node:util";
import { serveHttpsPeer } from "./serve_https.ts";

const { values } = parseArgs({ options: { "cert-file": { type: "string" }, "key-file": { type: "string" } } });

await serveHttpsPeer(values["cert-file"]!, values["key-file"]!, async (request) => {
  let notifications: unknown;
  try {
    notifications = JSON.parse(await request.text())?.notifications;
  } catch {
    return Response.json({ error: "body is not JSON" }, { status: 400 });
  }
  if (!Array.isArray(notifications)) return Response.json({ error: 'no "notifications" array' }, { status: 400 });
  return Response.json({ accepted: notifications.length, rejected: [] });
});
