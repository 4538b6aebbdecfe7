/**
 * Cloud confirmation (seed 004 "Cloud Confirmation"): parsing the confo a
 * provisioned device sends, and the decision procedure for where it is saved
 * and how the device's ownership changes. Pure.
 */
import type { ConfoDecision, ConfoFacts, ConfoPacket } from "../storage/types.ts";
import { integerField, parseJsonObject, stringField, unixSecondsField } from "./go_json.ts";
import { err, ok, type Result } from "./result.ts";

/** The reply after a confo is saved. */
export const CONFO_ACK = "Thank you";

const MAX_TEXT = 256;

/**
 * Parses one confo line: `deviceName` (the reference client sends `devicename`;
 * keys are case-insensitive), `ssid`, `hash` (int64), optional `email` and
 * `timestamp` (Unix seconds; absent or 0 → receipt time).
 */
export function parseConfoPacket(line: string, receivedAt: Date): Result<ConfoPacket> {
  const fields = parseJsonObject(line);
  if (!fields.ok) return fields;
  const deviceName = stringField(fields.value, "deviceName", { required: true, maxLength: MAX_TEXT });
  if (!deviceName.ok) return deviceName;
  const ssid = stringField(fields.value, "ssid", { required: true, maxLength: MAX_TEXT });
  if (!ssid.ok) return ssid;
  const hash = integerField(fields.value, "hash", true);
  if (!hash.ok) return hash;
  const email = stringField(fields.value, "email", { required: false, maxLength: MAX_TEXT });
  if (!email.ok) return email;
  if (email.value !== undefined && !/^[^\s@]+@[^\s@]+$/.test(email.value)) {
    return err(`field "email" is not an email address`);
  }
  const timestamp = unixSecondsField(fields.value, "timestamp", receivedAt);
  if (!timestamp.ok) return timestamp;
  return ok({
    deviceName: deviceName.value!,
    ssid: ssid.value!,
    hash: hash.value!,
    email: email.value?.toLowerCase() ?? null,
    timestamp: timestamp.value,
  });
}

/**
 * The seed's procedure, branch by branch:
 *
 * Registered email (in `sub`):
 * - device (pub with this hash) exists, creator is the sender → save in confo;
 * - exists, creator is someone else → conflict: save in cconfo;
 * - exists, no creator → the sender becomes creator; save in confo;
 * - no device → create it with the sender as creator; save in confo.
 *
 * Unregistered email (or none): the email goes to `csub`, then
 * - device exists, creator is someone else → save in confo;
 * - exists, no creator → left without one (only registered emails create); confo;
 * - exists, creator "is the sender" (the seed's "we've a problem") → clear the
 *   creator and save in cconfo so a person looks at it;
 * - no device (the seed is silent) → create it without a creator; save in confo.
 */
export function decideConfo(facts: ConfoFacts, hasEmail: boolean): ConfoDecision {
  const { pub } = facts;
  if (facts.emailRegistered) {
    if (pub === null) return { table: "confo", pub: "create", saveUnregisteredEmail: false };
    if (pub.creatorIsSender) return { table: "confo", pub: "none", saveUnregisteredEmail: false };
    if (pub.creatorEmpty) return { table: "confo", pub: "set-creator", saveUnregisteredEmail: false };
    return { table: "cconfo", pub: "none", saveUnregisteredEmail: false };
  }
  const saveUnregisteredEmail = hasEmail;
  if (pub === null) return { table: "confo", pub: "create", saveUnregisteredEmail };
  if (pub.creatorIsSender) return { table: "cconfo", pub: "clear-creator", saveUnregisteredEmail };
  return { table: "confo", pub: "none", saveUnregisteredEmail };
}
