/**
 * What fieldgate needs stored, not how. Adapters: `sqlite/` (embedded default)
 * and `postgres/`; both pass the same contract tests in `tests/contract/`.
 */
import type { DistanceSettings } from "../domain/cmx_distance.ts";
import type { RegistrationFacts, RegistrationOutcome } from "../domain/cmx_live.ts";
import type { CmxMovement, CmxZoneSighting } from "../domain/cmx_notification.ts";
import type { Project } from "../domain/dropoff.ts";
import type { TusConcat, TusMetadata } from "../domain/tus.ts";
import type { AccountStore } from "./account_types.ts";

/** One transmission from an OTT logger, after its raw body is durable on disk. */
export interface OttTransmission {
  stationId: string;
  action: "senddata" | "sendalarm";
  receivedAt: Date;
  /** Path of the raw body relative to the OTT tree, e.g. `senddata/2024/03/05/0001_…`. */
  file: string;
  bytes: number;
  /** The logger account that sent it. */
  user: string;
  remoteAddr: string;
  /** Why the body could not be parsed; the raw body is then quarantined and no values are stored. */
  parseError: string | null;
}

/** One measured value from a `senddata` transmission. */
export interface OttValue {
  stationId: string;
  channelId: string;
  channelName: string;
  unit: string;
  /** Measurement time in UTC (the station's timezone already applied). */
  time: Date;
  /** The value as a number, or null when the logger sent something non-numeric. */
  value: number | null;
  /** The value exactly as sent. */
  rawValue: string;
  errorCode: string | null;
  errorText: string | null;
}

/** A limit alarm from a `sendalarm` transmission. */
export interface OttAlarm {
  stationId: string;
  channelId: string;
  /** Alarm time in UTC, or null when the logger sent none. */
  time: Date | null;
  type: string;
  message: string;
}

/** A stored value as read back, with the file it came from. */
export interface StoredOttValue extends OttValue {
  file: string;
}

/** A stored alarm with the moment it was received. */
export interface StoredOttAlarm extends OttAlarm {
  receivedAt: Date;
  file: string;
}

/** Filter for {@link OttStore.values}; every field optional. */
export interface OttValueFilter {
  stationId?: string;
  channelId?: string;
  /** Inclusive lower bound on measurement time. */
  from?: Date;
  /** Exclusive upper bound on measurement time. */
  to?: Date;
  limit?: number;
}

/** Per-station activity for the status page. */
export interface StationSummary {
  stationId: string;
  transmissions: number;
  alarms: number;
  lastSeen: Date;
}

/** Everything one OTT transmission produced, stored in one transaction. */
export interface OttRecord {
  transmission: OttTransmission;
  values: OttValue[];
  alarm: OttAlarm | null;
}

/** Storage for OTT transmissions, values and alarms. */
export interface OttStore {
  /**
   * Stores a transmission with its values and alarm in one transaction and
   * resolves once it is committed. Concurrent callers share one commit.
   * A value already stored for the same station, channel and time is replaced
   * (loggers resend overlapping windows; the newest transmission wins).
   */
  record(record: OttRecord): Promise<void>;
  /** Streams values ordered by station, channel and time, without loading them all. */
  values(filter: OttValueFilter): AsyncIterable<StoredOttValue>;
  /** Activity per station, most recently seen first. */
  stations(): Promise<StationSummary[]>;
  /** The newest alarms first. */
  recentAlarms(limit: number): Promise<StoredOttAlarm[]>;
}

/** One reading from a CC3220S power meter (seed 004 packet), validated. */
export interface MeterReading {
  /** The publishing device (`pub.pub_id`). */
  pubId: number;
  /** The packet's timestamp, or the receipt time when the packet had none. */
  createdAt: Date;
  /** When fieldgate received it. */
  savedAt: Date;
  voltage: number;
  frequency: number;
  /** The packet's `status` flag, stored as `protected` like the original. */
  protected: boolean;
}

/** A stored reading with its serial id. */
export interface StoredMeterReading extends MeterReading {
  id: number;
}

/** A meter and its newest reading, for the list API and the status page. */
export interface MeterSummary {
  pubId: number;
  deviceName: string | null;
  hash: number | null;
  /** Email of the registered sender whose confirmation made the meter theirs (`pub.creator`), or null. */
  creator: string | null;
  readings: number;
  latest: StoredMeterReading | null;
}

