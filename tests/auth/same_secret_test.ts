import assert from "node:assert/strict";
import { sameSecret, secretMatcher } from "../../auth/same_secret.ts";

Deno.test("sameSecret matches equal secrets only, whatever their lengths", () => {
  assert.equal(sameSecret("app-token-0123456789", "app-token-0123456789"), true);
  assert.equal(sameSecret("", ""), true);
  for (const offered of ["app-token-012345678", "app-token-01234567890", "APP-TOKEN-0123456789", ""]) {
    assert.equal(sameSecret(offered, "app-token-0123456789"), false, offered);
  }
  assert.equal(sameSecret("°C", "°C"), true);
});

Deno.test("secretMatcher answers as sameSecret against its one secret", () => {
  const matches = secretMatcher("app-token-0123456789");
  assert.equal(matches("app-token-0123456789"), true);
  for (const offered of ["app-token-012345678", "app-token-01234567890", "APP-TOKEN-0123456789", ""]) {
    assert.equal(matches(offered), false, offered);
  }
  assert.equal(secretMatcher("")(""), true);
});
