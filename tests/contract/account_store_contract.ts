/**
 * The accounts part of the record store contract: unique emails and
 * usernames, updates, single-use expiring tokens and sessions.
 */
import assert from "node:assert/strict";
import { type Account, AccountConflictError } from "../../storage/account_types.ts";
import { contractCases, type ContractDatabase } from "./harness.ts";

const BASE_TIME = Date.UTC(2026, 10, 23, 10, 0, 0, 123);
const minutes = (n: number) => new Date(BASE_TIME + n * 60_000);

function account(username: string, overrides: Partial<Account> = {}): Account {
  return {
    id: crypto.randomUUID(),
    email: `${username.toLowerCase()}@example.org`,
    username,
    passwordHash: "$2y$10$" + "a".repeat(53),
    activated: false,
    disabled: false,
    admin: false,
    createdAt: minutes(0),
    ...overrides,
  };
}

/** Registers the account contract cases for one adapter, named `<name> contract: accounts: …`. */
export function accountStoreContract(name: string, freshDatabase: () => Promise<ContractDatabase>): void {
  const contractCase = contractCases(name, freshDatabase);

  contractCase("accounts: round-trip, lookups and list oldest first", async (open) => {
    const { accounts } = await open();
    const alice = account("alice", { activated: true, admin: true, createdAt: minutes(1) });
    const bob = account("Bob", { createdAt: minutes(0) });
    await accounts.create(alice);
    await accounts.create(bob);
    assert.deepEqual(await accounts.byId(alice.id), alice);
    assert.deepEqual(await accounts.byUsername("Bob"), bob);
    assert.equal(await accounts.byUsername("bob"), null, "lookups are exact; only uniqueness ignores case");
    assert.deepEqual(await accounts.byEmail("bob@example.org"), bob);
    assert.equal(await accounts.byId(crypto.randomUUID()), null);
    assert.deepEqual(await accounts.list(), [bob, alice]);
  });

  contractCase("accounts: a taken email or username (in any case) is a conflict naming the field", async (open) => {
    const { accounts } = await open();
    await accounts.create(account("alice"));
    await assert.rejects(
      accounts.create(account("other", { email: "alice@example.org" })),
      (error) => error instanceof AccountConflictError && error.field === "email",
    );
    await assert.rejects(
      accounts.create(account("ALICE", { email: "second@example.org" })),
      (error) => error instanceof AccountConflictError && error.field === "username",
    );
    assert.equal((await accounts.list()).length, 1);
  });

  contractCase("accounts: updates change only the given fields; admins count while they may log in", async (open) => {
    const { accounts } = await open();
    const carol = account("carol");
    await accounts.create(carol);
    assert.equal(await accounts.adminExists(), false);
    assert.equal(await accounts.update(carol.id, { admin: true }), true);
    assert.equal(await accounts.adminExists(), false, "an inactive admin cannot log in, so it does not count");
    assert.equal(await accounts.update(carol.id, { activated: true, passwordHash: "$2y$10$" + "b".repeat(53) }), true);
    assert.deepEqual(await accounts.byId(carol.id), {
      ...carol,
      activated: true,
      admin: true,
      passwordHash: "$2y$10$" + "b".repeat(53),
    });
    assert.equal(await accounts.adminExists(), true);
    assert.equal(await accounts.update(carol.id, { disabled: true }), true);
    assert.equal((await accounts.byId(carol.id))?.disabled, true);
    assert.equal(await accounts.adminExists(), false, "a deactivated admin does not count either");
    assert.equal(await accounts.update(crypto.randomUUID(), { admin: true }), false);
    assert.equal(await accounts.update(carol.id, {}), true);
  });

  contractCase(
    "accounts: tokens are single-use, expire, keep their purpose and only the newest counts",
    async (open) => {
      const { accounts } = await open();
      const dave = account("dave");
      await accounts.create(dave);
      const token = (hash: string, purpose: "activation" | "reset", expiresAt = minutes(60)) => ({
        hash,
        accountId: dave.id,
        purpose,
        expiresAt,
      });
      await accounts.addToken(token("a1", "activation"));
      await accounts.addToken(token("r1", "reset"));
      assert.equal(await accounts.takeToken("a1", "reset", minutes(1)), null, "the purpose must match");
      assert.equal(await accounts.takeToken("a1", "activation", minutes(1)), dave.id);
      assert.equal(await accounts.takeToken("a1", "activation", minutes(1)), null, "a token works once");

      await accounts.addToken(token("r2", "reset"));
      assert.equal(await accounts.takeToken("r1", "reset", minutes(1)), null, "a newer link replaces older ones");
      assert.equal(await accounts.takeToken("r2", "reset", minutes(61)), null, "expired");
      assert.equal(await accounts.takeToken("r2", "reset", minutes(1)), null, "an expired token is gone too");

      await accounts.addToken(token("r3", "reset"));
      const racing = await Promise.all([1, 2, 3].map(() => accounts.takeToken("r3", "reset", minutes(1))));
      assert.deepEqual(racing.filter((id) => id !== null), [dave.id], "of concurrent takes only one wins");
    },
  );

  contractCase("accounts: sessions are stored, touched and ended one by one or all at once", async (open, inspect) => {
    const { accounts } = await open();
    const erin = account("erin");
    await accounts.create(erin);
    const session = (hash: string) => ({ hash, accountId: erin.id, createdAt: minutes(0), lastSeenAt: minutes(0) });
    await accounts.createSession(session("s1"));
    await accounts.createSession(session("s2"));
    await accounts.createSession(session("s3"));
    assert.deepEqual(await accounts.session("s1"), session("s1"));
    await accounts.touchSession("s1", minutes(5));
    assert.deepEqual(await accounts.session("s1"), { ...session("s1"), lastSeenAt: minutes(5) });
    await accounts.deleteSession("s1");
    assert.equal(await accounts.session("s1"), null);
    await accounts.deleteSessions(erin.id);
    assert.equal(await accounts.session("s2"), null);
    const [{ n }] = await inspect("SELECT count(*) AS n FROM account_sessions");
    assert.equal(Number(n), 0, "no session of the account is left");
  });

  contractCase("accounts: purging forgets expired tokens and idle or too old sessions only", async (open, inspect) => {
    const { accounts } = await open();
    const fay = account("fay");
    await accounts.create(fay);
    for (const [hash, expiresAt] of [["old", minutes(5)], ["new", minutes(20)]] as const) {
      await accounts.addToken({ hash, accountId: fay.id, purpose: hash === "old" ? "activation" : "reset", expiresAt });
    }
    const sessions = {
      idle: { createdAt: minutes(0), lastSeenAt: minutes(1) },
      aged: { createdAt: minutes(-100), lastSeenAt: minutes(9) },
      live: { createdAt: minutes(0), lastSeenAt: minutes(9) },
    };
    for (const [hash, times] of Object.entries(sessions)) {
      await accounts.createSession({ hash, accountId: fay.id, ...times });
    }
    await accounts.purgeExpired(minutes(10), { seenBefore: minutes(5), createdBefore: minutes(-60) });
    const left = async (table: string, column: string) =>
      (await inspect(`SELECT ${column} AS h FROM ${table} ORDER BY ${column}`)).map((row) => row.h);
    assert.deepEqual(await left("account_tokens", "token_hash"), ["new"]);
    assert.deepEqual(await left("account_sessions", "session_hash"), ["live"]);
  });
}
