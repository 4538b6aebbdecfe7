/**
 * The vendored OpenPGP.js browser build served to the upload page is the
 * npm package's own file, byte for byte, of the version deno.json pins (see
 * `routes/dropoff_assets.ts` for why it is vendored).
 */
import assert from "node:assert/strict";
import { OPENPGP_VERSION } from "../../routes/dropoff_assets.ts";

const root = new URL("../../", import.meta.url);

Deno.test("vendored openpgp.min.js is the pinned npm package's dist file, unchanged", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
  assert.equal(config.imports.openpgp, `npm:openpgp@${OPENPGP_VERSION}`);
  // The package as installed for deno.json ("nodeModulesDir": "auto"); the server side imports it too.
  const installed = new URL("node_modules/openpgp/", root);
  assert.equal(JSON.parse(await Deno.readTextFile(new URL("package.json", installed))).version, OPENPGP_VERSION);
  const upstream = await Deno.readFile(new URL("dist/openpgp.min.js", installed));
  const vendored = await Deno.readFile(new URL(`routes/vendor/openpgp-${OPENPGP_VERSION}.min.js`, root));
  assert.deepEqual(vendored, upstream);
});
