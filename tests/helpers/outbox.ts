/** Reading the file outbox the way a person would: each .eml file, its recipient and its decoded text. */
import { join } from "node:path";

/** One email found in the outbox. */
export interface OutboxMail {
  file: string;
  to: string;
  subject: string;
  /** The text body, quoted-printable decoded. */
  text: string;
}

/** Every email in `dir`, oldest first (the file names start with the time). */
export async function outboxMails(dir: string): Promise<OutboxMail[]> {
  let names: string[];
  try {
    names = (await Array.fromAsync(Deno.readDir(dir))).map((entry) => entry.name).filter((name) =>
      name.endsWith(".eml")
    );
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  return await Promise.all(names.sort().map(async (name) => parseEml(name, await Deno.readTextFile(join(dir, name)))));
}

/** Waits (up to 10 s) for an email to `to` whose text matches `pattern`. */
export async function waitForMail(dir: string, to: string, pattern: RegExp): Promise<OutboxMail> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const found = (await outboxMails(dir)).find((mail) => mail.to.includes(to) && pattern.test(mail.text));
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no email to ${to} matching ${pattern} in ${dir}`);
}

/** The first link in a text that starts with `base` (e.g. `https://…/account/activate`). */
export function linkIn(text: string, base: string): string {
  const link = text.split(/\s+/).find((word) => word.startsWith(base));
  if (link === undefined) throw new Error(`no link starting with ${base} in:\n${text}`);
  return link;
}

function parseEml(file: string, eml: string): OutboxMail {
  const split = eml.indexOf("\n\n");
  const headers = eml.slice(0, split).replace(/\n[ \t]+/g, " ");
  const header = (name: string) => new RegExp(`^${name}: (.*)$`, "mi").exec(headers)?.[1] ?? "";
  const body = eml.slice(split + 2);
  const text = /quoted-printable/i.test(header("Content-Transfer-Encoding")) ? decodeQuotedPrintable(body) : body;
  return { file, to: header("To"), subject: header("Subject"), text };
}

function decodeQuotedPrintable(body: string): string {
  const bytes: number[] = [];
  const joined = body.replace(/=\r?\n/g, "");
  for (let i = 0; i < joined.length; i++) {
    if (joined[i] === "=" && /^[0-9A-F]{2}$/i.test(joined.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(joined.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...new TextEncoder().encode(joined[i]));
    }
  }
  return new TextDecoder().decode(Uint8Array.from(bytes));
}
