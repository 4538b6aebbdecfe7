/**
 * A purpose-built reader for senddata transmissions as loggers write them:
 * one pass over the text, values built as their `<VT>` closes, no tree and no
 * general XML machinery. It reads a strict subset of XML (ASCII names, quoted
 * attributes, no entity or character references, comments, CDATA,
 * processing instructions or DOCTYPE) and answers `undefined` whenever a
 * document leaves that subset or is not a valid transmission. The caller then
 * parses it with the general saxes reader, which accepts or refuses it with
 * its usual message, so this reader changes the speed and never the outcome
 * (tests/unit/ott_senddata_scan_test.ts compares the two).
 */
import type { OttValue } from "../storage/types.ts";
import { localTimeAt, offsetMinutes } from "./ott_time.ts";
import { type OttChannel, ottValue } from "./ott_value.ts";

/**
 * Where an element sits: its depth on the data path StationDataList > StationData > ChannelData >
 * Values > VT (1 to 5; 4, <Values>, needs no name of its own), or OTHER. Only that path carries
 * data; every other element is checked and skipped.
 */
const OTHER = 0;
const LIST = 1;
const STATION = 2;
const CHANNEL = 3;
const VT = 5;
/** The element name that makes a child of role r take role r + 1. */
const CHILD_NAMES = ["", "StationData", "ChannelData", "Values", "VT"];
/** More attributes than this on one element sends the document to the general reader (keeps the duplicate check cheap). */
const MAX_ATTRIBUTES = 8;
/** The XML declarations this reader vouches for; any other goes to the general reader. */
const DECLARATION =
  /^<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(["'])1\.0\1(?:[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(["'])[A-Za-z][A-Za-z0-9._-]*\2)?(?:[ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*(["'])(?:yes|no)\3)?[ \t\r\n]*\?>/;

const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const AMPERSAND = 0x26;
const APOSTROPHE = 0x27;
const SLASH = 0x2f;
const LESS = 0x3c;
const EQUALS = 0x3d;
const GREATER = 0x3e;
const BRACKET = 0x5d;
const SURROGATES = 0xd800;

/**
 * The values of a senddata body, in document order, or `undefined` when this reader cannot vouch
 * for the result (anything outside its subset, and every malformed or invalid transmission).
 */
export function scanSendData(xml: string): OttValue[] | undefined {
  return new SendDataScanner(xml).scan();
}

class SendDataScanner {
  readonly #xml: string;
  #at = 0;
  // Open elements: where each name starts and ends in the text, and its role.
  readonly #nameStarts: number[] = [];
  readonly #nameEnds: number[] = [];
  readonly #roles: number[] = [];
  // The attributes of the tag just read, as positions in the text: most are never copied out.
  readonly #attributes: number[] = [];
  #attributeCount = 0;
  readonly #values: OttValue[] = [];
  #rootClosed = false;
  #stations = 0;
  #offsetMinutes = 0;
  #stationId = "";
  #channel: OttChannel | undefined;
  // The open <VT>: its time, error attributes and where its text starts and ends.
  #time: Date | undefined;
  #errorCode: string | undefined;
  #errorText: string | undefined;
  #textStart = -1;
  #textEnd = -1;

  constructor(xml: string) {
    this.#xml = xml;
  }

