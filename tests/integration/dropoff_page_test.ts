/** The upload page's answers without a browser: links that do not work, headers, assets. */
import assert from "node:assert/strict";
import { createProject } from "../helpers/dropoff.ts";
import { startTestServer } from "../helpers/server.ts";

Deno.test("drop-off page: unknown and expired links get clear pages; the assets are served", async () => {
  await using server = await startTestServer();
  const expired = await createProject(server.fetch, { expiresAt: "2020-01-01T00:00:00Z" });
  const live = await createProject(server.fetch, { allowedTypes: ["csv"] });
  for (
    const [path, status, text] of [
      [`/upload/${crypto.randomUUID()}`, 404, "This upload link is not valid"],
      ["/upload/not-a-uuid", 404, "This upload link is not valid"],
      [`/upload/${expired.id}`, 410, "no longer accepts uploads"],
    ] as const
  ) {
    const response = await server.fetch(path);
    assert.equal(response.status, status, path);
    assert.match(await response.text(), new RegExp(text));
  }
  const page = await server.fetch(`/upload/${live.id}`);
  assert.equal(page.status, 200);
  assert.equal(page.headers.get("cache-control"), "no-store");
  assert.equal(page.headers.get("x-frame-options"), "DENY");
  const html = await page.text();
  assert.match(html, new RegExp(`data-endpoint="/files/${live.id}/"`));
  assert.match(html, /data-allowed-types="\.csv"/);
  assert.doesNotMatch(html, /dropoff-code|openpgp/, "no code field and no encryption without code or key");
  for (const src of html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)) {
    const asset = await server.fetch(src[1]);
    assert.equal(asset.status, 200, src[1]);
    assert.ok((await asset.text()).length > 1000, src[1]);
  }
});
