/**
 * Follows the TLS record framing of what a client sends, without decrypting
 * anything, to tell when its handshake is over: the first application_data
 * record. In TLS 1.3 that is the client's Finished (sent as application
 * data), in TLS 1.2 the first request bytes after it. A client that never
 * completes a handshake never sends one.
 */

const RECORD_HEADER_BYTES = 5;
const APPLICATION_DATA = 0x17;

/** Reads TLS record headers from a byte stream fed chunk by chunk. */
export class TlsRecordWatch {
  readonly #header = new Uint8Array(RECORD_HEADER_BYTES);
  #headerBytes = 0;
  /** Bytes of the current record's body still to skip. */
  #bodyBytesLeft = 0;
  #applicationData = false;

  /** True once an application_data record has begun. */
  get applicationData(): boolean {
    return this.#applicationData;
  }

  /** Feeds the next chunk; returns {@link applicationData}. */
  push(chunk: Uint8Array): boolean {
    let at = 0;
    while (at < chunk.length && !this.#applicationData) {
      if (this.#bodyBytesLeft > 0) {
        const skipped = Math.min(this.#bodyBytesLeft, chunk.length - at);
        this.#bodyBytesLeft -= skipped;
        at += skipped;
        continue;
      }
      this.#header[this.#headerBytes++] = chunk[at++];
      if (this.#headerBytes < RECORD_HEADER_BYTES) continue;
      this.#headerBytes = 0;
      this.#applicationData = this.#header[0] === APPLICATION_DATA;
      this.#bodyBytesLeft = (this.#header[3] << 8) | this.#header[4];
    }
    return this.#applicationData;
  }
}
