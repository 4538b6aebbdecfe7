/**
 * Reading passwords for the command-line tools: from an echo-free terminal
 * prompt or the first line of standard input, never from the command line.
 */

/** A mistake in how the command was called; exit code 2. */
export class UsageError extends Error {}

/** The user pressed Ctrl-C or Ctrl-D at a prompt; exit code 130. */
export class CancelledError extends Error {}

/** A new password for `name`: the first line of standard input, or typed twice at the terminal. */
export async function readNewPassword(name: string, passwordStdin: boolean): Promise<string> {
  if (passwordStdin) return await readPasswordLine();
  const password = await promptPassword(`New password for ${name}: `);
  if (password !== await promptPassword("Repeat the password: ")) {
    throw new UsageError("the two passwords differ; nothing changed. Run the command again.");
  }
  return password;
}

/** First line of standard input, without its line ending. */
export async function readPasswordLine(): Promise<string> {
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(4096);
  while (true) {
    const count = await Deno.stdin.read(buffer);
    if (count === null) break;
    chunks.push(buffer.slice(0, count));
    if (buffer.subarray(0, count).includes(0x0a)) break;
  }
  if (chunks.length === 0) throw new UsageError("--password-stdin: standard input is empty; pipe the password into it");
  const text = new TextDecoder().decode(concat(chunks));
  return text.split("\n")[0].replace(/\r$/, "");
}

/** Reads a password at the terminal with echo off (raw mode), handling backspace, Ctrl-U, Ctrl-C and Ctrl-D. */
export async function promptPassword(label: string): Promise<string> {
  if (!Deno.stdin.isTerminal()) {
    throw new UsageError("standard input is not a terminal; pipe the password and add --password-stdin");
  }
  const bytes: number[] = [];
  const buffer = new Uint8Array(256);
  // Raw mode first: typing that starts as soon as the prompt shows must already be unechoed.
  Deno.stdin.setRaw(true);
  try {
    await Deno.stderr.write(new TextEncoder().encode(label));
    reading: while (true) {
      const count = await Deno.stdin.read(buffer);
      if (count === null) break;
      for (const byte of buffer.subarray(0, count)) {
        if (byte === 0x0d || byte === 0x0a) break reading;
        if (byte === 0x03 || (byte === 0x04 && bytes.length === 0)) throw new CancelledError();
        if (byte === 0x04) break reading;
        if (byte === 0x15) bytes.length = 0;
        // Backspace removes one character: its UTF-8 continuation bytes, then its lead byte.
        else if (byte === 0x7f || byte === 0x08) { while (bytes.length > 0 && (bytes.pop()! & 0xc0) === 0x80); }
        else bytes.push(byte);
      }
    }
  } finally {
    Deno.stdin.setRaw(false);
    await Deno.stderr.write(new TextEncoder().encode("\n"));
  }
  return new TextDecoder().decode(Uint8Array.from(bytes));
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
