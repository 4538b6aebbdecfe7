/**
 * What the record store keeps for Cisco CMX "Track Your Steps": users and
 * devices, distances, daily history, counters and zones.
 */
import type { DistanceSettings } from "../domain/cmx_distance.ts";
import type { RegistrationFacts, RegistrationOutcome } from "../domain/cmx_live.ts";
import type { CmxMovement, CmxZoneSighting } from "../domain/cmx_notification.ts";

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
