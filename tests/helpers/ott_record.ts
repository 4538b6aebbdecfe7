/** A stored-record fixture for OTT store tests. */
import type { OttRecord } from "../../storage/types.ts";

/** A senddata transmission stored as `file`, holding one value of station 0000452891, channel 0001. */
export function oneValueOttRecord(file: string, value: number): OttRecord {
  return {
    transmission: {
      stationId: "0000452891",
      action: "senddata",
      receivedAt: new Date(1_700_000_000_123),
      file,
      bytes: 8193,
      user: "dl001",
      remoteAddr: "127.0.0.1",
      parseError: null,
    },
    values: [{
      stationId: "0000452891",
      channelId: "0001",
      channelName: "Water level",
      unit: "m",
      time: new Date(1_700_000_000_000),
      value,
      rawValue: String(value),
      errorCode: null,
      errorText: null,
    }],
    alarm: null,
  };
}
