/**
 * Static assets of the drop-off upload page: the Uppy bundle and its styles
 * from the `uppy` npm package, and the page's own script. They are imported
 * as text, so they are part of the module graph and embedded by
 * `deno compile`: nothing is read from node_modules at run time, and no CDN
 * is involved. File names carry the package version, so browsers may cache
 * them for good.
 *
 * OpenPGP.js is the exception to importing from the package: its
 * package.json `exports` offer the browser build only under the `browser`
 * condition, which Deno does not resolve, and a relative import into
 * node_modules breaks `deno install --entrypoint` on a fresh checkout. So
 * `vendor/openpgp-6.3.2.min.js` is the package's `dist/openpgp.min.js`,
 * unchanged; `tests/unit/vendored_openpgp_test.ts` checks it byte for byte.
 */
import { Hono } from "hono";
import uppyScript from "uppy/dist/uppy.min.js" with { type: "text" };
import uppyStyles from "uppy/dist/uppy.min.css" with { type: "text" };
import pageScript from "./dropoff_upload.client.js" with { type: "text" };
import openpgpScript from "./vendor/openpgp-6.3.2.min.js" with { type: "text" };

/** Version of the `uppy` package in deno.json; part of the asset URLs. */
const UPPY_VERSION = "6.0.1";
/** Version of the `openpgp` package in deno.json, which the vendored browser build must match. */
export const OPENPGP_VERSION = "6.3.2";

/** URLs the upload page links to. */
export const DROPOFF_ASSETS = {
  uppyScript: `/assets/uppy-${UPPY_VERSION}.min.js`,
  uppyStyles: `/assets/uppy-${UPPY_VERSION}.min.css`,
  pageScript: "/assets/dropoff-upload.js",
  openpgpScript: `/assets/openpgp-${OPENPGP_VERSION}.min.js`,
} as const;

const JAVASCRIPT = "text/javascript; charset=utf-8";

/** One asset: its body, type and how long browsers may keep it. */
const ASSETS: Record<string, { body: string; type: string; cache: string }> = {
  [DROPOFF_ASSETS.uppyScript]: { body: uppyScript, type: JAVASCRIPT, cache: "public, max-age=31536000, immutable" },
  [DROPOFF_ASSETS.uppyStyles]: {
    body: uppyStyles,
    type: "text/css; charset=utf-8",
    cache: "public, max-age=31536000, immutable",
  },
  [DROPOFF_ASSETS.openpgpScript]: {
    body: openpgpScript,
    type: JAVASCRIPT,
    cache: "public, max-age=31536000, immutable",
  },
  // The page script changes with fieldgate itself, not with a package version: revalidate it hourly.
  [DROPOFF_ASSETS.pageScript]: { body: pageScript, type: JAVASCRIPT, cache: "public, max-age=3600" },
};

/** The drop-off page's assets as a Hono sub-app (public: they hold nothing secret). */
export function dropoffAssetRoutes(): Hono {
  const app = new Hono();
  for (const [path, asset] of Object.entries(ASSETS)) {
    app.get(path, (c) =>
      c.body(asset.body, 200, {
        "Content-Type": asset.type,
        "Cache-Control": asset.cache,
        "X-Content-Type-Options": "nosniff",
      }));
  }
  return app;
}
