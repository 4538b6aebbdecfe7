/**
 * One OTT value as both senddata readers build it (ott_senddata_scan.ts, the
 * fast one, and the general tree reader in ott.ts), so they cannot disagree.
 */
import type { OttValue } from "../storage/types.ts";

/** The channel a `<VT>` belongs to, with its station. */
export interface OttChannel {
  stationId: string;
  channelId: string;
  channelName: string;
  unit: string;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * A value of `channel` at `time`: `rawValue` is the `<VT>`'s trimmed text, kept as sent and read as
 * a number when it is one; empty error attributes count as absent.
 */
export function ottValue(
  channel: OttChannel,
  time: Date,
  rawValue: string,
  errorCode: string | undefined,
  errorText: string | undefined,
): OttValue {
  // One object per value, built in place with the same shape every time: a transmission holds hundreds.
  return {
    stationId: channel.stationId,
    channelId: channel.channelId,
    channelName: channel.channelName,
    unit: channel.unit,
    time,
    value: NUMBER.test(rawValue) ? Number(rawValue) : null,
    rawValue,
    errorCode: errorCode || null,
    errorText: errorText || null,
  };
}
