/**
 * The confo part of the record store contract. The decision procedure is the
 * domain's; here a stub decides, and the cases check that the store hands it
 * the right facts and applies each kind of decision to the right rows.
 */
import assert from "node:assert/strict";
import type { ConfoDecision, ConfoFacts, ConfoPacket } from "../../storage/types.ts";
import { contractCases, type ContractDatabase, type Inspect } from "./harness.ts";

const BASE_TIME = Date.UTC(2024, 2, 5, 10, 0, 0, 123);
const minutes = (n: number) => new Date(BASE_TIME + n * 60_000);

/** Registers the confo contract cases for one adapter, named `<name> contract: confo: …`. */
export function confoStoreContract(name: string, freshDatabase: () => Promise<ContractDatabase>): void {
  const contractCase = contractCases(name, freshDatabase);

  contractCase("confo: hands decide the facts and applies each kind of decision", async (open, inspect) => {
    const store = await open();
    await store.confo.registerEmail("alice@example.org");
    await store.confo.registerEmail("alice@example.org"); // idempotent
    const seen: ConfoFacts[] = [];
    const confirm = (packet: ConfoPacket, decision: ConfoDecision) =>
      store.confo.confirm(packet, minutes(seen.length), (facts) => {
        seen.push(facts);
        return decision;
      });

    // A registered sender and a new hash: the pub is created with the sender as creator.
    const created = { table: "confo", pub: "create", saveUnregisteredEmail: false } as const;
    assert.deepEqual(await confirm(packet("alice@example.org"), created), created);
    assert.deepEqual(seen.at(-1), { emailRegistered: true, pub: null });
    assert.deepEqual(await pubs(inspect), [{ pubId: 1001, hash: 1001, creator: "alice@example.org", device: "dev" }]);
    const listed = (await store.meters.meters()).map((m) => [m.pubId, m.deviceName, m.hash, m.creator, m.readings]);
    assert.deepEqual(listed, [[1001, "dev", 1001, "alice@example.org", 0]], "the meter list names the creator");

    // Another, unregistered sender: the creator is cleared, the email kept in csub, the confo in cconfo.
    await confirm(packet("bob@example.org", { deviceName: "dev-b" }), {
      table: "cconfo",
      pub: "clear-creator",
      saveUnregisteredEmail: true,
    });
    assert.deepEqual(seen.at(-1), { emailRegistered: false, pub: { creatorEmpty: false, creatorIsSender: false } });
    assert.deepEqual(await pubs(inspect), [{ pubId: 1001, hash: 1001, creator: null, device: "dev" }]);
    assert.deepEqual(await emails(inspect, "csub"), ["bob@example.org"]);

    // The registered sender again: the empty creator is set.
    await confirm(packet("alice@example.org"), { table: "confo", pub: "set-creator", saveUnregisteredEmail: false });
    assert.deepEqual(seen.at(-1), { emailRegistered: true, pub: { creatorEmpty: true, creatorIsSender: false } });
    assert.deepEqual(await pubs(inspect), [{ pubId: 1001, hash: 1001, creator: "alice@example.org", device: "dev" }]);

    // And once more: the facts now say the sender is the creator; nothing changes but the saved confo.
    await confirm(packet("alice@example.org"), { table: "confo", pub: "none", saveUnregisteredEmail: false });
    assert.deepEqual(seen.at(-1), { emailRegistered: true, pub: { creatorEmpty: false, creatorIsSender: true } });

    // No email: nothing to record in csub even when asked, and the new pub has no creator.
    await confirm(packet(null, { hash: 2002, deviceName: "dev-2" }), {
      table: "confo",
      pub: "create",
      saveUnregisteredEmail: true,
    });
    assert.deepEqual(seen.at(-1), { emailRegistered: false, pub: null });
    // Saving the same unregistered email twice keeps one csub row.
    await confirm(packet("bob@example.org", { hash: 2002 }), {
      table: "confo",
      pub: "none",
      saveUnregisteredEmail: true,
    });

    assert.deepEqual((await pubs(inspect)).map((p) => [p.pubId, p.creator, p.device]), [
      [1001, "alice@example.org", "dev"],
      [2002, null, "dev-2"],
    ]);
    assert.deepEqual(await emails(inspect, "csub"), ["bob@example.org"]);
    assert.deepEqual(await emails(inspect, "sub"), ["alice@example.org"]);
    assert.deepEqual(await confos(inspect, "confo"), [
      "alice@example.org/1001",
      "alice@example.org/1001",
      "alice@example.org/1001",
      "-/2002",
      "bob@example.org/2002",
    ]);
    assert.deepEqual(await confos(inspect, "cconfo"), ["bob@example.org/1001"]);
  });

  contractCase("confo: registered emails match confo emails whatever their case", async (open) => {
    const store = await open();
    await store.confo.registerEmail("Carol@Example.ORG");
    let facts: ConfoFacts | undefined;
    await store.confo.confirm(packet("carol@example.org"), minutes(0), (seen) => {
      facts = seen;
      return { table: "confo", pub: "create", saveUnregisteredEmail: false };
    });
    assert.equal(facts?.emailRegistered, true);
  });

  contractCase("confo: a new pub takes its hash as id, or the next free id", async (open, inspect) => {
    const store = await open();
    const create = () => ({ table: "confo", pub: "create", saveUnregisteredEmail: false }) as const;
    await store.meters.append({ ...meterReading(), pubId: 3003 }, { registerPub: true }); // id 3003 is taken
    await store.confo.confirm(packet(null, { hash: 3003 }), minutes(0), create);
    await store.confo.confirm(packet(null, { hash: -5 }), minutes(1), create); // cannot be an id
    await store.confo.confirm(packet(null, { hash: 17 }), minutes(2), create);
    assert.deepEqual((await pubs(inspect)).map((p) => [p.pubId, p.hash]), [[17, 17], [3003, null], [3004, 3003], [
      3005,
      -5,
    ]]);
  });

  contractCase("confo: a decision that cannot apply, or a failing decide, writes nothing", async (open, inspect) => {
    const store = await open();
    const create = () => ({ table: "confo", pub: "create", saveUnregisteredEmail: false }) as const;
    await store.confo.confirm(packet(null), minutes(0), create);
    await assert.rejects(store.confo.confirm(packet(null), minutes(1), create), /exists/);
    await assert.rejects(
      store.confo.confirm(packet("carol@example.org", { hash: 9 }), minutes(2), () => ({
        table: "cconfo",
        pub: "set-creator",
        saveUnregisteredEmail: true,
      })),
      /no pub/,
    );
    await assert.rejects(
      store.confo.confirm(packet("carol@example.org"), minutes(3), () => {
        throw new Error("decide failed");
      }),
      /decide failed/,
    );
    assert.equal((await pubs(inspect)).length, 1);
    assert.deepEqual(await emails(inspect, "csub"), []);
    assert.equal((await confos(inspect, "confo")).length, 1);
    assert.equal((await confos(inspect, "cconfo")).length, 0);
  });

  contractCase("confo: latest is the newest by receipt across confo and cconfo", async (open) => {
    const store = await open();
    const save = (table: "confo" | "cconfo", hash: number, receivedAt: Date, ssid = "home") =>
      store.confo.confirm(packet("dan@example.org", { hash, ssid }), receivedAt, () => ({
        table,
        pub: "none",
        saveUnregisteredEmail: false,
      }));
    assert.equal(await store.confo.latest("dev", "home"), null);
    await save("confo", 1, minutes(1));
    await save("cconfo", 2, minutes(5));
    await save("confo", 3, minutes(3)); // arrives last but was received earlier
    await save("confo", 4, minutes(9), "office");
    assert.deepEqual(await store.confo.latest("dev", "home"), {
      ...packet("dan@example.org", { hash: 2 }),
      receivedAt: minutes(5),
      conflict: true,
    });
    await save("confo", 5, minutes(6));
    assert.deepEqual(await store.confo.latest("dev", "home"), {
      ...packet("dan@example.org", { hash: 5 }),
      receivedAt: minutes(6),
      conflict: false,
    });
    assert.equal((await store.confo.latest("dev", "office"))?.hash, 4);
    assert.equal(await store.confo.latest("other", "home"), null);
  });

  contractCase("confo: concurrent confirms of one new hash create exactly one pub", async (open, inspect) => {
    // Two stores: on PostgreSQL two connection pools, so the confirms really race.
    const stores = [await open(), await open()];
    await stores[0].confo.registerEmail("erin@example.org");
    const decisions = await Promise.all(
      Array.from(
        { length: 20 },
        (_, i) =>
          stores[i % 2].confo.confirm(packet("erin@example.org", { hash: 777 }), minutes(i), (facts) => ({
            table: "confo",
            pub: facts.pub === null ? "create" : "none",
            saveUnregisteredEmail: false,
          })),
      ),
    );
    assert.equal(decisions.filter((d) => d.pub === "create").length, 1);
    assert.deepEqual(await pubs(inspect), [{ pubId: 777, hash: 777, creator: "erin@example.org", device: "dev" }]);
    assert.equal((await confos(inspect, "confo")).length, 20);
  });
}

