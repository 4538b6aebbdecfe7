/**
 * Request/reply over lines: each line gets exactly one reply line, in order.
 * Lines are handled concurrently up to a window, so a device that pipelines
 * packets shares group commits instead of waiting one commit per packet, and
 * replies that are ready together go out in one write (one TLS record).
 *
 * Driven by the connection's events (receiveLines) and the replies' own
 * settling, not by a loop awaiting the next line: a connection between two
 * packets then holds no promise, closure or line of the last one. With 10,000
 * devices sending one packet per 2 s, those waits outlived every young-generation
 * collection (about 1.1 KB per device and packet, copied, then promoted).
 */
import type { DeviceConnection } from "./listener.ts";

interface PendingReply {
  text: string | undefined;
  /** handleLine rejected (it must not): ends the replies like a failed write. */
  failure: { error: unknown } | undefined;
}

/**
 * Reads every line of `connection`, answers each with `handleLine`'s reply in
 * arrival order, and returns once every reply is written. `handleLine` must
 * not reject: it turns every failure into an error line for the device (if it
 * does reject, serving ends with that error, as when a write fails).
 */
export function serveLines(
  connection: DeviceConnection,
  handleLine: (line: string) => Promise<string>,
  maxInFlight: number,
): Promise<void> {
  const { promise, resolve, reject } = Promise.withResolvers<void>();
  const pending: PendingReply[] = [];
  // A line taken while the window was full: it waits for a free slot, and no further line is taken meanwhile.
  let held: string | undefined;
  let writing = false;
  let linesEnded = false;
  let settled = false;
  let writeFailed = false;

  const settle = (failure: { error: unknown } | undefined) => {
    if (settled) return;
    settled = true;
    if (failure) reject(failure.error);
    else resolve();
  };

  // Starts handling `line`; false if handleLine threw instead of returning a promise (serving then ends with it).
  const start = (line: string): boolean => {
    const reply: PendingReply = { text: undefined, failure: undefined };
    let handled: Promise<string>;
    try {
      handled = handleLine(line);
    } catch (error) {
      settle({ error });
      return false;
    }
    handled.then((text) => {
      reply.text = text;
      writeSoon();
    }, (error) => {
      reply.failure = { error };
      writeSoon();
    });
    pending.push(reply);
    return true;
  };

  // After the lines ended, the promise resolves once every reply is written.
  const ended = () => {
    if (linesEnded && pending.length === 0 && !writing) settle(undefined);
  };

  // A failed write (device gone) or a handler that broke its promise not to reject: serving ends now, and no
  // further line is taken, rather than leaving the device waiting for a reply that will not come.
  const fail = (error: unknown) => {
    writing = false;
    writeFailed = true;
    held = undefined;
    settle({ error });
  };

  // The replies of one group commit settle one after another in the same turn: writing once they all have
  // sends them in one write (one TLS record) instead of the first alone and the rest after it.
  let writeScheduled = false;
  const writeSoon = () => {
    if (writeScheduled) return;
    writeScheduled = true;
    queueMicrotask(() => {
      writeScheduled = false;
      write();
    });
  };

  // One write at a time, of every reply ready at the head, in order.
  const write = () => {
    if (writing || writeFailed) return;
    if (pending.length > 0 && pending[0].failure !== undefined) return fail(pending[0].failure.error);
    if (pending.length === 0 || pending[0].text === undefined) return ended();
    let text = pending.shift()!.text!;
    while (pending.length > 0 && pending[0].text !== undefined) text += "\n" + pending.shift()!.text!;
    writing = true;
    connection.reply(text).then(() => {
      writing = false;
      write();
    }, fail);
    if (held !== undefined && pending.length < maxInFlight) {
      const line = held;
      held = undefined;
      if (start(line)) connection.resumeLines();
    }
  };

  connection.receiveLines({
    line(text) {
      if (settled) return false;
      // Bounded window: a device streaming faster than we store waits here instead of growing memory.
      if (pending.length >= maxInFlight) {
        held = text;
        return false;
      }
      return start(text);
    },
    end(failure) {
      linesEnded = true;
      // The connection breaking (lost, idle timeout) ends serving at once; replies still owed go out if they can.
      if (failure) return settle(failure);
      ended();
    },
  });
  return promise;
}
