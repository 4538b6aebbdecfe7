import assert from "node:assert/strict";
import { join } from "node:path";
import { ConfigError, envName, flagName, helpText, loadConfig } from "../../config.ts";
import { OPTIONS } from "../../config_options.ts";

Deno.test("defaults give an embedded setup under ./data with HTTPS on 8443 and HTTP on localhost:8080", () => {
  const config = loadConfig({ configFile: undefined });
  assert.equal(config.dataDir, "./data");
  assert.equal(config.databaseUrl, "");
  assert.equal(config.https.port, 8443);
  assert.deepEqual(config.http, { hostname: "127.0.0.1", port: 8080, enabled: true });
  assert.equal(config.auth.usersFile, join("./data", "users.htpasswd"));
  assert.equal(config.ott.maxBodyBytes, 10 * 1024 * 1024);
});

Deno.test("later sources win: file < environment < flags", async () => {
  const dir = await Deno.makeTempDir();
  const file = join(dir, "fieldgate.toml");
  await Deno.writeTextFile(
    file,
    `dataDir = "/srv/fg"\n[https]\nport = 9443\nhostname = "10.0.0.1"\n[ott]\ntempSuffix = ".part"\n`,
  );
  const config = loadConfig({
    configFile: file,
    env: { FIELDGATE_HTTPS_PORT: "9444", FIELDGATE_DATABASE_URL: "postgres://u@h/db" },
    args: ["--https-port", "9445", "--log-format=json"],
  });
  assert.equal(config.dataDir, "/srv/fg");
  assert.equal(config.https.hostname, "10.0.0.1");
  assert.equal(config.https.port, 9445);
  assert.equal(config.databaseUrl, "postgres://u@h/db");
  assert.equal(config.ott.tempSuffix, ".part");
  assert.equal(config.log.format, "json");
  assert.equal(config.auth.usersFile, join("/srv/fg", "users.htpasswd"));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("JSON config files work too", async () => {
  const file = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(file, JSON.stringify({ http: { enabled: false }, commit: { maxBatch: 7 } }));
  const config = loadConfig({ configFile: file });
  assert.equal(config.http.enabled, false);
  assert.equal(config.commit.maxBatch, 7);
  await Deno.remove(file);
});

Deno.test("invalid values name the key, its flag and its environment variable", () => {
  assert.throws(
    () => loadConfig({ env: { FIELDGATE_HTTPS_PORT: "eighty" } }),
    (error: Error) =>
      error instanceof ConfigError && /"https.port"/.test(error.message) &&
      /--https-port/.test(error.message) && /FIELDGATE_HTTPS_PORT/.test(error.message),
  );
  assert.throws(() => loadConfig({ args: ["--no-such-option", "1"] }), /unknown option --no-such-option/);
  assert.throws(() => loadConfig({ args: ["--log-level", "loud"] }), /"log.level"/);
  assert.throws(() => loadConfig({ args: ["--tls-cert-file", "/x.pem"] }), /must be set together/);
});

Deno.test("unknown keys in a config file are refused with the file named", async () => {
  const file = await Deno.makeTempFile({ suffix: ".toml" });
  await Deno.writeTextFile(file, `[https]\nprot = 1\n`);
  assert.throws(() => loadConfig({ configFile: file }), new RegExp(`${file}: unknown key "https.prot"`));
  await Deno.remove(file);
});

Deno.test("--help lists every option with its flag, variable and default", () => {
  const help = helpText();
  for (const option of OPTIONS) {
    assert.ok(help.includes(flagName(option.key)), option.key);
    assert.ok(help.includes(envName(option.key)), option.key);
    assert.ok(help.includes(`default: ${JSON.stringify(option.default)}`), option.key);
  }
  assert.equal(envName("databaseUrl"), "FIELDGATE_DATABASE_URL");
  assert.equal(flagName("ott.maxBodyBytes"), "--ott-max-body-bytes");
});
