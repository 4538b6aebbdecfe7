/**
 * The drop-off upload page in headless Chromium: two files dropped into Uppy,
 * the connection cut mid-way, the uploads resumed (not restarted), and the
 * bytes on the server compared by SHA-256. Uploads are throttled through the
 * DevTools protocol so the cut lands mid-file on any machine.
 */
import assert from "node:assert/strict";
import { basename, join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { launchBrowser, screenshotPath } from "../helpers/browser.ts";
import { startCutProxy } from "../helpers/cut_proxy.ts";
import { createProject, listUploads, sha256Hex, testBytes, waitUntilEncrypted } from "../helpers/dropoff.ts";
import { decrypt, ownerKeys } from "../helpers/openpgp.ts";
import { basicAuth, startTestServer, type TestServer } from "../helpers/server.ts";

const MIB = 1024 * 1024;
const CODE = "river-delta-7";

/** Two local files of a few MiB with distinct contents. */
async function sampleFiles(dir: string): Promise<{ path: string; bytes: Uint8Array }[]> {
  return await Promise.all([["plankton.bin", 11], ["sediment.bin", 12]].map(async ([name, seed]) => {
    const bytes = testBytes(3 * MIB + 12345 * Number(seed), Number(seed));
    const path = join(dir, String(name));
    await Deno.writeFile(path, bytes);
    return { path, bytes };
  }));
}

/** Caps the page's upload bandwidth (DevTools network emulation). */
async function throttleUploads(context: BrowserContext, page: Page, bytesPerSecond: number): Promise<void> {
  const session = await context.newCDPSession(page);
  await session.send("Network.enable");
  await session.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: bytesPerSecond,
  });
}

/** The overall progress Uppy's status bar shows, 0–100. */
async function progress(page: Page): Promise<number> {
  return Number(await page.locator(".uppy-StatusBar-progress").getAttribute("aria-valuenow"));
}

/** Waits until the status bar shows at least `percent`. */
async function progressReaches(page: Page, percent: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (await progress(page) < percent) {
    assert.ok(Date.now() < deadline, `upload progress stuck at ${await progress(page)}%`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Waits until the server has recorded bytes of both uploads: the closed tab's
 * PATCHes end when the stream reset arrives or, if it never does, at the idle
 * timeout. A page asking HEAD before that still sees offset 0 (the lock
 * refuses its PATCH, and tus-js-client retries later), which is a different
 * race from the one this test is about.
 */
async function bothPartlyReceived(server: TestServer, projectId: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const listed = await listUploads(server.fetch, projectId);
    if (listed.length === 2 && listed.every((upload) => upload.received > 0)) return;
    assert.ok(Date.now() < deadline, `the closed tab's bytes were not recorded: ${JSON.stringify(listed)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The uploads the owner sees, checked against the local files byte for byte (listing, download and disk). */
async function assertStored(server: TestServer, projectId: string, files: { bytes: Uint8Array }[]): Promise<void> {
  const listed = await listUploads(server.fetch, projectId);
  assert.equal(listed.length, files.length, JSON.stringify(listed));
  for (const file of files) {
    const sha256 = sha256Hex(file.bytes);
    const entry = listed.find((item) => item.sha256 === sha256);
    assert.ok(entry, `no finished upload with sha256 ${sha256}: ${JSON.stringify(listed)}`);
    assert.equal(entry.size, file.bytes.length);
    assert.equal(entry.note, "cores from station 4");
    const onDisk = await Deno.readFile(join(server.dataDir, "uploads", entry.diskName));
    assert.equal(sha256Hex(onDisk), sha256);
    const download = await server.fetch(`/api/projects/${projectId}/uploads/${entry.id}/file`, {
      headers: basicAuth(),
    });
    assert.equal(sha256Hex(new Uint8Array(await download.arrayBuffer())), sha256);
  }
}

/** What a browser test sees of the page: script errors, CSP violations and each PATCH's offset. */
interface PageWatch {
  problems: string[];
  patchOffsets: number[];
}

/** Opens the project's upload page through `origin` in a throttled tab, fills code and note, adds `files`. */
async function openUploadPage(
  context: BrowserContext,
  origin: string,
  projectId: string,
  files: { path: string }[],
): Promise<{ page: Page; watch: PageWatch }> {
  const page = await context.newPage();
  const watch: PageWatch = { problems: [], patchOffsets: [] };
  page.on("pageerror", (error) => watch.problems.push(String(error)));
  page.on("console", (message) => {
    if (message.text().includes("Content Security Policy")) watch.problems.push(message.text());
  });
  page.on("request", (request) => {
    if (request.method() === "PATCH") watch.patchOffsets.push(Number(request.headers()["upload-offset"]));
  });
  const response = await page.goto(`${origin}/upload/${projectId}`);
  assert.equal(response?.status(), 200);
  assert.match(response!.headers()["content-security-policy"], /script-src 'self'/);
  assert.equal(response!.headers()["referrer-policy"], "no-referrer");
  await throttleUploads(context, page, 1 * MIB);
  await page.fill("#dropoff-code", CODE);
  await page.fill("#dropoff-note", "cores from station 4");
  await page.locator(".uppy-Dashboard-input").first().setInputFiles(files.map((file) => file.path));
  await page.click(".uppy-StatusBar-actionBtn--upload");
  return { page, watch };
}

/** A server with a project (upload code plus `settings`), two sample files and a browser; cleans all up after. */
async function withUploadSetup(
  settings: Record<string, unknown>,
  test: (
    setup: {
      server: TestServer;
      projectId: string;
      files: { path: string; bytes: Uint8Array }[];
      context: BrowserContext;
    },
  ) => Promise<void>,
): Promise<void> {
  // A PATCH whose abort never reaches the server (HTTP/2 stream reset on a closed tab) must not hold its lock long.
  await using server = await startTestServer({ tus: { idleTimeoutSeconds: 2 } });
  const project = await createProject(server.fetch, { code: CODE, ...settings });
  const dir = await Deno.makeTempDir({ prefix: "fieldgate-dropoff-" });
  const browser = await launchBrowser();
  try {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    await test({ server, projectId: project.id, files: await sampleFiles(dir), context });
  } finally {
    await browser.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("drop-off page: two files, connection cut mid-way, resumed, bytes identical on the server", async () => {
  await withUploadSetup({}, async ({ server, projectId, files, context }) => {
    const proxy = startCutProxy({ hostname: "127.0.0.1", port: Number(new URL(server.httpsUrl).port) });
    try {
      const { page, watch } = await openUploadPage(context, `https://127.0.0.1:${proxy.port}`, projectId, files);
      await progressReaches(page, 30);
      proxy.cut();
      const cutAt = await progress(page);
      assert.ok(cutAt < 90, `the cut came too late (${cutAt}%)`);
      await page.waitForSelector(".uppy-StatusBar.is-complete", { timeout: 60_000 });

      const path = await screenshotPath("dropoff-upload");
      await page.screenshot({ path, fullPage: true });
      console.log(`screenshot: ${path}`);
      assert.deepEqual(watch.problems, []);
      assert.ok(watch.patchOffsets.some((offset) => offset > 0), `no PATCH resumed mid-file: ${watch.patchOffsets}`);
      await assertStored(server, projectId, files);
    } finally {
      proxy.close();
    }
  });
});

