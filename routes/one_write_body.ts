/**
 * Response bodies that leave the server in one TCP write.
 *
 * Over TLS, Deno 2.9's HTTP/1.1 server sends a fixed-length response whose
 * body passes about 400 bytes as two writes (head, then body), and its
 * sockets keep Nagle's algorithm on: the body waits until the client ACKs
 * the head, which Linux delays by 40 ms. Every such answer on a keep-alive
 * connection took 44 ms (wrk, 8 connections, a 10-leader `/live/leaderboard`)
 * instead of under 1 ms; HTTP/2 clients were not affected. A body handed over
 * as a one-chunk stream takes the chunked path, which writes head, chunk and
 * end together.
 */

/** Bodies up to this many bytes go out with the head anyway: the fixed-length path is cheaper for them. */
const ONE_WRITE_FIXED_BYTES = 256;

const encoder = new TextEncoder();

/** `text` as a body that is written together with the response head, whatever its size. */
export function oneWriteBody(text: string): BodyInit {
  // UTF-16 length ≤ UTF-8 length ≤ 3 × UTF-16 length: no need to encode a body that is short anyway.
  if (text.length * 3 <= ONE_WRITE_FIXED_BYTES) return text;
  const bytes = encoder.encode(text);
  if (bytes.length <= ONE_WRITE_FIXED_BYTES) return bytes;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
}
