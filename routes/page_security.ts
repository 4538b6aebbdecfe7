/**
 * Response headers for the account and admin pages: a strict Content
 * Security Policy (no scripts at all, inline styles only), no framing, no
 * referrer to other sites (links carry one-time tokens), no caching of personal pages.
 */
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { secureHeaders } from "hono/secure-headers";

/** Middleware adding the page security headers. */
export function pageSecurity(): MiddlewareHandler {
  const headers = secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      styleSrc: ["'unsafe-inline'"],
      imgSrc: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
    },
    // Not no-referrer: Chromium then sends `Origin: null` with form posts, which the CSRF check must refuse.
    referrerPolicy: "same-origin",
    xFrameOptions: "DENY",
    strictTransportSecurity: "max-age=31536000",
  });
  return async (c, next) => {
    await headers(c, next);
    c.header("Cache-Control", "no-store");
  };
}

/** Largest form accepted: the forms hold a few short fields, and a form body is read whole into memory. */
const MAX_FORM_BYTES = 64 * 1024;

/** Middleware refusing larger request bodies with 413 before anything reads them. */
export function formBodyLimit(): MiddlewareHandler {
  return bodyLimit({
    maxSize: MAX_FORM_BYTES,
    onError: (c) => c.text(`Refused: a form may have at most ${MAX_FORM_BYTES} bytes.\n`, 413),
  });
}