/** Filter for {@link MeterStore.readings}. */
export interface MeterReadingFilter {
  /** Inclusive lower bound on `createdAt`. */
  from?: Date;
  /** Exclusive upper bound on `createdAt`. */
  to?: Date;
  limit?: number;
}

/** Storage for meters (`pub`) and their readings. */
export interface MeterStore {
  /** True when a pub with this id exists (cached: pubs are never deleted). */
  pubExists(pubId: number): Promise<boolean>;
  /**
   * Stores a reading; resolves with its serial id once committed (group commit).
   * With `registerPub`, an unknown pub is created in the same transaction;
   * without, an unknown pub rejects with {@link UnknownPubError}.
   */
  append(reading: MeterReading, options: { registerPub: boolean }): Promise<number>;
  /** Every meter with its reading count and newest reading, by pub id. */
  meters(): Promise<MeterSummary[]>;
  /** Streams one meter's readings ordered by createdAt, then id (keyset paging). */
  readings(pubId: number, filter: MeterReadingFilter): AsyncIterable<StoredMeterReading>;
}

/** Raised by {@link MeterStore.append} for a pub that does not exist when registration is off. */
export class UnknownPubError extends Error {
  override name = "UnknownPubError";
  constructor(readonly pubId: number) {
    super(`unknown pub id ${pubId}`);
  }
}

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

/** The valid entries of one CMX post (movement or area notifications). */
export interface CmxBatch {
  movements: CmxMovement[];
  zones: CmxZoneSighting[];
  receivedAt: Date;
}

/** How a CMX batch turns into distances: the algorithm's settings and the venue's calendar day. */
export interface CmxRules {
  distance: DistanceSettings;
  /** `YYYY-MM-DD` of an instant (ms) in the venue's time zone. */
  dayOf: (ms: number) => string;
}

/** A registered device with its total and its place among all registered devices. */
export interface CmxDeviceStanding {
  /** The MAC as CMX reports it (hashed when CMX hashes). */
  mac: string;
  metres: number;
  /** 1 + the number of registered devices that walked farther. */
  place: number;
  /** False until CMX reported the device at least once. */
  sighted: boolean;
  /** Its most recent days with distance, oldest first: as many as {@link CmxStore.userDevices} was asked for. */
  days: CmxDay[];
}

/** Metres walked on one day (`YYYY-MM-DD`, venue time). */
export interface CmxDay {
  day: string;
  metres: number;
}

/** The leader board: registered devices by distance, and the distance of every tracked device. */
export interface CmxLeaderboard {
  /** Shared between requests until the standings move: read, never change. */
  leaders: readonly { place: number; username: string; metres: number }[];
  totalMetres: number;
}

/** Totals and load for the admin page. */
export interface CmxSummary {
  users: number;
  registeredDevices: number;
  trackedDevices: number;
  totalMetres: number;
  zones: number;
  /** Notifications received per minute, oldest first, only minutes that had any. */
  perMinute: { minute: Date; notifications: number; newDevices: number }[];
}

/** Storage for Track Your Steps: users and devices, distances, daily history, counters, zones. */
export interface CmxStore {
  /**
   * Applies a post's notifications and resolves once committed; concurrent
   * posts share one transaction (group commit). Movements of one device are
   * applied in timestamp order on the committed state of that device.
   */
  record(batch: CmxBatch, rules: CmxRules): Promise<void>;
  /**
   * In one transaction: gathers the {@link RegistrationFacts} for the email
   * and device, asks `decide`, and on "created" adds the user (with its
   * nickname) and the device. Resolves with the outcome once committed.
   */
  register(
    user: { email: string; nickname: string },
    mac: string,
    decide: (facts: RegistrationFacts) => RegistrationOutcome,
  ): Promise<RegistrationOutcome>;
  /** Deletes a user and its device registrations (their distances stay); false when there is no such user. */
  deleteUser(email: string): Promise<boolean>;
  /** The user's devices by MAC with their last `days` days (default none); null when there is no such user. */
  userDevices(email: string, days?: number): Promise<CmxDeviceStanding[] | null>;
  /** The `days` most recent days with distance of a device, oldest first. */
  deviceDays(mac: string, days: number): Promise<CmxDay[]>;
  /** The `limit` registered devices that walked farthest, ties sharing a place. */
  leaderboard(limit: number): Promise<CmxLeaderboard>;
  /** The nickname of the user owning a device, or null when it is not registered. */
  ownerName(mac: string): Promise<string | null>;
  /** Totals and the last `minutes` minutes of load. */
  summary(minutes: number): Promise<CmxSummary>;
  /**
   * PostgreSQL: makes the distance, history, counter and zone tables UNLOGGED
   * (faster, but emptied after a crash) or logged again; registrations always
   * stay logged. SQLite: nothing to do.
   */
  setUnlogged(unlogged: boolean): Promise<void>;
}

