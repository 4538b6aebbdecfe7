/**
 * Session lifetimes with a controlled clock, on a real SQLite store: idle
 * expiry, absolute expiry however active, and deactivated accounts.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Hono } from "hono";
import { Sessions } from "../../auth/sessions.ts";
import { openSqliteStore } from "../../storage/sqlite/store.ts";
import type { Account } from "../../storage/account_types.ts";

const MINUTE = 60_000;

Deno.test("sessions end after the idle time and, however active, after the maximum time", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fieldgate-sessions-" });
  const store = await openSqliteStore(join(dir, "fieldgate.sqlite"), { maxDelayMs: 2, maxBatch: 10 });
  try {
    let now = Date.UTC(2026, 10, 23, 8, 0);
    const sessions = new Sessions(store.accounts, { sessionIdleMinutes: 30, sessionMaxHours: 2 }, () => now);
    const account: Account = {
      id: crypto.randomUUID(),
      email: "ida@example.org",
      username: "ida",
      passwordHash: "$2y$10$" + "a".repeat(53),
      activated: true,
      disabled: false,
      admin: false,
      createdAt: new Date(now),
    };
    await store.accounts.create(account);
    const app = new Hono();
    app.post("/start", async (c) => {
      await sessions.start(c, account);
      return c.body(null, 204);
    });
    app.get("/who", async (c) => c.text((await sessions.account(c))?.username ?? "nobody"));
    const logIn = async () => {
      const cookie = (await app.request("/start", { method: "POST" })).headers.get("set-cookie")!;
      assert.match(
        cookie,
        /^__Host-fieldgate-session=[A-Za-z0-9_-]{43}; Max-Age=7200; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
      );
      return cookie.split(";")[0];
    };
    const who = async (cookie: string) => await (await app.request("/who", { headers: { cookie } })).text();

    const idle = await logIn();
    now += 29 * MINUTE;
    assert.equal(await who(idle), "ida");
    now += 29 * MINUTE;
    assert.equal(await who(idle), "ida", "each request restarts the idle time");
    now += 31 * MINUTE;
    assert.equal(await who(idle), "nobody", "idle for longer than 30 minutes");
    assert.equal(await who(idle), "nobody", "and it stays ended");

    const busy = await logIn();
    for (let i = 0; i < 7; i++) {
      now += 20 * MINUTE;
      assert.equal(await who(busy), i < 5 ? "ida" : "nobody", `after ${(i + 1) * 20} minutes`);
    }

    const later = await logIn();
    assert.equal(await who("__Host-fieldgate-session=forged"), "nobody");
    await store.accounts.update(account.id, { disabled: true });
    assert.equal(await who(later), "nobody", "a deactivated account has no session");
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
