/**
 * OTT netDL transmissions: request checks, XML parsing into values and alarms,
 * and the logger's response. Pure: no network, no disk (seed 000, PROTOCOLS.md §1).
 */
import type { OttAlarm, OttValue } from "../storage/types.ts";
import { err, ok, type Result } from "./result.ts";
import { childrenNamed, parseXmlTree, type XmlElement } from "./xml_tree.ts";

/** The two things a logger sends. */
export type OttAction = "senddata" | "sendalarm";

/** Station ids become file names, so only this shape is accepted. */
export const STATION_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Checks the `stationid` and `action` query parameters. */
export function checkOttQuery(
  stationId: string | undefined,
  action: string | undefined,
): Result<{ stationId: string; action: OttAction }> {
  if (!stationId) return err("missing query parameter stationid");
  if (!STATION_ID_PATTERN.test(stationId)) {
    return err("invalid stationid: use 1-64 letters, digits, '_' or '-'");
  }
  if (action !== "senddata" && action !== "sendalarm") {
    return err(`unknown action ${JSON.stringify(action ?? "")}: expected senddata or sendalarm`);
  }
  return ok({ stationId, action });
}

/** What a transmission body contains once parsed. */
export interface ParsedOttBody {
  values: OttValue[];
  alarm: OttAlarm | null;
}

/**
 * Parses a decoded transmission body. Anything that does not match the
 * OTT_Data shape is an error naming what is wrong; DTDs are refused outright
 * (loggers never send one, and entity expansion is an attack surface).
 */
export function parseOttBody(action: OttAction, xml: string): Result<ParsedOttBody> {
  const tree = parseXmlTree(xml);
  if (!tree.ok) return tree;
  return action === "senddata" ? parseStationDataList(tree.value) : parseAlarmMessage(tree.value);
}

function parseStationDataList(root: XmlElement): Result<ParsedOttBody> {
  if (root.name !== "StationDataList") return err("expected root element <StationDataList>");
  const stations = childrenNamed(root, "StationData");
  if (stations.length === 0) return err("<StationDataList> has no <StationData>");
  const values: OttValue[] = [];
  for (const station of stations) {
    const stationId = station.attributes.stationId;
    if (!stationId) return err("<StationData> without stationId");
    const timezone = station.attributes.timezone || "+00:00";
    const offset = offsetMinutes(timezone);
    if (offset === null) return err(`invalid timezone "${timezone}" on station ${stationId}`);
    for (const channel of childrenNamed(station, "ChannelData")) {
      const channelId = channel.attributes.channelId;
      if (!channelId) return err(`<ChannelData> without channelId on station ${stationId}`);
      const channelName = channel.attributes.name ?? "";
      const unit = channel.attributes.unit ?? "";
      for (const vt of childrenNamed(channel, "Values").flatMap((list) => childrenNamed(list, "VT"))) {
        const t = vt.attributes.t ?? "";
        const time = localTimeToUtc(t, offset);
        if (!time) {
          return err(
            `station ${stationId} channel ${channelId}: <VT> with invalid time t="${t}" (expected YYYY-MM-DDTHH:MM:SS)`,
          );
        }
        // One object per value, built in place: a transmission holds hundreds of them.
        values.push({
          stationId,
          channelId,
          channelName,
          unit,
          time,
          value: NUMBER.test(vt.text) ? Number(vt.text) : null,
          rawValue: vt.text,
          errorCode: vt.attributes.errorcode || null,
          errorText: vt.attributes.errortext || null,
        });
      }
    }
  }
  return ok({ values, alarm: null });
}

function parseAlarmMessage(root: XmlElement): Result<ParsedOttBody> {
  if (root.name !== "AlarmMessage") return err("expected root element <AlarmMessage>");
  const stationId = root.attributes.stationId;
  if (!stationId) return err("<AlarmMessage> without stationId");
  const t = root.attributes.t;
  const time = t ? parseLoggerTime(t, "+00:00") : null;
  if (t && !time) return err(`<AlarmMessage> with invalid time t="${t}"`);
  return ok({
    values: [],
    alarm: {
      stationId,
      channelId: root.attributes.channelId ?? "",
      time,
      type: root.attributes.type ?? "",
      message: root.text,
    },
  });
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const OFFSET = /^([+-])(\d{2}):(\d{2})$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** A logger's local `YYYY-MM-DDTHH:MM:SS` in the station's timezone (`+01:00`, `Z`) → UTC Date, or null. */
export function parseLoggerTime(t: string, timezone: string): Date | null {
  const offset = offsetMinutes(timezone);
  return offset === null ? null : localTimeToUtc(t, offset);
}

/** `Z` or `±HH:MM` → minutes east of UTC, or null when it is neither. */
function offsetMinutes(timezone: string): number | null {
  if (timezone === "Z") return 0;
  const offset = OFFSET.exec(timezone);
  if (!offset) return null;
  return (offset[1] === "-" ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3]));
}

/**
 * `YYYY-MM-DDTHH:MM:SS` with up to six fraction digits, read at fixed character positions: every
 * value of every transmission comes through here, and a regular expression with its match array
 * cost several times more.
 */
function localTimeToUtc(t: string, offsetMinutes: number): Date | null {
  const length = t.length;
  if (length !== 19 && (length < 21 || length > 26 || t.charCodeAt(19) !== 0x2e)) return null;
  if (
    t.charCodeAt(4) !== 0x2d || t.charCodeAt(7) !== 0x2d || t.charCodeAt(10) !== 0x54 ||
    t.charCodeAt(13) !== 0x3a || t.charCodeAt(16) !== 0x3a
  ) return null;
  const year = digitsAt(t, 0, 4);
  const month = digitsAt(t, 5, 2);
  const day = digitsAt(t, 8, 2);
  const hour = digitsAt(t, 11, 2);
  const minute = digitsAt(t, 14, 2);
  const second = digitsAt(t, 17, 2);
  const fraction = length === 19 ? 0 : digitsAt(t, 20, length - 20);
  if (year < 1900 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23) return null;
  if (minute < 0 || minute > 59 || second < 0 || second > 59 || fraction < 0) return null;
  // A logger clock never says 2024-02-30 (Date.UTC would roll it over into March).
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1])) return null;
  const millis = Math.floor(fraction * 10 ** (26 - length) / 1000);
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000);
}

/** The decimal number in `count` ASCII digits from `start`, or -1 if any of them is not a digit. */
function digitsAt(text: string, start: number, count: number): number {
  let number = 0;
  for (let i = start; i < start + count; i++) {
    const digit = text.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return -1;
    number = number * 10 + digit;
  }
  return number;
}

/** The XML response the logger expects (OTT_Response.xsd), `responseDateTime` in UTC to the second. */
export function ottResponseXml(stationId: string, now: Date): string {
  const time = now.toISOString().slice(0, 19);
  return `<?xml version="1.0" encoding="utf-8"?><Response stationId="${stationId}" responseDateTime="${time}" />`;
}
