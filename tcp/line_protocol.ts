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
  let wakeWriter: (() => void) | undefined;
  let readerDone = false;
  let slotFreed: (() => void) | undefined;

  const writer = (async () => {
    while (!readerDone || pending.length > 0) {
      if (pending.length === 0) {
        await new Promise<void>((resolve) => wakeWriter = resolve);
        continue;
      }
      await pending[0].settled;
      const ready: string[] = [];
      while (pending.length > 0 && pending[0].text !== undefined) ready.push(pending.shift()!.text!);
      slotFreed?.();
      await connection.reply(ready.join("\n"));
    }
  })();
  // A failed write (device gone) must not become an unhandled rejection while the reader still runs.
  let writeFailure: { error: unknown } | undefined;
  writer.catch((error) => {
    writeFailure = { error };
    slotFreed?.();
  });

  try {
    for await (const line of connection.lines()) {
      // Bounded window: a device streaming faster than we store waits here instead of growing memory.
      while (pending.length >= maxInFlight && !writeFailure) await new Promise<void>((resolve) => slotFreed = resolve);
      if (writeFailure) break;
      const reply: PendingReply = { text: undefined, settled: Promise.resolve() };
      reply.settled = handleLine(line).then((text) => {
        reply.text = text;
      });
      pending.push(reply);
      wakeWriter?.();
    }
  } finally {
    readerDone = true;
    wakeWriter?.();
  }
  await writer.catch(() => {});
  if (writeFailure) throw writeFailure.error;
}