function packet(email: string | null, extra: Partial<ConfoPacket> = {}): ConfoPacket {
  return { deviceName: "dev", ssid: "home", hash: 1001, email, timestamp: minutes(-60), ...extra };
}

function meterReading() {
  return { pubId: 1, createdAt: minutes(0), savedAt: minutes(0), voltage: 230, frequency: 50, protected: false };
}

/** Every pub with its creator's email (test-only SQL: the interface does not show creators). */
async function pubs(inspect: Inspect) {
  const rows = await inspect(`
    SELECT p.pub_id, p.hash, s.email, p.device_name FROM pub p LEFT JOIN sub s ON s.id = p.creator ORDER BY p.pub_id`);
  return rows.map((row) => ({
    pubId: Number(row.pub_id),
    hash: row.hash === null ? null : Number(row.hash),
    creator: row.email,
    device: row.device_name,
  }));
}

async function emails(inspect: Inspect, table: "sub" | "csub"): Promise<unknown[]> {
  return (await inspect(`SELECT email FROM ${table} ORDER BY email`)).map((row) => row.email);
}

/** `email/hash` of every row of `table`, in insertion order. */
async function confos(inspect: Inspect, table: "confo" | "cconfo"): Promise<string[]> {
  return (await inspect(`SELECT email, hash FROM ${table} ORDER BY id`)).map((row) =>
    `${row.email ?? "-"}/${Number(row.hash)}`
  );
}
