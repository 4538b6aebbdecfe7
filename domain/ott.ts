/**
 * OTT netDL transmissions: request checks, XML parsing into values and alarms,
 * and the logger's response. Pure: no network, no disk (seed 000, PROTOCOLS.md §1).
 */
import type { OttAlarm, OttValue } from "../storage/types.ts";
import { localTimeToUtc, offsetMinutes, parseLoggerTime } from "./ott_time.ts";
import { ottValue } from "./ott_value.ts";
import { scanSendData } from "./ott_senddata_scan.ts";
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
 * senddata bodies go through the fast scanner first (ott_senddata_scan.ts);
 * whatever it does not vouch for, {@link parseOttTree} decides.
 */
export function parseOttBody(action: OttAction, xml: string): Result<ParsedOttBody> {
  if (action === "senddata") {
    const values = scanSendData(xml);
    if (values) return ok({ values, alarm: null });
  }
  return parseOttTree(action, xml);
}

/**
 * The general reader: a saxes-checked element tree, then the OTT shape. Every refusal's message
 * comes from here; exported so tests can hold the fast scanner to its results.
 */
export function parseOttTree(action: OttAction, xml: string): Result<ParsedOttBody> {
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
      const context = {
        stationId,
        channelId,
        channelName: channel.attributes.name ?? "",
        unit: channel.attributes.unit ?? "",
      };
      for (const vt of childrenNamed(channel, "Values").flatMap((list) => childrenNamed(list, "VT"))) {
        const t = vt.attributes.t ?? "";
        const time = localTimeToUtc(t, offset);
        if (!time) {
          return err(
            `station ${stationId} channel ${channelId}: <VT> with invalid time t="${t}" (expected YYYY-MM-DDTHH:MM:SS)`,
          );
        }
        values.push(ottValue(context, time, vt.text, vt.attributes.errorcode, vt.attributes.errortext));
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

/** The XML response the logger expects (OTT_Response.xsd), `responseDateTime` in UTC to the second. */
export function ottResponseXml(stationId: string, now: Date): string {
  const time = now.toISOString().slice(0, 19);
  return `<?xml version="1.0" encoding="utf-8"?><Response stationId="${stationId}" responseDateTime="${time}" />`;
}
