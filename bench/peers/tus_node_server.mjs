/**
 * The tus peer: `@tus/server` with `@tus/file-store` on Node, over HTTPS with
 * the bench certificate, as its README sets it up. The harness installs both
 * packages next to a copy of this file (bench/lib/tus_node.ts) and runs
 * `node tus_node_server.mjs --cert-file PEM --key-file PEM --directory DIR`;
 * it prints `{"port":N}` once listening on 127.0.0.1.
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:https";
import { parseArgs } from "node:util";

// Imported by computed name: Node resolves them next to the copy of this file in the install directory, and
// `deno check bench/` (which cannot resolve packages that are not in deno.json) leaves the names alone.
const [{ Server }, { FileStore }] = await Promise.all(["@tus/server", "@tus/file-store"].map((name) => import(name)));

const { values } = parseArgs({
  options: {
    "cert-file": { type: "string" },
    "key-file": { type: "string" },
    directory: { type: "string" },
  },
});
// relativeLocation: the server cannot tell it is behind TLS, so an absolute Location would say http://.
const tus = new Server({
  path: "/files",
  relativeLocation: true,
  datastore: new FileStore({ directory: values.directory }),
});
const server = createServer(
  { cert: readFileSync(values["cert-file"]), key: readFileSync(values["key-file"]) },
  (request, response) => tus.handle(request, response),
);
server.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ port: server.address().port })));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
