import assert from "node:assert/strict";
import {
  apr1Crypt,
  assertValidUsername,
  hashFormat,
  hashPassword,
  Htpasswd,
  InvalidUsernameError,
  verifyPassword,
} from "../../auth/htpasswd.ts";

const FIXTURE = await Deno.readTextFile(new URL("../fixtures/htpasswd/users.htpasswd", import.meta.url));
const fixture = Htpasswd.parse(FIXTURE);

/** Plaintext passwords of the fixture users (see tests/fixtures/htpasswd/README.md). */
const SUPPORTED: Record<string, [format: string, password: string]> = {
  "bcrypt-user": ["bcrypt", "correct horse"],
  "bcrypt-cost10": ["bcrypt", "battery staple"],
  "unicode-bcrypt": ["bcrypt", "grüße-✓"],
  "bcrypt-2b": ["bcrypt", "libxcrypt two b"],
  "bcrypt-2a": ["bcrypt", "libxcrypt two a"],
  "apr1-user": ["apr1", "apr1 secret"],
  "unicode-apr1": ["apr1", "grüße-✓"],
  "empty-apr1": ["apr1", ""],
  "openssl-apr1": ["apr1", "open sesame"],
  "openssl-apr1-long": ["apr1", "a much longer passphrase, well over sixteen bytes"],
  "sha-user": ["sha1", "colon:inside"],
};

const UNSUPPORTED: Record<string, string> = {
  "sha256crypt-user": "unsupported one",
  "des-crypt-user": "unsup2",
  "plain-user": "plain text",
};

for (const [user, [format, password]] of Object.entries(SUPPORTED)) {
  Deno.test(`${format} hash from real tools (${user}) accepts its password and rejects others`, async () => {
    const hash = fixture.get(user)!;
    assert.equal(hashFormat(hash), format);
    assert.equal(await verifyPassword(password, hash), true);
    assert.equal(await verifyPassword(password + "x", hash), false);
    assert.equal(await verifyPassword(password.toUpperCase(), hash), password === password.toUpperCase());
    assert.equal(await verifyPassword("", hash), password === "");
  });
}

Deno.test("bcrypt $2y$ and $2b$ prefixes of the same hash are the same algorithm", async () => {
  const hash = fixture.get("bcrypt-user")!;
  assert.ok(hash.startsWith("$2y$"));
  assert.equal(await verifyPassword("correct horse", hash.replace("$2y$", "$2b$")), true);
});

for (const [user, password] of Object.entries(UNSUPPORTED)) {
  Deno.test(`unsupported hash format (${user}) never verifies, even with the right password`, async () => {
    const hash = fixture.get(user)!;
    assert.equal(hashFormat(hash), "unsupported");
    assert.equal(await verifyPassword(password, hash), false);
  });
}

Deno.test("malformed hashes verify as false instead of throwing", async () => {
  const bad = ["", "$2y$10$short", "$2y$99$" + "a".repeat(53), "$apr1$", "$apr1$salt$", "{SHA}", "{SHA}not base64!"];
  for (const hash of bad) assert.equal(await verifyPassword("x", hash), false, hash);
});

Deno.test("apr1Crypt reproduces openssl passwd -apr1 output exactly", () => {
  for (const [user, password] of [["openssl-apr1", "open sesame"], ["unicode-apr1", "grüße-✓"]]) {
    const hash = fixture.get(user)!;
    const salt = hash.split("$")[2];
    assert.equal(apr1Crypt(password, salt), hash);
  }
});

Deno.test("hashPassword writes bcrypt $2y$ cost 10 with a fresh salt each time", async () => {
  const first = await hashPassword("s3cret ✓");
  const second = await hashPassword("s3cret ✓");
  assert.match(first, /^\$2y\$10\$[./A-Za-z0-9]{53}$/);
  assert.notEqual(first, second);
  assert.equal(await verifyPassword("s3cret ✓", first), true);
  assert.equal(await verifyPassword("s3cret", first), false);
});

Deno.test("parse ignores comments and blank lines and keeps them when serialized", () => {
  assert.equal(fixture.entries().length, 14);
  assert.deepEqual(fixture.malformedLines(), []);
  assert.equal(fixture.toString(), FIXTURE);
});

Deno.test("editing one user leaves every other line byte-identical", () => {
  const text = "# operators\r\nalice:{SHA}x\n\nbob:$apr1$a$b:nginx comment\nnot an entry\n";
  const document = Htpasswd.parse(text);
  assert.equal(document.get("bob"), "$apr1$a$b");
  assert.deepEqual(document.malformedLines(), [5]);
  assert.equal(document.set("alice", "NEW"), false);
  assert.equal(document.set("carol", "C"), true);
  assert.equal(document.toString(), "# operators\nalice:NEW\n\nbob:$apr1$a$b:nginx comment\nnot an entry\ncarol:C\n");
});

Deno.test("the first of duplicated users wins, set drops the later copies and delete removes all", () => {
  const document = Htpasswd.parse("dup:first\nother:o\ndup:second\n");
  assert.equal(document.get("dup"), "first");
  document.set("dup", "new");
  assert.equal(document.toString(), "dup:new\nother:o\n");
  assert.equal(document.delete("dup"), true);
  assert.equal(document.delete("dup"), false);
  assert.equal(document.toString(), "other:o\n");
});

Deno.test("usernames that could corrupt the file are rejected with a clear error", () => {
  for (const good of ["alice", "logger-01", "a.b_c@example.org", "x".repeat(64)]) assertValidUsername(good);
  for (const bad of ["", "a:b", "with space", "new\nline", "x".repeat(65), "ümlaut"]) {
    assert.throws(() => assertValidUsername(bad), InvalidUsernameError);
  }
  assert.throws(() => Htpasswd.parse("").set("a:b", "hash"), /invalid username "a:b": use 1 to 64 characters/);
});
