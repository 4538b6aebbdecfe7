import assert from "node:assert/strict";
import { Hono } from "hono";
import { credentialGuard } from "../../auth/single_credential.ts";

/** An app whose one route answers "in" behind the guard. */
function guarded(user: string, password: string) {
  const app = new Hono();
  app.use(credentialGuard({ user, password, realm: "test", notConfiguredHint: "set the keys" }));
  app.get("/", (c) => c.text("in"));
  return (authorization?: string) =>
    app.request("/", { headers: authorization === undefined ? {} : { authorization } });
}

const basic = (text: string) => `Basic ${btoa(String.fromCharCode(...new TextEncoder().encode(text)))}`;

Deno.test("credentialGuard lets the right credentials in, however the header spells them", async () => {
  const request = guarded("api", "pässword");
  for (
    const header of [
      basic("api:pässword"),
      basic("api:pässword").replace("Basic", "basic"),
      `Basic  ${basic("api:pässword").slice(6)} `,
    ]
  ) {
    const response = await request(header);
    assert.equal(response.status, 200, header);
    assert.equal(await response.text(), "in");
  }
});

Deno.test("credentialGuard refuses wrong, partial and missing credentials with a challenge", async () => {
  const request = guarded("api", "secret");
  for (
    const header of [basic("api:secre"), basic("api:secrets"), basic("apI:secret"), basic("api"), "Bearer x", undefined]
  ) {
    const response = await request(header);
    assert.equal(response.status, 401, String(header));
    assert.match(response.headers.get("www-authenticate") ?? "", /^Basic realm="test"/);
    await response.body?.cancel();
  }
});

Deno.test("credentialGuard answers 503 while user or password is empty, even to their header", async () => {
  const response = await guarded("api", "")(basic("api:"));
  assert.equal(response.status, 503);
  assert.match((await response.json()).error, /set the keys/);
});
