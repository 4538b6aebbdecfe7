/** Access to the shared sample payloads in `../shared/fixtures/` (beside the repository). */
import { fileURLToPath } from "node:url";

/** Absolute path of a shared fixture file. */
export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`../../../shared/fixtures/${name}`, import.meta.url));
}

/** The bytes of a shared fixture, exactly as stored. */
export function readFixture(name: string): Promise<Uint8Array<ArrayBuffer>> {
  return Deno.readFile(fixturePath(name));
}
