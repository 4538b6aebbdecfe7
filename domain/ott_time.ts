/**
 * OTT logger times: a station's local `YYYY-MM-DDTHH:MM:SS[.ffffff]` plus its
 * timezone (`+01:00`, `Z`) → UTC. Every value of every transmission comes
 * through here, so the parsing reads fixed character positions and computes
 * the instant with integer arithmetic: a regular expression with its match
 * array, or `Date.UTC` per value, cost several times more.
 */

const OFFSET = /^([+-])(\d{2}):(\d{2})$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const MILLIS_PER_DAY = 86_400_000;
/** A fraction of 1 to 6 digits times this is in microseconds. */
const MICROS_PER_FRACTION_UNIT = [100_000, 10_000, 1000, 100, 10, 1];

/** A logger's local `YYYY-MM-DDTHH:MM:SS` in the station's timezone (`+01:00`, `Z`) → UTC Date, or null. */
export function parseLoggerTime(t: string, timezone: string): Date | null {
  const offset = offsetMinutes(timezone);
  return offset === null ? null : localTimeToUtc(t, offset);
}

/** `Z` or `±HH:MM` → minutes east of UTC, or null when it is neither. */
export function offsetMinutes(timezone: string): number | null {
  if (timezone === "Z") return 0;
  const offset = OFFSET.exec(timezone);
  if (!offset) return null;
  return (offset[1] === "-" ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3]));
}

/**
 * `YYYY-MM-DDTHH:MM:SS` with up to six fraction digits, read as local time `offsetMinutes` east
 * of UTC → UTC Date, or null when it is not that shape or not a real calendar moment.
 */
export function localTimeToUtc(t: string, offsetMinutes: number): Date | null {
  return localTimeAt(t, 0, t.length, offsetMinutes);
}

/** {@link localTimeToUtc} of `text` from `start` to `end`, read in place (the scanner's attributes are never copied). */
export function localTimeAt(text: string, start: number, end: number, offsetMinutes: number): Date | null {
  const length = end - start;
  if (length !== 19 && (length < 21 || length > 26 || text.charCodeAt(start + 19) !== 0x2e)) return null;
  if (
    text.charCodeAt(start + 4) !== 0x2d || text.charCodeAt(start + 7) !== 0x2d ||
    text.charCodeAt(start + 10) !== 0x54 || text.charCodeAt(start + 13) !== 0x3a ||
    text.charCodeAt(start + 16) !== 0x3a
  ) return null;
  const year = digitsAt(text, start, 4);
  const month = digitsAt(text, start + 5, 2);
  const day = digitsAt(text, start + 8, 2);
  const hour = digitsAt(text, start + 11, 2);
  const minute = digitsAt(text, start + 14, 2);
  const second = digitsAt(text, start + 17, 2);
  const fraction = length === 19 ? 0 : digitsAt(text, start + 20, length - 20);
  if (year < 1900 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23) return null;
  if (minute < 0 || minute > 59 || second < 0 || second > 59 || fraction < 0) return null;
  // A logger clock never says 2024-02-30 (a calendar computation would roll it over into March).
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1])) return null;
  const millis = length === 19 ? 0 : Math.floor(fraction * MICROS_PER_FRACTION_UNIT[length - 21] / 1000);
  const secondOfDay = hour * 3600 + minute * 60 + second - offsetMinutes * 60;
  return new Date(daysSinceEpoch(year, month, day) * MILLIS_PER_DAY + secondOfDay * 1000 + millis);
}

/**
 * Days from 1970-01-01 to the given proleptic Gregorian date (Howard Hinnant's `days_from_civil`),
 * the same count `Date.UTC` uses; `year` ≥ 1900 here, so every intermediate stays positive.
 */
function daysSinceEpoch(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
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
