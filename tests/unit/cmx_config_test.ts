import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "../../config.ts";

Deno.test("cmx options: no default passwords, env and flags map to cmx.*, bad values named", () => {
  const defaults = loadConfig().cmx;
  assert.equal(defaults.notificationPassword, "");
  assert.equal(defaults.apiPassword, "");
  assert.equal(defaults.unlogged, false);
  assert.equal(defaults.maxMetresPerSecond, 4.42);
  assert.equal(defaults.lookupUrl, "http://{}/api/location/v2/clients?ipAddress=");
  const config = loadConfig({
    env: { FIELDGATE_CMX_UNLOGGED: "true", FIELDGATE_CMX_MAC_HASH_KEY: "k" },
    args: ["--cmx-hosts", "test,10.0.0.2", "--cmx-time-zone", "America/Los_Angeles"],
  }).cmx;
  assert.equal(config.unlogged, true);
  assert.equal(config.macHashKey, "k");
  assert.equal(config.hosts, "test,10.0.0.2");
  assert.equal(config.timeZone, "America/Los_Angeles");
  assert.throws(() => loadConfig({ args: ["--cmx-time-zone", "Mars/Olympus"] }), ConfigError);
  assert.throws(() => loadConfig({ args: ["--cmx-max-moving-angle", "200"] }), /cmx.maxMovingAngle/);
});
