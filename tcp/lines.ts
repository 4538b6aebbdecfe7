/**
 * Newline framing for device sockets: bytes in as they arrive, whole text
 * lines out, with a hard cap on how much of an unfinished line is kept.
 */

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
// Not fatal: a line with invalid UTF-8 still reaches the handler (with U+FFFD), which answers with an error line.
const decoder = new TextDecoder();
const BLANK = /^\s*$/;

/**
 * Splits a byte stream into lines: "\n" ends a line, a "\r" before it is
 * dropped, blank lines are skipped, each line is decoded as UTF-8. At most
 * `maxLineBytes` (+1 for a "\r") of an unfinished line are ever buffered:
 * a longer line sets {@link LineSplitter.overflowed} and the rest of the
 * stream is ignored.
 */
export class LineSplitter {
  readonly maxLineBytes: number;
  #parts: Uint8Array[] = [];
  #partBytes = 0;
  #overflowed = false;

  /** @param maxLineBytes longest line accepted, not counting its "\r\n" */
  constructor(maxLineBytes: number) {
    this.maxLineBytes = maxLineBytes;
  }

  /** True once a line longer than the limit was seen. */
  get overflowed(): boolean {
    return this.#overflowed;
  }

  /** Bytes of the unfinished line held so far. */
  get bufferedBytes(): number {
    return this.#partBytes;
  }

  /**
   * Returns the lines `chunk` completes, in order. The unfinished tail is
   * copied, so the caller may reuse `chunk`. After an overflow, returns the
   * lines before the long one and nothing more.
   */
  push(chunk: Uint8Array): string[] {
    const lines: string[] = [];
    let start = 0;
    while (!this.#overflowed && start < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, start);
      if (newline === -1) {
        this.#keep(chunk.subarray(start));
        break;
      }
      this.#finishLine(chunk.subarray(start, newline), lines);
      start = newline + 1;
    }
    return lines;
  }

  /** At end of stream: the last line if it had no "\n" (and was not blank or too long). */
  end(): string | undefined {
    const lines: string[] = [];
    if (!this.#overflowed && this.#partBytes > 0) this.#finishLine(new Uint8Array(0), lines);
    return lines[0];
  }

  #keep(tail: Uint8Array): void {
    // +1: the tail may end with the "\r" of a "\r\n" whose "\n" is in the next chunk.
    if (this.#partBytes + tail.length > this.maxLineBytes + 1) return this.#overflow();
    this.#parts.push(tail.slice());
    this.#partBytes += tail.length;
  }

  #finishLine(last: Uint8Array, lines: string[]): void {
    let bytes = last;
    if (this.#partBytes > 0) {
      if (this.#partBytes + last.length > this.maxLineBytes + 1) return this.#overflow();
      bytes = new Uint8Array(this.#partBytes + last.length);
      let offset = 0;
      for (const part of this.#parts) {
        bytes.set(part, offset);
        offset += part.length;
      }
      bytes.set(last, offset);
      this.#parts = [];
      this.#partBytes = 0;
    }
    if (bytes.at(-1) === CARRIAGE_RETURN) bytes = bytes.subarray(0, -1);
    if (bytes.length > this.maxLineBytes) return this.#overflow();
    const line = decoder.decode(bytes);
    if (!BLANK.test(line)) lines.push(line);
  }

  #overflow(): void {
    this.#overflowed = true;
    this.#parts = [];
    this.#partBytes = 0;
  }
}
