/**
 * PostgreSQL confo store. A confirmation is one transaction holding an
 * advisory lock that serialises every confirm of every instance: a per-hash
 * lock would still let two new hashes race for the same new pub id, and
 * confirms are rare (one per provisioned device), so one lock costs nothing.
 */
import type postgres from "postgres";
import { confoFacts, type ConfoFindings, type ConfoWrites, confoWrites } from "../confo_plan.ts";
import type { ConfoDecision, ConfoFacts, ConfoPacket, ConfoStore, StoredConfo } from "../types.ts";
import { transaction } from "./transaction.ts";

/** Advisory lock key for confirms; differs from the migration lock's. */
const CONFO_LOCK_KEY = 0x636f6e666f; // "confo"

/** Attempts at a new pub id before giving up; only a meter registering that very id meanwhile forces a retry. */
const PUB_ID_ATTEMPTS = 10;

/** {@link ConfoStore} on PostgreSQL. */
export class PostgresConfoStore implements ConfoStore {
  readonly #sql: postgres.Sql;

  constructor(sql: postgres.Sql) {
    this.#sql = sql;
  }

  async confirm(
    packet: ConfoPacket,
    receivedAt: Date,
    decide: (facts: ConfoFacts) => ConfoDecision,
  ): Promise<ConfoDecision> {
    return await transaction(this.#sql, async (tx) => {
      await tx`select pg_advisory_xact_lock(${CONFO_LOCK_KEY}::bigint)`;
      const findings = await find(tx, packet);
      const decision = decide(confoFacts(findings));
      await apply(tx, packet, receivedAt, confoWrites(packet, findings, decision));
      return decision;
    });
  }

  async latest(deviceName: string, ssid: string): Promise<StoredConfo | null> {
    const sql = this.#sql;
    // Each side is one backwards step on its (device_name, ssid, received_at) index. On a tie the
    // confo wins over the conflict.
    const newest = (table: string, conflict: boolean) =>
      sql`(
        select device_name, ssid, hash, email, timestamp, received_at, ${conflict}::boolean as conflict
        from ${sql(table)} where device_name = ${deviceName} and ssid = ${ssid}
        order by received_at desc, id desc limit 1
      )`;
    const [row] = await sql`
      ${newest("confo", false)} union all ${newest("cconfo", true)}
      order by received_at desc, conflict limit 1`;
    if (row === undefined) return null;
    return {
      deviceName: row.device_name,
      ssid: row.ssid,
      hash: Number(row.hash),
      email: row.email,
      timestamp: row.timestamp,
      receivedAt: row.received_at,
      conflict: row.conflict,
    };
  }

  async registerEmail(email: string): Promise<void> {
    await this.#sql`insert into sub (email) values (${email.toLowerCase()}) on conflict (email) do nothing`;
  }
}

async function find(tx: postgres.TransactionSql, packet: ConfoPacket): Promise<ConfoFindings> {
  const [subs, pubs] = await Promise.all([
    packet.email === null ? [] : tx`select id from sub where email = ${packet.email}`,
    tx`select pub_id, creator from pub where hash = ${packet.hash}`,
  ]);
  const pub = pubs[0];
  return {
    senderId: subs.length === 0 ? null : Number(subs[0].id),
    pub: pub === undefined ? null : {
      pubId: Number(pub.pub_id),
      creator: pub.creator === null ? null : Number(pub.creator),
    },
  };
}

async function apply(
  tx: postgres.TransactionSql,
  packet: ConfoPacket,
  receivedAt: Date,
  writes: ConfoWrites,
): Promise<void> {
  const change = writes.pub;
  switch (change.kind) {
    case "create": {
      const row = { hash: change.hash, creator: change.creator, device_name: change.deviceName };
      // Confirms are serialised by the lock, but a meter may register a pub id meanwhile
      // (append with registerPub): on that conflict, try the next id after the largest.
      let created = change.preferredId === null ? [] : await tx`
        insert into pub ${tx({ pub_id: change.preferredId, ...row })} on conflict (pub_id) do nothing returning pub_id`;
      for (let attempt = 1; created.length === 0; attempt++) {
        if (attempt > PUB_ID_ATTEMPTS) throw new Error(`no free pub id for hash ${change.hash}`);
        created = await tx`
          insert into pub (pub_id, hash, creator, device_name)
          select coalesce(max(pub_id), 0) + 1, ${row.hash}, ${row.creator}, ${row.device_name} from pub
          on conflict (pub_id) do nothing returning pub_id`;
      }
      break;
    }
    case "set-creator":
      await tx`
        update pub set creator = ${change.creator}, device_name = coalesce(device_name, ${change.deviceName})
        where pub_id = ${change.pubId}`;
      break;
    case "clear-creator":
      await tx`update pub set creator = null where pub_id = ${change.pubId}`;
      break;
  }
  if (writes.csubEmail !== null) {
    await tx`insert into csub (email) values (${writes.csubEmail}) on conflict (email) do nothing`;
  }
  await tx`
    insert into ${tx(writes.table)} (device_name, ssid, hash, email, timestamp, received_at)
    values (${packet.deviceName}, ${packet.ssid}, ${packet.hash}, ${packet.email}, ${packet.timestamp}, ${receivedAt})`;
}