  scan(): OttValue[] | undefined {
    const xml = this.#xml;
    const declaration = xml.startsWith("<?xml") ? DECLARATION.exec(xml) : null;
    if (declaration) this.#at = declaration[0].length;
    while (this.#at < xml.length) {
      const tag = xml.indexOf("<", this.#at);
      const textEnd = tag === -1 ? xml.length : tag;
      if (textEnd > this.#at && !this.#text(this.#at, textEnd)) return undefined;
      if (tag === -1) break;
      this.#at = tag;
      const read = xml.charCodeAt(tag + 1) === SLASH ? this.#closeTag() : this.#openTag();
      if (!read) return undefined;
    }
    return this.#rootClosed && this.#stations > 0 ? this.#values : undefined;
  }

  /** Character data from `start` to `end`: only whitespace outside the root, no references or `]` inside it. */
  #text(start: number, end: number): boolean {
    const xml = this.#xml;
    const depth = this.#roles.length;
    const inValue = depth > 0 && this.#roles[depth - 1] === VT;
    for (let i = start; i < end; i++) {
      const c = xml.charCodeAt(i);
      if (c === SPACE || c === LF || c === TAB) continue;
      // XML reads CR as LF, so a value's text could differ after trimming: those go to the general reader.
      if (c === CR && !inValue) continue;
      if (depth === 0 || c < SPACE || c === AMPERSAND || c === BRACKET || c >= SURROGATES) return false;
    }
    if (inValue) {
      this.#textStart = start;
      this.#textEnd = end;
    }
    return true;
  }

  /** `<name attributes…>` or `<name attributes…/>` at the cursor. */
  #openTag(): boolean {
    const nameStart = this.#at + 1;
    const nameEnd = this.#nameEnd(nameStart);
    if (nameEnd === nameStart || this.#rootClosed) return false;
    const depth = this.#roles.length;
    const parentRole = depth === 0 ? OTHER : this.#roles[depth - 1];
    if (parentRole === VT) return false;
    let role = OTHER;
    if (depth === 0) {
      if (!this.#textIs(nameStart, nameEnd, "StationDataList")) return false;
      role = LIST;
    } else if (parentRole !== OTHER && this.#textIs(nameStart, nameEnd, CHILD_NAMES[parentRole])) {
      role = parentRole + 1;
    }
    const selfClosing = this.#readAttributes(nameEnd);
    if (selfClosing === undefined || !this.#enter(role)) return false;
    if (selfClosing) {
      if (role === VT) this.#addValue("");
      if (depth === 0) this.#rootClosed = true;
    } else {
      this.#nameStarts.push(nameStart);
      this.#nameEnds.push(nameEnd);
      this.#roles.push(role);
    }
    return true;
  }

  /** Reads the attributes from `at` to the tag's end; true when it ends with `/>`, undefined when not vouched for. */
  #readAttributes(at: number): boolean | undefined {
    const xml = this.#xml;
    const attributes = this.#attributes;
    this.#attributeCount = 0;
    for (;;) {
      const spaced = isSpace(xml.charCodeAt(at));
      while (isSpace(xml.charCodeAt(at))) at++;
      const c = xml.charCodeAt(at);
      if (c === GREATER) {
        this.#at = at + 1;
        return false;
      }
      if (c === SLASH) {
        if (xml.charCodeAt(at + 1) !== GREATER) return undefined;
        this.#at = at + 2;
        return true;
      }
      const nameStart = at;
      const nameEnd = this.#nameEnd(at);
      if (!spaced || nameEnd === at || this.#attributeCount === MAX_ATTRIBUTES) return undefined;
      for (let i = 0; i < this.#attributeCount; i++) {
        if (this.#sameText(attributes[4 * i], attributes[4 * i + 1], nameStart, nameEnd)) return undefined;
      }
      at = nameEnd;
      while (isSpace(xml.charCodeAt(at))) at++;
      if (xml.charCodeAt(at) !== EQUALS) return undefined;
      at++;
      while (isSpace(xml.charCodeAt(at))) at++;
      const quote = xml.charCodeAt(at);
      if (quote !== QUOTE && quote !== APOSTROPHE) return undefined;
      const valueEnd = xml.indexOf(quote === QUOTE ? '"' : "'", at + 1);
      if (valueEnd === -1) return undefined;
      for (let i = at + 1; i < valueEnd; i++) {
        const v = xml.charCodeAt(i);
        // Whitespace other than spaces would be normalised; references expanded; `<` is an error.
        if (v < SPACE || v === AMPERSAND || v === LESS || v >= SURROGATES) return undefined;
      }
      const slot = 4 * this.#attributeCount++;
      attributes[slot] = nameStart;
      attributes[slot + 1] = nameEnd;
      attributes[slot + 2] = at + 1;
      attributes[slot + 3] = valueEnd;
      at = valueEnd + 1;
    }
  }

  /** Takes what an element of `role` carries from its attributes; false when it is not a valid one. */
  #enter(role: number): boolean {
    if (role === STATION) {
      const stationId = this.#attribute("stationId");
      const offset = offsetMinutes(this.#attribute("timezone") || "+00:00");
      if (!stationId || offset === null) return false;
      this.#stations++;
      this.#stationId = stationId;
      this.#offsetMinutes = offset;
    } else if (role === CHANNEL) {
      const channelId = this.#attribute("channelId");
      if (!channelId) return false;
      this.#channel = {
        stationId: this.#stationId,
        channelId,
        channelName: this.#attribute("name") ?? "",
        unit: this.#attribute("unit") ?? "",
      };
    } else if (role === VT) {
      const t = this.#attributeSlot("t");
      const time = t === -1
        ? null
        : localTimeAt(this.#xml, this.#attributes[t + 2], this.#attributes[t + 3], this.#offsetMinutes);
      if (!time) return false;
      this.#time = time;
      this.#errorCode = this.#attribute("errorcode");
      this.#errorText = this.#attribute("errortext");
      this.#textStart = -1;
    }
    return true;
  }

  /** `</name>` at the cursor, closing the innermost open element. */
  #closeTag(): boolean {
    const xml = this.#xml;
    const depth = this.#roles.length;
    if (depth === 0) return false;
    const nameStart = this.#at + 2;
    let at = this.#nameEnd(nameStart);
    if (!this.#sameText(this.#nameStarts[depth - 1], this.#nameEnds[depth - 1], nameStart, at)) return false;
    while (isSpace(xml.charCodeAt(at))) at++;
    if (xml.charCodeAt(at) !== GREATER) return false;
    this.#at = at + 1;
    if (this.#roles[depth - 1] === VT) this.#addValue(this.#valueText());
    this.#nameStarts.pop();
    this.#nameEnds.pop();
    this.#roles.pop();
    if (depth === 1) this.#rootClosed = true;
    return true;
  }

  /** The closing <VT>'s text, trimmed as `String.prototype.trim` would. */
  #valueText(): string {
    const xml = this.#xml;
    let start = this.#textStart;
    let end = this.#textEnd;
    if (start === -1) return "";
    while (start < end && isSpace(xml.charCodeAt(start))) start++;
    while (end > start && isSpace(xml.charCodeAt(end - 1))) end--;
    const text = xml.slice(start, end);
    // Only the rare non-ASCII edge can be whitespace that `trim` also removes (no-break space and the like).
    return start < end && (xml.charCodeAt(start) > 0x7f || xml.charCodeAt(end - 1) > 0x7f) ? text.trim() : text;
  }

  #addValue(text: string): void {
    this.#values.push(ottValue(this.#channel!, this.#time!, text, this.#errorCode, this.#errorText));
  }

  /** The value of attribute `name` on the tag just read, if it has one. */
  #attribute(name: string): string | undefined {
    const slot = this.#attributeSlot(name);
    return slot === -1 ? undefined : this.#xml.slice(this.#attributes[slot + 2], this.#attributes[slot + 3]);
  }

  /** Where attribute `name` of the tag just read is in {@link SendDataScanner.#attributes}, or -1. */
  #attributeSlot(name: string): number {
    for (let slot = 0; slot < 4 * this.#attributeCount; slot += 4) {
      if (this.#textIs(this.#attributes[slot], this.#attributes[slot + 1], name)) return slot;
    }
    return -1;
  }

  /** True when the text from `start` to `end` is `expected`. */
  #textIs(start: number, end: number, expected: string): boolean {
    return end - start === expected.length && this.#xml.startsWith(expected, start);
  }

  /** True when the text from `aStart` to `aEnd` equals the text from `bStart` to `bEnd`. */
  #sameText(aStart: number, aEnd: number, bStart: number, bEnd: number): boolean {
    if (aEnd - aStart !== bEnd - bStart) return false;
    for (let i = 0; i < aEnd - aStart; i++) {
      if (this.#xml.charCodeAt(aStart + i) !== this.#xml.charCodeAt(bStart + i)) return false;
    }
    return true;
  }

  /** Where the ASCII XML name starting at `start` ends (`start` itself when there is none). */
  #nameEnd(start: number): number {
    const xml = this.#xml;
    let at = start;
    for (;;) {
      const c = xml.charCodeAt(at);
      const letter = (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a; // `| 0x20` folds A-Z onto a-z
      const later = at > start && ((c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2d); // digits, '.', '-'
      if (!letter && c !== 0x5f && !later) return at;
      at++;
    }
  }
}

/** XML's whitespace: space, tab, CR, LF. */
function isSpace(c: number): boolean {
  return c === SPACE || c === LF || c === TAB || c === CR;
}
