/**
 * The public upload page of a project, `/upload/<project uuid>`: the link an
 * owner sends to the people who upload. Uppy (served by fieldgate, see
 * `dropoff_assets.ts`) uploads through the project's tus endpoint with
 * per-file progress, pause/resume and resumption after the tab was closed.
 * The page is server-rendered; its settings travel as data attributes, so
 * the Content-Security-Policy allows no inline script at all.
 */
import { Hono } from "hono";
import { html } from "hono/html";
import { secureHeaders } from "hono/secure-headers";
import { isProjectId, type Project } from "../domain/dropoff.ts";
import type { DropoffStore } from "../storage/types.ts";
import { DROPOFF_ASSETS } from "./dropoff_assets.ts";
import { htmlPage } from "./page.ts";

/** Bytes per PATCH: small enough that a flaky link loses little, large enough to keep requests few. */
export const UPLOAD_CHUNK_BYTES = 8 * 1024 * 1024;

/**
 * Only our own scripts and styles; uploads go to this origin. Styles may be
 * inline because the shared page layout and Uppy's progress bars use them;
 * scripts may not. The URL holds the project's secret id: no referrer.
 */
const pageHeaders = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'none'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'", "'unsafe-inline'"],
    imgSrc: ["'self'", "data:", "blob:"],
    connectSrc: ["'self'"],
    baseUri: ["'none'"],
    formAction: ["'none'"],
    frameAncestors: ["'none'"],
  },
  referrerPolicy: "no-referrer",
  xFrameOptions: "DENY",
  crossOriginOpenerPolicy: "same-origin",
  permissionsPolicy: { camera: [], microphone: [], geolocation: [] },
});

/** The upload page as a Hono sub-app; `maxSizeBytes` is the server-wide upload limit. */
export function dropoffPageRoutes(store: DropoffStore, maxSizeBytes: number): Hono {
  const app = new Hono();
  app.use("/upload/*", pageHeaders, async (c, next) => {
    await next();
    c.header("Cache-Control", "no-store");
  });
  app.get("/upload/:project", async (c) => {
    const id = c.req.param("project");
    const project = isProjectId(id) ? await store.project(id) : null;
    if (project === null) {
      return c.html(htmlPage("Upload link not found", notice("This upload link is not valid: check it.")), 404);
    }
    if (project.expiresAt !== null && project.expiresAt <= new Date()) {
      return c.html(htmlPage("Upload link expired", notice("This project no longer accepts uploads.")), 410);
    }
    return c.html(htmlPage(`Upload to ${project.name}`, uploadForm(project, maxSizeBytes)));
  });
  return app;
}

function notice(text: string) {
  return html`
    <h1>${text}</h1>
    <p class="muted">Ask the person who sent you the link for a new one.</p>
  `;
}

function uploadForm(project: Project, serverMaxBytes: number) {
  const maxBytes = Math.min(project.maxSizeBytes ?? serverMaxBytes, serverMaxBytes);
  const types = project.allowedTypes.map((type) => `.${type}`).join(",");
  return html`
    <link rel="stylesheet" href="${DROPOFF_ASSETS.uppyStyles}">
    <h1>Upload files to “${project.name}”</h1>
    <p class="muted">
      Drop several files at once. Uploads can be paused and resumed; if the connection or this tab is lost, open this
      link again and add the same files: they continue where they stopped.
    </p>
    <form id="dropoff" data-endpoint="/files/${project.id}/" data-chunk-bytes="${UPLOAD_CHUNK_BYTES}"
      data-max-bytes="${maxBytes}" data-allowed-types="${types}" data-public-key="${project.publicKey ?? ""}">
      ${project.codeHash === null ? "" : html`
        <p><label>Upload code (from the person who sent the link)<br>
          <input id="dropoff-code" type="password" autocomplete="off" required maxlength="200"></label></p>
      `}
      <p><label>Note for the recipient (optional)<br>
        <textarea id="dropoff-note" rows="2" cols="60" maxlength="1000"></textarea></label></p>
      ${project.publicKey ? encryptionChoice() : ""}
    </form>
    <div id="dropoff-uppy"></div>
    <script src="${DROPOFF_ASSETS.uppyScript}"></script>
    ${project.publicKey ? html`<script src="${DROPOFF_ASSETS.openpgpScript}"></script>` : ""}
    <script src="${DROPOFF_ASSETS.pageScript}"></script>
  `;
}

/** Offered when the project has a public key; the server keeps the files encrypted either way. */
function encryptionChoice() {
  return html`
    <p><label><input id="dropoff-encrypt" type="checkbox" checked>
      Encrypt the files in this browser before they leave it (OpenPGP, to the project owner's key)</label><br>
      <span class="muted">fieldgate stores them encrypted in any case. Encrypted files are sent whole: after the tab
      is closed they start again from the beginning.</span></p>
  `;
}
