/**
 * Headless Chromium for browser tests, driven by playwright-core. Debian's
 * `chromium` package provides the binary (`.ci/run` installs it).
 */
import { type Browser, chromium } from "playwright-core";

/** Where Debian installs Chromium. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/** Directory where browser tests leave their screenshots for people to look at. */
export const SCREENSHOT_DIR = new URL("../tmp/screenshots/", import.meta.url).pathname;

/**
 * Launches headless Chromium with the flags this machine needs (no sandbox as
 * root, no background networking on a closed network). Fails loudly if the
 * binary is missing instead of skipping.
 */
export async function launchBrowser(): Promise<Browser> {
  try {
    await Deno.stat(CHROMIUM_PATH);
  } catch {
    throw new Error(
      `${CHROMIUM_PATH} is missing: install Debian's chromium (apt-get install chromium), as .ci/run does`,
    );
  }
  return await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** Path of a screenshot named `name` (the directory is created on demand). */
export async function screenshotPath(name: string): Promise<string> {
  await Deno.mkdir(SCREENSHOT_DIR, { recursive: true });
  return `${SCREENSHOT_DIR}${name}.png`;
}
