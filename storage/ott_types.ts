/**
 * What the record store keeps for OTT netDL loggers: transmissions (the raw
 * body is a file, see storage/blob_fs.ts), their values and alarms.
 */

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
