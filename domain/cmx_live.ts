/**
 * The `/live/*` API of Track Your Steps, the parts without I/O: user names
 * to emails, the registration decision, the exact messages a front end
 * written for the original matches on, and numbers shaped like the
 * original's Python output (rounding, `MM/DD/YYYY`, sorted keys).
 */

/** Domain appended to user names without `@` (the original's email derivation). */
export const EMAIL_DOMAIN = "cmxtrackyoursteps.com";

/** The original's message strings (seed 003 table and PROTOCOLS.md §3), byte for byte. */
export const MESSAGES = {
  usernameTaken: "Username already registered",
  databaseAddUser: "Database error adding user",
  alreadyRegistered: "Username already registered with that mac, nothing to do",
  deviceOwned: "Device already registered with another username.",
  connectWifi: "Connect to #clus WiFi first",
  registerBadRequest: "Not a POST request or no application/json headers with username and ip",
  firstCharacter: "First character cannot be a @",
  added: "Username added with device",
  deleteExpecting: "Expecting keyname username to delete.",
  usernameNotFound: "Username not found",
  deleteFailed: "Could not delete user from database",
  deleted: "Username and associated devices deleted",
  noData: "No data",
  dataExpecting: "Expecting key name username to get data for.",
  noDevice: "Could not get device for username",
  noLeaderboard: "No data to display for the leader board",
  ipNotFound: "IP not found on CMX.",
} as const;

/** `Leigh` → `Leigh@cmxtrackyoursteps.com`; a name holding `@` is already an email. */
export function usernameEmail(username: string): string {
  return username.includes("@") ? username : `${username}@${EMAIL_DOMAIN}`;
}

/** What the store found about a registration, inside its transaction. */
export interface RegistrationFacts {
  /** The email is a registered user. */
  userExists: boolean;
  /** Email of the user owning the device, or null. */
  deviceOwner: string | null;
  /** How many devices the email already has registered. */
  userDevices: number;
}

/** What a registration does. */
export type RegistrationOutcome =
  | "created"
  | "device-added"
  | "already-registered"
  | "username-taken"
  | "device-owned";

/**
 * The original's order of checks: the same user and device → nothing to do;
 * an existing username with a free device and fewer than `maxDevices`
 * devices → the device is added to it (MAX_REGISTERED_DEVICES); otherwise a
 * taken username → conflict (a front end then asks for another name); a
 * device owned by someone else → conflict; otherwise create user and device.
 */
export function decideRegistration(email: string, facts: RegistrationFacts, maxDevices: number): RegistrationOutcome {
  if (facts.userExists && facts.deviceOwner === email) return "already-registered";
  if (facts.userExists && facts.deviceOwner === null && facts.userDevices < maxDevices) return "device-added";
  if (facts.userExists) return "username-taken";
  if (facts.deviceOwner !== null) return "device-owned";
  return "created";
}

/**
 * A count from a request field the way the original's `int(…)` read it: a
 * JSON integer, or a string of decimal digits (sign and surrounding spaces
 * allowed), so a front end sending `"days": "7"` keeps working. Anything else → null.
 */
export function wholeNumber(value: unknown): number | null {
  if (typeof value === "number") return Number.isSafeInteger(value) ? value : null;
  if (typeof value !== "string" || !/^\s*[+-]?\d+\s*$/.test(value)) return null;
  const parsed = Number(value.trim());
  return Number.isSafeInteger(parsed) ? parsed : null;
}

const METRES_PER_MILE = 1609.344;

/**
 * Rounds like Python's `round(x, digits)`: to the nearest, and an exact tie
 * (in binary) to even, where `toFixed` would round up. `toFixed(100)` spells
 * out the double's exact decimal value, which shows whether it is a tie.
 */
export function roundHalfEven(value: number, digits: number): number {
  // Only a value within rounding error of a tie needs the exact (slow) check; elsewhere toFixed rounds to nearest.
  const scaled = Math.abs(value) * 10 ** digits;
  if (Math.abs(scaled - Math.floor(scaled) - 0.5) > 1e-9 * Math.max(1, scaled)) return Number(value.toFixed(digits));
  const exact = Math.abs(value).toFixed(100);
  const point = exact.indexOf(".");
  const kept = exact.slice(0, point + 1 + digits);
  if (!/^50*$/.test(exact.slice(point + 1 + digits))) return Number(value.toFixed(digits));
  const odd = Number(kept.replace(".", "").at(-1)) % 2 === 1;
  const magnitude = Number(kept) + (odd ? 10 ** -digits : 0);
  return Math.sign(value) * Number(magnitude.toFixed(digits));
}

/** Kilometres and miles of a distance in metres, rounded to `digits` decimals. */
export function kmMiles(metres: number, digits: number): { km: number; miles: number } {
  return { km: roundHalfEven(metres / 1000, digits), miles: roundHalfEven(metres / METRES_PER_MILE, digits) };
}

/** `2018-06-09` → `06/09/2018`. */
export function usDate(day: string): string {
  const [year, month, date] = day.split("-");
  return `${month}/${date}/${year}`;
}

/** JSON with every object's keys sorted, as the original's `json.dumps(…, sort_keys=True)`. */
export function sortedJson(value: unknown): string {
  return JSON.stringify(withSortedKeys(value));
}

/** A copy of plain data with every object's keys in sorted order (a replacer would run for every value). */
function withSortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withSortedKeys);
  if (value === null || typeof value !== "object") return value;
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return value;
  const sorted: Record<string, unknown> = {};
  const fields = value as Record<string, unknown>;
  // The default sort compares UTF-16 code units, as the former `<` comparison did.
  for (const key of Object.keys(fields).sort()) sorted[key] = withSortedKeys(fields[key]);
  return sorted;
}

/**
 * The calendar day (`YYYY-MM-DD`) of an instant in `timeZone`: daily
 * distances follow the venue's clock, not UTC.
 */
export function dayIn(timeZone: string): (ms: number) => string {
  // en-CA formats dates as YYYY-MM-DD.
  const format = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" });
  return (ms) => format.format(ms);
}
