/**
 * The status dashboard in headless Chromium, after real traffic: OTT posts
 * over HTTPS (one of them invalid) and meter packets over TLS to a fieldgate
 * child process. The charts are drawn, the figures match what was sent, the
 * silent station is highlighted, and a screenshot is left for people.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { launchBrowser, screenshotPath } from "../helpers/browser.ts";
import { connectDevice } from "../helpers/device_client.ts";
import { readFixture } from "../helpers/fixtures.ts";
import { basicAuth, spawnServer, writeUsersFile } from "../helpers/server.ts";

/** 6 s: long enough that the first devices go stale while the test waits, short enough for CI. */
const STALE_AFTER_MINUTES = 0.1;

Deno.test("the dashboard charts real traffic and highlights silent devices", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "fieldgate-dashboard-" });
  await writeUsersFile(dataDir);
  const server = await spawnServer(dataDir, ["--status-stale-after-minutes", String(STALE_AFTER_MINUTES)]);
  const caFile = join(dataDir, "certs", "dev-cert.pem");
  const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(caFile)] });
  const browser = await launchBrowser();
  try {
    const senddata = await readFixture("ott-senddata.xml");
    const post = async (stationId: string, body: Uint8Array<ArrayBuffer>) => {
      const response = await fetch(`${server.httpsUrl}/ottt?stationid=${stationId}&action=senddata`, {
        method: "POST",
        headers: basicAuth(),
        body,
        client,
      });
      await response.body?.cancel();
      return response.status;
    };
    const sendReadings = async (pubId: number, count: number) => {
      using device = await connectDevice(server.meterPort, caFile);
      for (let i = 0; i < count; i++) {
        const reply = await device.send({ Id: pubId, timestamp: 0, status: true, voltage: 230 + i, freq: 50 });
        assert.equal(reply, "Thank you");
      }
      assert.match(await device.send({ Id: pubId, status: true, voltage: -1, freq: 50 }), /^error: /);
    };

    // The first station and meter report, then fall silent past the stale threshold.
    assert.equal(await post("0000452891", senddata), 200);
    await sendReadings(11, 3);
    await new Promise((resolve) => setTimeout(resolve, STALE_AFTER_MINUTES * 60_000 + 500));
    for (let i = 0; i < 3; i++) assert.equal(await post("0000452892", senddata), 200);
    assert.equal(await post("0000452893", new TextEncoder().encode("<not xml")), 400);
    await sendReadings(12, 5);

    const context = await browser.newContext({
      // The child serves its self-signed dev certificate; certificate trust is tested with curl elsewhere.
      ignoreHTTPSErrors: true,
      // Basic auth up front: a browser without credentials is sent to the login page, not challenged.
      extraHTTPHeaders: basicAuth(),
      viewport: { width: 1400, height: 1000 },
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    const response = await page.goto(`${server.httpsUrl}/dashboard`);
    assert.equal(response?.status(), 200);
    const canvases = page.locator(".chart .uplot canvas");
    await canvases.nth(5).waitFor({ timeout: 10_000 });
    assert.equal(await canvases.count(), 6, "one chart per protocol");
    assert.deepEqual(errors, [], "no script errors");

    const text = (selector: string) => page.locator(selector).innerText();
    // The invalid post is quarantined but not acknowledged, so it is not counted.
    assert.equal(await text('[data-last-hour="ott"]'), "4");
    assert.equal(await text('[data-last-hour="meter"]'), "8");
    assert.equal(await text('[data-last-hour="confo"]'), "0");
    const tiles = await text(".tiles");
    assert.match(tiles, /DATABASE\s+up, [\d.]+ ms/);
    assert.match(tiles, /CERTIFICATE\s+\d+ days left/);
    assert.match(tiles, /DISK FREE\s+[\d.]+ GiB/);
    assert.match(tiles, /MAINTENANCE\s+none planned/);
    assert.match(tiles, /PROBLEMS, LAST HOUR\s+\d+ errors, [1-9]\d* warnings/);

    // The quarantined post still shows its station as heard from.
    const ids = (rows: string) => page.locator(`#last-seen ${rows} td:nth-child(2)`).allInnerTexts();
    assert.deepEqual((await ids("tr.stale")).sort(), ["0000452891", "11"]);
    assert.deepEqual((await ids("tr:not(.stale)")).sort(), ["0000452892", "0000452893", "12"]);

    const screenshot = await screenshotPath("status-dashboard");
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`dashboard screenshot: ${screenshot}`);
    await context.close();
  } finally {
    await browser.close();
    client.close();
    server.process.kill("SIGTERM");
    await server.exited;
    await Deno.remove(dataDir, { recursive: true });
  }
});
