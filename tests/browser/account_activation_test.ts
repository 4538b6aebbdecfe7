/**
 * The account flow in headless Chromium against a real server with a file
 * outbox: register on the form, read the activation link from the outbox
 * (as staging's EMAIL_FILE_PATH works), open it, log in, and reach pages
 * that need a login. A screenshot of the account page is left for people.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { launchBrowser, screenshotPath } from "../helpers/browser.ts";
import { linkIn, waitForMail } from "../helpers/outbox.ts";
import { startTestServer } from "../helpers/server.ts";

Deno.test("register, activate from the outbox link, log in and reach protected pages in Chromium", async () => {
  await using server = await startTestServer();
  const browser = await launchBrowser();
  try {
    // The in-process server uses its self-signed dev certificate; certificate trust is tested with curl elsewhere.
    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1000, height: 700 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));

    await page.goto(`${server.httpsUrl}/account/register`);
    await page.getByLabel("Email").fill("Grace@Example.org");
    await page.getByLabel("Username").fill("grace");
    await page.getByLabel(/^Password/).fill("a long enough passphrase");
    await page.getByRole("button", { name: "Register" }).click();
    await page.getByText("Check your email").waitFor();

    const mail = await waitForMail(join(server.dataDir, "outbox"), "grace@example.org", /activate/);
    await page.goto(linkIn(mail.text, `${server.httpsUrl}/account/activate?token=`));
    await page.getByText("Your account is active").waitFor();

    // Before logging in, a protected page sends the browser to the login form and back afterwards.
    await page.goto(`${server.httpsUrl}/server-status`);
    assert.match(page.url(), /\/login\?next=%2Fserver-status$/);
    await page.getByLabel("Username or email").fill("grace");
    await page.getByLabel("Password").fill("a long enough passphrase");
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL(`${server.httpsUrl}/server-status`);
    const status = await page.goto(`${server.httpsUrl}/server-status`);
    assert.equal(status?.status(), 200, "the session opens the status page");

    const account = await page.goto(`${server.httpsUrl}/account`);
    assert.equal(account?.status(), 200);
    assert.match(await page.locator("dl").innerText(), /grace\s+Email\s+grace@example\.org\s+Role\s+project owner/);
    const cookies = await context.cookies();
    const session = cookies.find((cookie) => cookie.name === "__Host-fieldgate-session");
    assert.ok(session?.httpOnly && session.secure && session.sameSite === "Lax", JSON.stringify(session));
    assert.deepEqual(errors, [], "no script errors");

    const screenshot = await screenshotPath("account-activation");
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`account screenshot: ${screenshot}`);

    await page.getByRole("button", { name: "Log out" }).click();
    await page.waitForURL(`${server.httpsUrl}/login`);
    await context.close();
  } finally {
    await browser.close();
  }
});
