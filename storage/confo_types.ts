/**
 * What the record store keeps for cloud confirmations (confo, port 38979):
 * the packets, and the accounts and devices the decision procedure touches.
 */

/** A cloud confirmation from a freshly provisioned device (seed 004 "Confo"). */
export interface ConfoPacket {
  deviceName: string;
  ssid: string;
  /** The token the provisioning app generated (int64 in the original). */
  hash: number;
  /** The owner's email, or null when the device sent none. */
  email: string | null;
  /** The packet's timestamp, or the receipt time when absent. */
  timestamp: Date;
}

/** What the database knows when a confo arrives; the input of the decision procedure. */
export interface ConfoFacts {
  /** The email is registered in `sub`. */
  emailRegistered: boolean;
  /** The pub with this hash, or null when none exists. */
  pub: null | {
    /** `pub.creator` is empty. */
    creatorEmpty: boolean;
    /** `pub.creator` is the sender's own account. */
    creatorIsSender: boolean;
  };
}

/** What to do with a confo: where it is saved and how `pub`/`csub` change. */
export interface ConfoDecision {
  table: "confo" | "cconfo";
  /** none, create the pub, set its creator to the sender, or clear its creator. */
  pub: "none" | "create" | "set-creator" | "clear-creator";
  /** Record the unregistered email in `csub`. */
  saveUnregisteredEmail: boolean;
}

/** A stored confirmation as the provisioning app reads it back. */
export interface StoredConfo extends ConfoPacket {
  receivedAt: Date;
  /** True when it was saved in `cconfo` (a conflict). */
  conflict: boolean;
}

/** Storage for cloud confirmations and the accounts/devices they touch. */
export interface ConfoStore {
  /**
   * In one transaction: gathers the {@link ConfoFacts} for the packet, asks
   * `decide` (the pure procedure from the domain), applies the decision and
   * saves the confo. Resolves with the decision once committed.
   */
  confirm(packet: ConfoPacket, receivedAt: Date, decide: (facts: ConfoFacts) => ConfoDecision): Promise<ConfoDecision>;
  /** The newest confirmation (confo or cconfo) for a device name and ssid, or null. */
  latest(deviceName: string, ssid: string): Promise<StoredConfo | null>;
  /** Registers an account email in `sub`, lower-cased like confo emails (idempotent). */
  registerEmail(email: string): Promise<void>;
}
