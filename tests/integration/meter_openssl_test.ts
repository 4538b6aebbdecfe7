import assert from "node:assert/strict";
import { createTestDatabase } from "../helpers/postgres.ts";
import { basicAuth, startTestServer, type TestServer } from "../helpers/server.ts";

/**
 * One `openssl s_client` session: sends `input`, returns what the server answered.
 * `-quiet` keeps s_client open after its input ends, so the test servers close idle
 * connections after a second.
 */
async function opensslSession(server: TestServer, port: number, cipher: string, input: string): Promise<string> {
  const child = new Deno.Command("openssl", {
    args: [
      "s_client",
      "-connect",
      `127.0.0.1:${port}`,
      "-servername",
      "localhost",
      "-tls1_2",
      "-cipher",
      cipher,
      "-CAfile",
      server.caFile,
      "-verify_return_error",
      "-quiet",
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(input));
  await writer.close();
  const output = await child.output();
  return new TextDecoder().decode(output.stdout);
}

Deno.test("openssl s_client with a CC3220S-like profile (TLS 1.2, ECDHE-RSA-AES256-GCM-SHA384) gets Thank you", async () => {
  await using server = await startTestServer({ tcp: { idleTimeoutSeconds: 1 } });
  const answer = await opensslSession(
    server,
    server.meterPort!,
    "ECDHE-RSA-AES256-GCM-SHA384",
    `{"Id":4242,"status":false,"voltage":0.5,"freq":49.9}\n{"Id":4242,"status":true,"voltage":1,"freq":50}\n`,
  );
  assert.equal(answer, "Thank you\nThank you\n");
  const meters = await (await server.fetch("/api/meters", { headers: basicAuth() })).json();
  assert.equal(meters[0].readings, 2);
});

Deno.test("on PostgreSQL the meter and confo sockets store and serve like on SQLite", async () => {
  const database = await createTestDatabase();
  try {
    await using server = await startTestServer({ databaseUrl: database.url, tcp: { idleTimeoutSeconds: 1 } });
    const readings = Array.from(
      { length: 50 },
      (_, i) => JSON.stringify({ Id: 77, status: true, voltage: i, freq: 50 }),
    );
    const answer = await opensslSession(
      server,
      server.meterPort!,
      "ECDHE-RSA-AES128-GCM-SHA256",
      readings.join("\n") + "\n",
    );
    assert.equal(answer, "Thank you\n".repeat(50));
    const csv = await (await server.fetch("/api/meters/77/readings?format=csv", { headers: basicAuth() })).text();
    assert.equal(csv.trimEnd().split("\r\n").length, 51);
    const confo = await opensslSession(
      server,
      server.confoPort!,
      "ECDHE-RSA-AES256-GCM-SHA384",
      `{"devicename":"pg","ssid":"s","hash":5}\n`,
    );
    assert.equal(confo, "Thank you\n");
    const latest = await (await server.fetch("/api/confo?deviceName=pg&ssid=s", { headers: basicAuth() })).json();
    assert.equal(latest.hash, 5);
  } finally {
    await database.drop();
  }
});
