/**
 * Decoding XML bytes by their declaration. OTT loggers declare
 * `encoding="iso-8859-1"`; reading such bodies as UTF-8 would mangle "°C".
 */
import { Buffer } from "node:buffer";
import { err, ok, type Result } from "./result.ts";

const DECLARATION = /^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']/;
const LATIN1_LABELS = new Set(["iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "iso_8859-1"]);

/** The encoding named in the XML declaration, lower-cased; `utf-8` when none is declared (the XML default). */
export function declaredEncoding(bytes: Uint8Array): string {
  const head = latin1(bytes.subarray(0, 200));
  return (DECLARATION.exec(head)?.[1] ?? "utf-8").toLowerCase();
}

/**
 * Decodes an XML document per its declaration. ISO-8859-1 is decoded as true
 * Latin-1 (every byte → the same code point), not as the web's windows-1252
 * alias. Invalid bytes for the declared encoding are an error, not U+FFFD.
 */
export function decodeXml(bytes: Uint8Array): Result<string> {
  const encoding = declaredEncoding(bytes);
  if (LATIN1_LABELS.has(encoding)) return ok(latin1(bytes));
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(encoding, { fatal: true });
  } catch {
    return err(`unsupported XML encoding "${encoding}" (use UTF-8 or ISO-8859-1)`);
  }
  try {
    return ok(decoder.decode(bytes));
  } catch {
    return err(`body is not valid ${encoding} as its XML declaration says`);
  }
}

/**
 * Byte n → code point n. Node's `latin1` Buffer decoding is exactly that and builds a one-byte string
 * directly: about 14× faster on an 8 KB body than the web's windows-1252 decoder, which also reads
 * bytes 0x80–0x9F differently.
 */
function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}
