/**
 * Request/reply over lines: each line gets exactly one reply line, in order.
 * Lines are handled concurrently up to a window, so a device that pipelines
 * packets shares group commits instead of waiting one commit per packet, and
 * replies that are ready together go out in one write (one TLS record).
 */
import type { DeviceConnection } from "./listener.ts";

interface PendingReply {
  text: string | undefined;
  settled: Promise<void>;
}

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
  const pending: PendingReply[] = [];
  let slotFreed: (() => void) | undefined;
  let writeFailure: { error: unknown } | undefined;
  let writer: Promise<void> | undefined;

  // Runs only while replies are owed (started by the line that owes one), so a connection waiting for its next
  // packet holds no promise of ours: at 10,000 connections such per-packet leftovers are what made the garbage
  // collector's pauses long (bench/README.md).
  const writeOwed = async () => {
    try {
      while (pending.length > 0) {
        await pending[0].settled;
        const ready: string[] = [];
        while (pending.length > 0 && pending[0].text !== undefined) ready.push(pending.shift()!.text!);
        slotFreed?.();
        await connection.reply(ready.join("\n"));
      }
    } catch (error) {
      // A failed write (device gone): the reader stops at its next line, and serveLines throws this.
      writeFailure = { error };
      slotFreed?.();
    } finally {
      writer = undefined;
    }
  };

  for await (const line of connection.lines()) {
    // Bounded window: a device streaming faster than we store waits here instead of growing memory.
    while (pending.length >= maxInFlight && !writeFailure) await new Promise<void>((resolve) => slotFreed = resolve);
    if (writeFailure) break;
    const reply: PendingReply = { text: undefined, settled: Promise.resolve() };
    reply.settled = handleLine(line).then((text) => {
      reply.text = text;
    });
    pending.push(reply);
    writer ??= writeOwed();
  }
  await writer;
  if (writeFailure) throw writeFailure.error;
}
