import assert from "node:assert/strict";
import { acmeSettings } from "../../certs/acme.ts";
import { ConfigError, loadConfig } from "../../config.ts";

Deno.test("ACME is off by default and, when on, needs domains, plain HTTP and no tls.certFile", () => {
  assert.equal(acmeSettings(loadConfig()), null, "the dev certificate stays the default");
  assert.throws(() => loadConfig({ args: ["--acme-enabled", "true"] }), ConfigError);
  assert.throws(
    () => loadConfig({ args: ["--acme-enabled", "true", "--acme-domains", "a.example", "--http-enabled", "false"] }),
    /"http.enabled" \(the CA's challenge is answered there\)/,
  );
  assert.throws(
    () =>
      loadConfig({
        args: [
          "--acme-enabled",
          "true",
          "--acme-domains",
          "a.example",
          "--tls-cert-file",
          "c.pem",
          "--tls-key-file",
          "k.pem",
        ],
      }),
    /leave "tls.certFile" empty/,
  );
  assert.throws(() => loadConfig({ args: ["--acme-key-type", "rsa1024"] }), /acme.keyType/);
  const settings = acmeSettings(loadConfig({
    args: ["--data-dir", "/srv/fg", "--acme-enabled", "true", "--acme-domains", " a.example, b.example ,"],
    env: { FIELDGATE_ACME_EMAIL: "ops@example.org" },
  }));
  assert.deepEqual(settings, {
    dataDir: "/srv/fg",
    directoryUrl: "https://acme-v02.api.letsencrypt.org/directory",
    domains: ["a.example", "b.example"],
    email: "ops@example.org",
    keyType: "rsa2048",
    caFile: "",
  });
});