/** The record store: one database holding every protocol's rows. */
export interface RecordStore {
  /** `sqlite` or `postgres`, for logs and the status page. */
  readonly backend: "sqlite" | "postgres";
  /** Where the data lives, safe to show (no password). */
  readonly location: string;
  readonly ott: OttStore;
  readonly meters: MeterStore;
  readonly confo: ConfoStore;
  readonly cmx: CmxStore;
  readonly dropoff: DropoffStore;
  /** Web accounts, their email tokens and sessions. */
  readonly accounts: AccountStore;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  /** Finishes pending commits and closes the connection. */
  close(): Promise<void>;
}

/** One tus upload as stored; the bytes live in the upload file, named by `id`. */
export interface TusUpload {
  id: string;
  projectId: string;
  /** Declared length; null while deferred (creation-defer-length). */
  length: number | null;
  /** Bytes durable on disk and acknowledged; only ever advanced after the file is fsync'd. */
  offset: number;
  /** Client metadata without the upload code, plus the bound `project`. */
  metadata: TusMetadata;
  createdAt: Date;
  /** Unfinished uploads after this moment answer 410 and are removed by the cleanup. */
  expiresAt: Date;
  /** Set once offset reached length and the file's checksum was recorded. */
  finishedAt: Date | null;
  /** SHA-256 (hex) of the whole file, recorded when finished. */
  sha256: string | null;
  /** Concatenation role (`Upload-Concat`); null for an ordinary upload. */
  concat: TusConcat | null;
}

/** Releases a cross-instance upload lock. */
export type UploadUnlock = () => Promise<void>;

/** Projects and their tus uploads. */
export interface DropoffStore {
  /** Stores a new project (its id already chosen). */
  createProject(project: Project): Promise<void>;
  /** The project, or null. */
  project(id: string): Promise<Project | null>;
  /** The owner's projects, newest first. */
  projects(owner: string): Promise<Project[]>;
  /** Bytes the project's uploads take: declared lengths, or offsets while deferred. */
  projectBytes(projectId: string): Promise<number>;
  /** Records a new upload. */
  createUpload(upload: TusUpload): Promise<void>;
  /** The upload, or null. */
  upload(id: string): Promise<TusUpload | null>;
  /** The project's uploads, oldest first. */
  uploads(projectId: string): Promise<TusUpload[]>;
  /** Records progress once the bytes up to `offset` are durable; also sets a deferred length and the expiry. */
  saveProgress(id: string, progress: { offset: number; length: number | null; expiresAt: Date }): Promise<void>;
  /**
   * Records the last bytes and marks the upload finished with the whole file's
   * SHA-256, in one statement: an upload is never seen complete but unfinished.
   */
  finish(id: string, progress: { offset: number; length: number }, sha256: string, finishedAt: Date): Promise<void>;
  /**
   * Marks a concatenated final upload finished (as {@link finish}) and forgets
   * its partial uploads in the same transaction, so their bytes count towards
   * the quota once: as partials before, as the final after.
   */
  finishConcatenation(
    id: string,
    progress: { offset: number; length: number },
    sha256: string,
    finishedAt: Date,
    partIds: string[],
  ): Promise<void>;
  /** Forgets the upload (its file is removed by the caller). */
  deleteUpload(id: string): Promise<void>;
  /** Unfinished uploads, and partial uploads never concatenated, whose expiry has passed. */
  expiredUploads(now: Date): Promise<TusUpload[]>;
  /**
   * Takes the upload's lock across every instance sharing the database, or
   * resolves null when another holds it. SQLite has one host and relies on the
   * in-process lock alone, so its lock always succeeds.
   */
  tryLockUpload(id: string): Promise<UploadUnlock | null>;
  /**
   * Waits for the project's creation lock across every instance sharing the
   * database, so a quota check and the record it allows are never interleaved
   * with another instance's. SQLite has one host: the caller's in-process
   * queue is enough and this resolves at once.
   */
  lockProject(projectId: string): Promise<UploadUnlock>;
}
