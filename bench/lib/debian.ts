/** Debian tools the peers and load generators need, installed on demand with apt-get. */
import { runCommand } from "./process.ts";

const APT_TIMEOUT_MS = 300_000;

/**
 * Installs `packages` unless `present()` already holds; runs `apt-get update` only when the
 * first install fails (the package lists may be missing or stale).
 */
export async function ensureDebianPackages(packages: string[], present: () => Promise<boolean>): Promise<void> {
  if (await present()) return;
  console.error(`installing Debian packages: ${packages.join(" ")}`);
  const install = () => runCommand("apt-get", ["install", "-y", "-q", ...packages], APT_TIMEOUT_MS);
  try {
    await install();
  } catch {
    await runCommand("apt-get", ["update", "-q"], APT_TIMEOUT_MS);
    await install();
  }
  if (!await present()) throw new Error(`installed ${packages.join(" ")} but the tools are still missing`);
}
