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

const PLUS = 0x2b;
const MINUS = 0x2d;
const DOT = 0x2e;

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
    value: decimalNumber(rawValue),
    rawValue,
    errorCode: errorCode || null,
    errorText: errorText || null,
  };
}

/** Mantissas below this are exact doubles. */
const EXACT_MANTISSA_LIMIT = 2 ** 53;
/** 10^0 to 10^22, each an exact double (parsed, so each is exactly the power). */
const POWERS_OF_TEN = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

/**
 * `text` as a number when it is a plain decimal, `[+-]digits[.digits][e[+-]digits]` with digits on at
 * least one side of the point (`-1.5`, `.5`, `3.`, `2E-3`), else null: no blanks, hex, `Infinity` or
 * empty text, all of which `Number` would accept. Read by hand (a regular expression and `Number` per
 * value cost more); the result is always the one `Number(text)` gives.
 */
export function decimalNumber(text: string): number | null {
  let at = 0;
  let c = text.charCodeAt(0);
  const negative = c === MINUS;
  if (negative || c === PLUS) c = text.charCodeAt(++at);
  let mantissa = 0;
  let digits = 0;
  let fractionDigits = 0;
  for (; isDigit(c); c = text.charCodeAt(++at), digits++) mantissa = mantissa * 10 + c - 0x30;
  if (c === DOT) {
    for (c = text.charCodeAt(++at); isDigit(c); c = text.charCodeAt(++at), fractionDigits++) {
      mantissa = mantissa * 10 + c - 0x30;
    }
  }
  if (digits + fractionDigits === 0) return null;
  if ((c | 0x20) === 0x65) { // e or E: rare in logger values, left to Number once checked
    c = text.charCodeAt(++at);
    if (c === PLUS || c === MINUS) c = text.charCodeAt(++at);
    const exponentStart = at;
    while (isDigit(c)) c = text.charCodeAt(++at);
    return at > exponentStart && at === text.length ? Number(text) : null;
  }
  if (at !== text.length) return null;
  // Both operands exact, so the one correctly rounded division gives the correctly rounded decimal, as Number does.
  if (mantissa < EXACT_MANTISSA_LIMIT && fractionDigits < POWERS_OF_TEN.length) {
    const value = mantissa / POWERS_OF_TEN[fractionDigits];
    return negative ? -value : value;
  }
  return Number(text);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
