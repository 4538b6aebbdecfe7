/**
 * Request/reply over lines: each line gets exactly one reply line, in order.
 * Lines are handled concurrently up to a window, so a device that pipelines
 * packets shares group commits instead of waiting one commit per packet.
 */
import type { DeviceConnection } from "./listener.ts";

/**
 * Reads every line of `connection`, answers each with `handleLine`'s reply in
 * arrival order, and returns once every reply is written. `handleLine` must
 * not reject: it turns every failure into an error line for the device.
 */
export async function serveLines(
  connection: DeviceConnection,
  handleLine: (line: string) => Promise<string>,
  maxInFlight: number,
): Promise<void> {
  let replies = Promise.resolve();
  let inFlight = 0;
  // A failed write (device gone) is kept here rather than left as a rejected promise nobody awaits yet.
  let writeFailure: { error: unknown } | undefined;
  for await (const line of connection.lines()) {
    // Bounded window: a device streaming faster than we store waits here instead of growing memory.
    if (inFlight >= maxInFlight) await replies;
    if (writeFailure) throw writeFailure.error;
    const reply = handleLine(line);
    inFlight++;
    replies = replies.then(async () => {
      if (writeFailure) return;
      await connection.reply(await reply);
      inFlight--;
    }).catch((error) => {
      writeFailure ??= { error };
    });
  }
  await replies;
  if (writeFailure) throw writeFailure.error;
}
