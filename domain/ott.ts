/**
 * OTT netDL transmissions: request checks, XML parsing into values and alarms,
 * and the logger's response. Pure: no network, no disk (seed 000, PROTOCOLS.md §1).
 */
import { XMLParser, XMLValidator } from "fast-xml-parser";
import type { OttAlarm, OttValue } from "../storage/types.ts";
import { err, ok, type Result } from "./result.ts";

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

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@",
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  isArray: (name) => ["StationData", "ChannelData", "VT"].includes(name),
});

type XmlNode = Record<string, unknown>;

/**
 * Parses a decoded transmission body. Anything that does not match the
 * OTT_Data shape is an error naming what is wrong; DTDs are refused outright
 * (loggers never send one, and entity expansion is an attack surface).
 */
export function parseOttBody(action: OttAction, xml: string): Result<ParsedOttBody> {
  if (/<!DOCTYPE/i.test(xml)) return err("XML with a DOCTYPE is not accepted");
  const valid = XMLValidator.validate(xml);
  if (valid !== true) return err(`malformed XML at line ${valid.err.line}: ${valid.err.msg}`);
  let document: XmlNode;
  try {
    document = parser.parse(xml);
  } catch (error) {
    return err(`malformed XML: ${(error as Error).message}`);
  }
  return action === "senddata" ? parseStationDataList(document) : parseAlarmMessage(document);
}

function parseStationDataList(document: XmlNode): Result<ParsedOttBody> {
  const list = document.StationDataList;
  if (list === undefined) return err("expected root element <StationDataList>");
  const stations = isNode(list) ? nodes(list.StationData) : [];
  if (stations.length === 0) return err("<StationDataList> has no <StationData>");
  const values: OttValue[] = [];
  for (const station of stations) {
    const stationId = attribute(station, "stationId");
    if (!stationId) return err("<StationData> without stationId");
    const timezone = attribute(station, "timezone") || "+00:00";
    if (!/^(Z|[+-]\d{2}:\d{2})$/.test(timezone)) return err(`invalid timezone "${timezone}" on station ${stationId}`);
    for (const channel of nodes(station.ChannelData)) {
      const channelId = attribute(channel, "channelId");
      if (!channelId) return err(`<ChannelData> without channelId on station ${stationId}`);
      const valuesNode = channel.Values;
      for (const vt of isNode(valuesNode) ? nodes(valuesNode.VT) : []) {
        const parsed = parseValue(vt, timezone);
        if (!parsed.ok) return err(`station ${stationId} channel ${channelId}: ${parsed.error}`);
        values.push({
          stationId,
          channelId,
          channelName: attribute(channel, "name"),
          unit: attribute(channel, "unit"),
          ...parsed.value,
        });
      }
    }
  }
  return ok({ values, alarm: null });
}

function parseValue(
  vt: XmlNode,
  timezone: string,
): Result<Pick<OttValue, "time" | "value" | "rawValue" | "errorCode" | "errorText">> {
  const t = attribute(vt, "t");
  const time = parseLoggerTime(t, timezone);
  if (!time) return err(`<VT> with invalid time t="${t}" (expected YYYY-MM-DDTHH:MM:SS)`);
  const rawValue = typeof vt["#text"] === "string" ? vt["#text"] : "";
  return ok({
    time,
    rawValue,
    value: NUMBER.test(rawValue) ? Number(rawValue) : null,
    errorCode: attribute(vt, "errorcode") || null,
    errorText: attribute(vt, "errortext") || null,
  });
}

function parseAlarmMessage(document: XmlNode): Result<ParsedOttBody> {
  const alarm = document.AlarmMessage;
  if (alarm === undefined) return err("expected root element <AlarmMessage>");
  const node: XmlNode = isNode(alarm) ? alarm : { "#text": String(alarm) };
  const stationId = attribute(node, "stationId");
  if (!stationId) return err("<AlarmMessage> without stationId");
  const t = attribute(node, "t");
  const time = t ? parseLoggerTime(t, "+00:00") : null;
  if (t && !time) return err(`<AlarmMessage> with invalid time t="${t}"`);
  return ok({
    values: [],
    alarm: {
      stationId,
      channelId: attribute(node, "channelId"),
      time,
      type: attribute(node, "type"),
      message: typeof node["#text"] === "string" ? node["#text"] : "",
    },
  });
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const LOGGER_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?$/;

/** A logger's local `YYYY-MM-DDTHH:MM:SS` in the station's timezone (`+01:00`) → UTC Date, or null. */
export function parseLoggerTime(t: string, timezone: string): Date | null {
  if (!LOGGER_TIME.test(t)) return null;
  // Date would roll 2024-02-30 over into March; a logger clock never says that.
  if (new Date(t + "Z").toISOString().slice(0, 19) !== t.slice(0, 19)) return null;
  const date = new Date(t + timezone);
  return Number.isNaN(date.getTime()) ? null : date;
}

function isNode(value: unknown): value is XmlNode {
  return typeof value === "object" && value !== null;
}

function nodes(value: unknown): XmlNode[] {
  return Array.isArray(value) ? value.map((v) => (isNode(v) ? v : { "#text": String(v) })) : [];
}

function attribute(node: XmlNode, name: string): string {
  const value = node[`@${name}`];
  return typeof value === "string" ? value : "";
}

/** The XML response the logger expects (OTT_Response.xsd), `responseDateTime` in UTC to the second. */
export function ottResponseXml(stationId: string, now: Date): string {
  const time = now.toISOString().slice(0, 19);
  return `<?xml version="1.0" encoding="utf-8"?><Response stationId="${stationId}" responseDateTime="${time}" />`;
}
