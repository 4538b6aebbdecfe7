// The drop-off upload page in the browser: Uppy's Dashboard (drag and drop, per-file progress, pause/resume) with
// its tus uploader. Settings come from the form's data attributes (see dropoff_page.ts); the page allows no inline
// script. tus-js-client keeps each upload's URL in localStorage under the file's fingerprint, so after the tab was
// closed, adding the same file again continues the upload instead of starting over.
const form = document.getElementById("dropoff");
const codeInput = document.getElementById("dropoff-code");
const noteInput = document.getElementById("dropoff-note");
const encryptBox = document.getElementById("dropoff-encrypt");
const { Uppy, Dashboard, Tus } = globalThis.Uppy;

const allowedTypes = form.dataset.allowedTypes ? form.dataset.allowedTypes.split(",") : null;

const uppy = new Uppy({
  restrictions: { maxFileSize: Number(form.dataset.maxBytes), allowedFileTypes: allowedTypes },
  // Every file carries the note (the owner sees it in the upload list); without the code nothing starts.
  onBeforeUpload(files) {
    if (codeInput && codeInput.value === "") {
      uppy.info("Enter the upload code first.", "error", 5000);
      codeInput.focus();
      return false;
    }
    const note = noteInput.value.trim();
    return Object.fromEntries(
      Object.entries(files).map(([id, file]) => [id, { ...file, meta: { ...file.meta, note } }]),
    );
  },
});

uppy.use(Dashboard, {
  target: "#dropoff-uppy",
  inline: true,
  width: "100%",
  height: 420,
  showProgressDetails: true,
  proudlyDisplayPoweredByUppy: false,
});

uppy.use(Tus, {
  endpoint: form.dataset.endpoint,
  chunkSize: Number(form.dataset.chunkBytes),
  // A flaky link gets a few quick retries before the file shows as failed (with a retry button).
  retryDelays: [0, 1000, 3000, 5000, 10000],
  removeFingerprintOnSuccess: true,
  allowedMetaFields: ["name", "type", "note"],
  headers: () => (codeInput ? { "Upload-Code": codeInput.value } : {}),
});

// Optional encryption to the project's public key (OpenPGP.js), before a byte leaves the browser. The ciphertext
// differs on every run, so it must never resume another run's upload: no fingerprint is stored for it, and the
// file gets a fresh modification time so tus-js-client cannot mistake it for an earlier one.
if (encryptBox) {
  const recipient = globalThis.openpgp.readKey({ armoredKey: form.dataset.publicKey });
  uppy.addPreProcessor(async (fileIDs) => {
    if (!encryptBox.checked) return;
    const encryptionKeys = await recipient;
    for (const id of fileIDs) {
      const file = uppy.getFile(id);
      // A retry runs the preprocessors again: the file is already ciphertext then.
      if (file.meta.encrypted) continue;
      uppy.emit("preprocess-progress", file, { mode: "indeterminate", message: "Encrypting…" });
      const message = await globalThis.openpgp.createMessage({ binary: file.data.stream() });
      const ciphertext = await globalThis.openpgp.encrypt({ message, encryptionKeys, format: "binary" });
      const name = `${file.name}.gpg`;
      const data = new File([await new Response(ciphertext).blob()], name, {
        type: "application/pgp-encrypted",
        lastModified: Date.now(),
      });
      uppy.setFileState(id, {
        data,
        name,
        size: data.size,
        type: data.type,
        progress: { ...file.progress, bytesTotal: data.size },
        meta: { ...file.meta, name, type: data.type, encrypted: true },
        tus: { ...file.tus, storeFingerprintForResuming: false },
      });
      uppy.emit("preprocess-complete", uppy.getFile(id));
    }
  });
}
