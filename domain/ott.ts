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
    if (!/^(Z|[+-]\d{2}:\d{2})$/.test(timezone)) return err(`invalid timezone "${timezone}" on station ${stationId}`);
    for (const channel of childrenNamed(station, "ChannelData")) {
      const channelId = channel.attributes.channelId;
      if (!channelId) return err(`<ChannelData> without channelId on station ${stationId}`);
      for (const vt of childrenNamed(channel, "Values").flatMap((list) => childrenNamed(list, "VT"))) {
        const parsed = parseValue(vt, timezone);
        if (!parsed.ok) return err(`station ${stationId} channel ${channelId}: ${parsed.error}`);
        values.push({
          stationId,
          channelId,
          channelName: channel.attributes.name ?? "",
          unit: channel.attributes.unit ?? "",
          ...parsed.value,
        });
      }
    }
  }
  return ok({ values, alarm: null });
}

function parseValue(
  vt: XmlElement,
  timezone: string,
): Result<Pick<OttValue, "time" | "value" | "rawValue" | "errorCode" | "errorText">> {
  const t = vt.attributes.t ?? "";
  const time = parseLoggerTime(t, timezone);
  if (!time) return err(`<VT> with invalid time t="${t}" (expected YYYY-MM-DDTHH:MM:SS)`);
  return ok({
    time,
    rawValue: vt.text,
    value: NUMBER.test(vt.text) ? Number(vt.text) : null,
    errorCode: vt.attributes.errorcode || null,
    errorText: vt.attributes.errortext || null,
  });
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
const LOGGER_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/;
const OFFSET = /^([+-])(\d{2}):(\d{2})$/;

/** A logger's local `YYYY-MM-DDTHH:MM:SS` in the station's timezone (`+01:00`, `Z`) → UTC Date, or null. */
export function parseLoggerTime(t: string, timezone: string): Date | null {
  const match = LOGGER_TIME.exec(t);
  const offset = timezone === "Z" ? [] : OFFSET.exec(timezone);
  if (!match || !offset) return null;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number);
  const millis = match[7] ? Math.floor(Number(match[7].padEnd(6, "0")) / 1000) : 0;
  if (year < 1900 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return null;
  const local = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  // Date.UTC would roll 2024-02-30 over into March; a logger clock never says that.
  if (new Date(local).getUTCDate() !== day) return null;
  const offsetMinutes = offset.length === 0
    ? 0
    : (offset[1] === "-" ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3]));
  return new Date(local - offsetMinutes * 60_000);
}

/** The XML response the logger expects (OTT_Response.xsd), `responseDateTime` in UTC to the second. */
export function ottResponseXml(stationId: string, now: Date): string {
  const time = now.toISOString().slice(0, 19);
  return `<?xml version="1.0" encoding="utf-8"?><Response stationId="${stationId}" responseDateTime="${time}" />`;
}
