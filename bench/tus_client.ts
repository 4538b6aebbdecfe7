/**
 * tus-js-client (the client Uppy uses) uploading one file, run as its own
 * process so its CPU is not the server's. The file is read from disk slice by
 * slice (a `fs.ReadStream` with a path), sent in one PATCH as Uppy does by
 * default; the server certificate is verified against `--ca-file`.
 * Prints one JSON line: the upload URL and the seconds from start to success.
 *
 * `deno run -A bench/tus_client.ts --endpoint https://…/files/<project>/ --file PATH --ca-file PEM`
 */
import { createReadStream } from "node:fs";
import { parseArgs } from "node:util";
import * as tus from "tus-js-client";

const { values } = parseArgs({
  options: { endpoint: { type: "string" }, file: { type: "string" }, "ca-file": { type: "string" } },
});
const ca = await Deno.readTextFile(values["ca-file"]!);
const size = (await Deno.stat(values.file!)).size;
const started = performance.now();
const url = await new Promise<string>((resolve, reject) => {
  const upload = new tus.Upload(createReadStream(values.file!), {
    endpoint: values.endpoint,
    uploadSize: size,
    metadata: { filename: "bench.bin" },
    httpStack: new tus.DefaultHttpStack({ ca }),
    // A bench failure must show, not be retried away.
    retryDelays: [],
    onError: reject,
    onSuccess: () => resolve(upload.url!),
  });
  upload.start();
});
console.log(JSON.stringify({ url, seconds: (performance.now() - started) / 1000 }));
