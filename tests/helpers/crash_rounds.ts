/**
 * The kill -9 loop shared by the crash tests: start the server as a child,
 * let clients work until at least one acknowledgement arrived, kill it at a
 * random moment, wait for every client to notice, repeat.
 */
import assert from "node:assert/strict";
import { type ChildServer, spawnServer } from "./server.ts";

/** What a round's clients get: the server, and whether it has been killed yet. */
export interface CrashRound {
  server: ChildServer;
  killed(): boolean;
  /** Clients call this after every acknowledgement they record. */
  acknowledged(): void;
}

/** Runs `rounds` kill -9 rounds on `dataDir`; `clients` starts the round's client loops. */
export async function crashRounds(
  dataDir: string,
  rounds: number,
  clients: (round: CrashRound) => Promise<void>[],
): Promise<void> {
  for (let index = 0; index < rounds; index++) {
    const server = await spawnServer(dataDir);
    let killed = false;
    let acknowledgements = 0;
    let firstAck!: () => void;
    const acknowledgedOnce = new Promise<void>((resolve) => firstAck = resolve);
    const running = clients({
      server,
      killed: () => killed,
      acknowledged: () => {
        acknowledgements++;
        firstAck();
      },
    });
    const noAck = setTimeout(firstAck, 30_000);
    await acknowledgedOnce;
    clearTimeout(noAck);
    assert.ok(acknowledgements > 0, `round ${index + 1}: nothing acknowledged within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 200 + Math.random() * 800));
    server.process.kill("SIGKILL");
    killed = true;
    await server.exited;
    await Promise.all(running);
    console.log(`round ${index + 1}: ${acknowledgements} acknowledged before kill -9`);
  }
}
