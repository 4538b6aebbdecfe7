/**
 * A tus PATCH across a PostgreSQL outage: the database (a private cluster) is
 * crash-stopped while the PATCH body is still arriving and its upload lock is
 * held. The PATCH fails without being acknowledged, the server survives (a
 * lock on a closed postgres.js connection used to crash it), and once the
 * database is back the upload resumes from its offset and completes intact.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  createProject,
  createUpload,
  headOffset,
  patch,
  type ServerFetch,
  sha256Hex,
  testBytes,
} from "../helpers/dropoff.ts";
import { stopServer, withServerLog } from "../helpers/intake_load.ts";
import { startPrivatePostgres } from "../helpers/private_postgres.ts";
import { basicAuth, spawnServer, writeUsersFile } from "../helpers/server.ts";

Deno.test("tus: a PATCH across a PostgreSQL outage is not acknowledged, and the upload resumes afterwards", async () => {
  await using database = await startPrivatePostgres();
  const dataDir = await Deno.makeTempDir({ prefix: "fieldgate-tus-outage-" });
  await writeUsersFile(dataDir);
  const server = await spawnServer(dataDir, ["--database-url", database.url]);
  const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(join(dataDir, "certs", "dev-cert.pem"))] });
  const serverFetch: ServerFetch = (path, init) =>
    fetch(`${server.httpsUrl}${path}`, { ...init, client } as RequestInit);
  let exitCode: number;
  try {
    const bytes = testBytes(4 * 1024 * 1024);
    const half = bytes.length / 2;
    const project = await createProject(serverFetch);
    const upload = await createUpload(serverFetch, project.id, bytes.length);

    // The first half at once; the rest only after the database is gone.
    const rest = Promise.withResolvers<void>();
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(bytes.slice(0, half));
        await rest.promise;
        controller.enqueue(bytes.slice(half));
        controller.close();
      },
    });
    const patching = patch(serverFetch, upload, 0, body);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await database.stop();
    rest.resolve();
    const during = await patching;
    assert.ok(during.status >= 500, `the PATCH that could not be recorded is refused (got ${during.status})`);

    await database.start();
    const offset = await headOffset(serverFetch, upload);
    const file = join(dataDir, "uploads", project.id, upload.split("/").at(-1)!);
    assert.ok(offset <= (await Deno.stat(file)).size, `reported offset ${offset} is on disk`);
    const resumed = await patch(serverFetch, upload, offset, bytes.slice(offset));
    assert.equal(resumed.status, 204, "the upload resumes once the database is back");
    const listed = await serverFetch(`/api/projects/${project.id}/uploads`, { headers: basicAuth() });
    const [finished] = await listed.json();
    assert.equal(finished.sha256, sha256Hex(bytes), "the finished file is intact");
  } catch (error) {
    throw withServerLog(error, server);
  } finally {
    client.close();
    exitCode = await stopServer(server);
    await Deno.remove(dataDir, { recursive: true });
  }
  if (exitCode !== 0) throw withServerLog(new Error(`the server did not survive the outage: exit ${exitCode}`), server);
});
