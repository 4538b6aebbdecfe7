/**
 * Backend-neutral part of the confo stores: the facts handed to the decision
 * procedure, and the writes a decision turns into. The adapters read the
 * findings and run the writes, in one transaction, with their own SQL.
 */
import type { ConfoDecision, ConfoFacts, ConfoPacket } from "./types.ts";

/** What an adapter looked up for one confo, inside its transaction. */
export interface ConfoFindings {
  /** `sub.id` of the packet's email, or null when the email is absent or not registered. */
  senderId: number | null;
  /** The pub holding the packet's hash, or null. */
  pub: { pubId: number; creator: number | null } | null;
}

/** The input of the decision procedure. */
export function confoFacts({ senderId, pub }: ConfoFindings): ConfoFacts {
  return {
    emailRegistered: senderId !== null,
    pub: pub === null ? null : {
      creatorEmpty: pub.creator === null,
      // An unregistered sender has no account, so it is never the creator.
      creatorIsSender: senderId !== null && pub.creator === senderId,
    },
  };
}

/** How one confo changes `pub`. */
export type PubChange =
  | { kind: "none" }
  | {
    kind: "create";
    /**
     * The id to give the new pub: the hash itself, so a device provisioned with
     * its hash as id finds its pub; null when the hash cannot be a pub id
     * (not a positive safe integer). When null or already taken, the adapter
     * uses the next id after the largest one.
     */
    preferredId: number | null;
    hash: number;
    creator: number | null;
    deviceName: string;
  }
  /** Sets the creator, and the device name only if the pub has none. */
  | { kind: "set-creator"; pubId: number; creator: number; deviceName: string }
  | { kind: "clear-creator"; pubId: number };

/** The writes one confo makes, in the order an adapter runs them. */
export interface ConfoWrites {
  pub: PubChange;
  /** An email to record in `csub`, or null. */
  csubEmail: string | null;
  table: "confo" | "cconfo";
}

/**
 * Turns a decision into writes. Throws (so nothing is written) when the
 * decision cannot apply to the findings: creating a pub that exists, or
 * changing the creator of one that does not, or making an unregistered
 * sender the creator. A request to record a registered email in `csub` is
 * ignored: the account already exists, so there is nothing to record.
 */
export function confoWrites(packet: ConfoPacket, findings: ConfoFindings, decision: ConfoDecision): ConfoWrites {
  const { senderId, pub } = findings;
  // Adapters pick the table's SQL by this name; anything else must not reach them.
  if (decision.table !== "confo" && decision.table !== "cconfo") {
    throw new Error(`unknown confo table ${JSON.stringify(decision.table)}`);
  }
  const csubEmail = decision.saveUnregisteredEmail && senderId === null ? packet.email : null;
  const writes = (change: PubChange): ConfoWrites => ({ pub: change, csubEmail, table: decision.table });
  switch (decision.pub) {
    case "none":
      return writes({ kind: "none" });
    case "create":
      if (pub !== null) throw new Error(`confo decision creates a pub for hash ${packet.hash}, which exists`);
      return writes({
        kind: "create",
        preferredId: Number.isSafeInteger(packet.hash) && packet.hash > 0 ? packet.hash : null,
        hash: packet.hash,
        creator: senderId,
        deviceName: packet.deviceName,
      });
    case "set-creator":
      if (pub === null) throw new Error(`confo decision sets the creator of hash ${packet.hash}, which has no pub`);
      if (senderId === null) throw new Error("confo decision makes an unregistered email the creator");
      return writes({ kind: "set-creator", pubId: pub.pubId, creator: senderId, deviceName: packet.deviceName });
    case "clear-creator":
      if (pub === null) throw new Error(`confo decision clears the creator of hash ${packet.hash}, which has no pub`);
      return writes({ kind: "clear-creator", pubId: pub.pubId });
    default:
      throw new Error(`unknown confo pub decision ${JSON.stringify(decision.pub satisfies never)}`);
  }
}