Deno.test("drop-off page: after the tab is closed mid-upload, adding the same files continues them", async () => {
  await withUploadSetup({}, async ({ server, projectId, files, context }) => {
    const first = await openUploadPage(context, server.httpsUrl, projectId, files);
    await progressReaches(first.page, 30);
    await first.page.close();
    await bothPartlyReceived(server, projectId);

    const second = await openUploadPage(context, server.httpsUrl, projectId, files);
    await second.page.waitForSelector(".uppy-StatusBar.is-complete", { timeout: 60_000 });
    assert.deepEqual([...first.watch.problems, ...second.watch.problems], []);
    // Both files continue from what reached the server, found through the fingerprints in localStorage.
    assert.equal(second.watch.patchOffsets.filter((offset) => offset > 0).length, 2, `${second.watch.patchOffsets}`);
    await assertStored(server, projectId, files);
  });
});

Deno.test("drop-off page: files encrypted in the browser reach the owner under one OpenPGP layer", async () => {
  const keys = await ownerKeys();
  await withUploadSetup({ publicKey: keys.publicKey }, async ({ server, projectId, files, context }) => {
    const { page, watch } = await openUploadPage(context, server.httpsUrl, projectId, files);
    assert.equal(await page.isChecked("#dropoff-encrypt"), true);
    await page.waitForSelector(".uppy-StatusBar.is-complete", { timeout: 60_000 });
    const path = await screenshotPath("dropoff-upload-encrypted");
    await page.screenshot({ path, fullPage: true });
    console.log(`screenshot: ${path}`);
    assert.deepEqual(watch.problems, []);

    const listed = await listUploads(server.fetch, projectId);
    for (const file of files) {
      const entry = listed.find((item) => item.filename === `${basename(file.path)}.gpg`);
      assert.ok(entry, `no upload named ${basename(file.path)}.gpg: ${JSON.stringify(listed)}`);
      await waitUntilEncrypted(server.fetch, projectId, entry.id);
      const url = `/api/projects/${projectId}/uploads/${entry.id}/file`;
      const response = await server.fetch(url, { headers: basicAuth() });
      assert.equal(response.headers.get("content-disposition"), `attachment; filename="${basename(file.path)}.gpg"`);
      const stored = new Uint8Array(await response.arrayBuffer());
      // Kept exactly as the browser sent it (not encrypted a second time), and one decryption gives the file.
      assert.equal(sha256Hex(stored), entry.sha256);
      assert.equal(sha256Hex(await decrypt(stored, keys.privateKey)), sha256Hex(file.bytes));
    }
  });
});
