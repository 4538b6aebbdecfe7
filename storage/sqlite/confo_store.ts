/**
 * SQLite confo store. A confirmation is one `BEGIN IMMEDIATE` transaction on
 * the writer connection: the write lock taken up front serialises confirms of
 * every process sharing the file, and `synchronous = FULL` makes the commit
 * durable before the promise resolves. Confirms are rare, so no group commit.
 */
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import { confoFacts, type ConfoFindings, type ConfoWrites, confoWrites } from "../confo_plan.ts";
import type { ConfoDecision, ConfoFacts, ConfoPacket, ConfoStore, StoredConfo } from "../types.ts";
import { immediateTransaction } from "./migrations.ts";

type Row = Record<string, SQLInputValue>;

/** {@link ConfoStore} on SQLite: writes on `writer`, reads `latest` on `reader`. */
export class SqliteConfoStore implements ConfoStore {
  readonly #writer: DatabaseSync;
  readonly #statements: ReturnType<typeof prepareWrites>;
  readonly #latest: StatementSync;

  constructor(writer: DatabaseSync, reader: DatabaseSync) {
    this.#writer = writer;
    this.#statements = prepareWrites(writer);
    // Each side is one backwards step on its (device_name, ssid, received_at) index. On a tie the
    // confo wins over the conflict.
    const newest = (table: string, conflict: number) => `
      SELECT * FROM (
        SELECT device_name, ssid, hash, email, timestamp, received_at, ${conflict} AS conflict FROM ${table}
        WHERE device_name = ? AND ssid = ? ORDER BY received_at DESC, id DESC LIMIT 1
      )`;
    this.#latest = reader.prepare(`
      ${newest("confo", 0)} UNION ALL ${newest("cconfo", 1)}
      ORDER BY received_at DESC, conflict LIMIT 1`);
  }

  confirm(
    packet: ConfoPacket,
    receivedAt: Date,
    decide: (facts: ConfoFacts) => ConfoDecision,
  ): Promise<ConfoDecision> {
    return Promise.try(() =>
      immediateTransaction(this.#writer, () => {
        const findings = this.#find(packet);
        const decision = decide(confoFacts(findings));
        this.#apply(packet, receivedAt, confoWrites(packet, findings, decision));
        return decision;
      })
    );
  }

  latest(deviceName: string, ssid: string): Promise<StoredConfo | null> {
    return Promise.try(() => {
      const row = this.#latest.get(deviceName, ssid, deviceName, ssid) as Row | undefined;
      if (row === undefined) return null;
      return {
        deviceName: row.device_name as string,
        ssid: row.ssid as string,
        hash: row.hash as number,
        email: row.email as string | null,
        timestamp: new Date(row.timestamp as number),
        receivedAt: new Date(row.received_at as number),
        conflict: row.conflict === 1,
      };
    });
  }

  registerEmail(email: string): Promise<void> {
    return Promise.try(() => {
      this.#statements.registerEmail.run(email.toLowerCase(), Date.now());
    });
  }

  #find(packet: ConfoPacket): ConfoFindings {
    const s = this.#statements;
    const sub = packet.email === null ? undefined : s.findSub.get(packet.email) as Row | undefined;
    const pub = s.findPub.get(packet.hash) as Row | undefined;
    return {
      senderId: sub ? sub.id as number : null,
      pub: pub ? { pubId: pub.pub_id as number, creator: pub.creator as number | null } : null,
    };
  }

  #apply(packet: ConfoPacket, receivedAt: Date, writes: ConfoWrites): void {
    const s = this.#statements;
    const now = Date.now();
    const change = writes.pub;
    switch (change.kind) {
      case "create": {
        // No other writer can run inside BEGIN IMMEDIATE, so the id checked free stays free.
        const free = change.preferredId !== null && s.pubIdTaken.get(change.preferredId) === undefined;
        const pubId = free ? change.preferredId : (s.nextPubId.get() as Row).id;
        s.createPub.run(pubId, change.hash, change.creator, change.deviceName, now);
        break;
      }
      case "set-creator":
        s.setCreator.run(change.creator, change.deviceName, change.pubId);
        break;
      case "clear-creator":
        s.clearCreator.run(change.pubId);
        break;
    }
    if (writes.csubEmail !== null) s.saveCsub.run(writes.csubEmail, now);
    s.insertConfo[writes.table].run(
      packet.deviceName,
      packet.ssid,
      packet.hash,
      packet.email,
      packet.timestamp.getTime(),
      receivedAt.getTime(),
    );
  }
}

function prepareWrites(db: DatabaseSync) {
  const insertInto = (table: string) =>
    db.prepare(`
      INSERT INTO ${table} (device_name, ssid, hash, email, timestamp, received_at) VALUES (?, ?, ?, ?, ?, ?)`);
  return {
    findSub: db.prepare("SELECT id FROM sub WHERE email = ?"),
    findPub: db.prepare("SELECT pub_id, creator FROM pub WHERE hash = ?"),
    pubIdTaken: db.prepare("SELECT 1 FROM pub WHERE pub_id = ?"),
    nextPubId: db.prepare("SELECT coalesce(max(pub_id), 0) + 1 AS id FROM pub"),
    createPub: db.prepare("INSERT INTO pub (pub_id, hash, creator, device_name, created_at) VALUES (?, ?, ?, ?, ?)"),
    setCreator: db.prepare("UPDATE pub SET creator = ?, device_name = coalesce(device_name, ?) WHERE pub_id = ?"),
    clearCreator: db.prepare("UPDATE pub SET creator = NULL WHERE pub_id = ?"),
    saveCsub: db.prepare("INSERT INTO csub (email, first_seen) VALUES (?, ?) ON CONFLICT (email) DO NOTHING"),
    registerEmail: db.prepare("INSERT INTO sub (email, created_at) VALUES (?, ?) ON CONFLICT (email) DO NOTHING"),
    insertConfo: { confo: insertInto("confo"), cconfo: insertInto("cconfo") },
  };
}
