import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  createProject,
  createUpload,
  headOffset,
  metadata,
  patch,
  sha256Hex,
  testBytes,
  tus,
} from "../helpers/dropoff.ts";
import { hashPassword } from "../../auth/htpasswd.ts";
import { basicAuth, startTestServer } from "../helpers/server.ts";

const OCTETS = { "Content-Type": "application/offset+octet-stream" };

Deno.test("tus: every status code of the spec from real requests", async (t) => {
  await using server = await startTestServer({ tus: { maxSizeBytes: 1000, expireSeconds: 0.3 } });
  const { id } = await createProject(server.fetch);
  const post = (headers: Record<string, string>, project = id) =>
    server.fetch(`/files/${project}/`, { method: "POST", headers }).then(async (r) => (await r.body?.cancel(), r));

  await t.step("OPTIONS discovery", async () => {
    const response = await server.fetch(`/files/${id}/`, { method: "OPTIONS" });
    assert.equal(response.status, 204);
    assert.equal(response.headers.get("tus-version"), "1.0.0");
    assert.equal(response.headers.get("tus-max-size"), "1000");
    assert.equal(response.headers.get("tus-checksum-algorithm"), "sha1,sha256,md5");
    assert.match(response.headers.get("tus-extension")!, /creation-defer-length/);
  });
  await t.step("412 without or with another Tus-Resumable", async () => {
    const requests: Record<string, string>[] = [{ "Upload-Length": "1" }, {
      "Upload-Length": "1",
      "Tus-Resumable": "0.2.2",
    }];
    for (const headers of requests) {
      const response = await post(headers);
      assert.equal(response.status, 412);
      assert.equal(response.headers.get("tus-version"), "1.0.0");
    }
  });
  await t.step("400 for bad Upload-Length and metadata", async () => {
    for (const length of ["-1", "abc", "1e3", "99999999999999999999", ""]) {
      assert.equal((await post(tus({ "Upload-Length": length }))).status, 400, length);
    }
    assert.equal((await post(tus({}))).status, 400);
    assert.equal((await post(tus({ "Upload-Length": "1", "Upload-Defer-Length": "1" }))).status, 400);
    for (const bad of ["filename !!!", "filename YQ==,filename YQ==", "file name YQ==", "filename /w=="]) {
      assert.equal((await post(tus({ "Upload-Length": "1", "Upload-Metadata": bad }))).status, 400, bad);
    }
  });
  await t.step("413 over Tus-Max-Size, 404 unknown project", async () => {
    assert.equal((await post(tus({ "Upload-Length": "1001" }))).status, 413);
    assert.equal((await post(tus({ "Upload-Length": "1" }), crypto.randomUUID())).status, 404);
    assert.equal((await post(tus({ "Upload-Length": "1" }), "../../etc")).status, 404);
  });
  const upload = await createUpload(server.fetch, id, 10);
  await t.step("415, 400, 409 and 413 on PATCH", async () => {
    assert.equal((await patch(server.fetch, upload, 0, "abc", { "Content-Type": "text/plain" })).status, 415);
    const withParameter = { "Content-Type": "Application/Offset+Octet-Stream; charset=binary", "Upload-Length": "4" };
    assert.equal((await patch(server.fetch, upload, 0, "abc", withParameter)).status, 400, "type accepted, length not");
    assert.equal((await patch(server.fetch, upload, -1, "abc")).status, 400);
    assert.equal((await patch(server.fetch, upload, 0, "abc", { "Upload-Offset": "x" })).status, 400);
    assert.equal((await patch(server.fetch, upload, 3, "abc")).status, 409);
    assert.equal((await patch(server.fetch, upload, 0, "01234567890")).status, 413);
    assert.equal(
      (await patch(server.fetch, upload, 0, "abc", { "Upload-Length": "5" })).status,
      400,
      "length is fixed",
    );
    assert.equal(await headOffset(server.fetch, upload), 0);
  });
  await t.step("X-HTTP-Method-Override: POST acts as PATCH or DELETE", async () => {
    const overridden = await createUpload(server.fetch, id, 3);
    const viaPost = await server.fetch(overridden, {
      method: "POST",
      headers: tus({ "X-HTTP-Method-Override": "PATCH", "Upload-Offset": "0", ...OCTETS }),
      body: "abc",
    });
    await viaPost.body?.cancel();
    assert.equal(viaPost.status, 204);
    assert.equal(viaPost.headers.get("upload-offset"), "3");
    const plainPost = await server.fetch(overridden, { method: "POST", headers: tus() });
    await plainPost.body?.cancel();
    assert.equal(plainPost.status, 405);
    const unfinished = await createUpload(server.fetch, id, 3);
    const deleted = await server.fetch(unfinished, {
      method: "POST",
      headers: tus({ "X-HTTP-Method-Override": "DELETE" }),
    });
    await deleted.body?.cancel();
    assert.equal(deleted.status, 204);
    assert.equal((await server.fetch(unfinished, { method: "HEAD", headers: tus() })).status, 404);
  });
  await t.step("460 on checksum mismatch (chunk discarded), 204 on match for each algorithm", async () => {
    const wrong = `sha1 ${createHash("sha1").update("xyz").digest("base64")}`;
    assert.equal((await patch(server.fetch, upload, 0, "abc", { "Upload-Checksum": wrong })).status, 460);
    assert.equal(await headOffset(server.fetch, upload), 0);
    assert.equal((await patch(server.fetch, upload, 0, "abc", { "Upload-Checksum": "crc32 AAAA" })).status, 400);
    let offset = 0;
    for (const algorithm of ["sha1", "sha256", "md5"]) {
      const sum = `${algorithm} ${createHash(algorithm).update("abc").digest("base64")}`;
      const response = await patch(server.fetch, upload, offset, "abc", { "Upload-Checksum": sum });
      assert.equal(response.status, 204);
      offset += 3;
      assert.equal(response.headers.get("upload-offset"), String(offset));
      assert.ok(response.headers.get("upload-expires"));
    }
  });
  await t.step("404 for unknown uploads and for an upload under another project", async () => {
    const other = await createProject(server.fetch);
    const uploadId = upload.split("/").pop();
    for (const path of [`/files/${id}/${"0".repeat(32)}`, `/files/${other.id}/${uploadId}`, `/files/${id}/..%2F..`]) {
      const response = await server.fetch(path, { method: "HEAD", headers: tus() });
      assert.equal(response.status, 404, path);
    }
  });
  await t.step("410 once expired; DELETE 204 then 404", async () => {
    const expiring = await createUpload(server.fetch, id, 5);
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal((await server.fetch(expiring, { method: "HEAD", headers: tus() })).status, 410);
    assert.equal((await patch(server.fetch, expiring, 0, "a")).status, 410);
    const doomed = await createUpload(server.fetch, id, 5);
    const deleted = await server.fetch(doomed, { method: "DELETE", headers: tus() });
    assert.equal(deleted.status, 204);
    assert.equal((await server.fetch(doomed, { method: "HEAD", headers: tus() })).status, 404);
  });
});

Deno.test("tus: creation-with-upload, deferred length, CORS on a real response", async () => {
  await using server = await startTestServer();
  const { id } = await createProject(server.fetch);
  const created = await server.fetch(`/files/${id}/`, {
    method: "POST",
    headers: tus({ "Upload-Length": "5", ...OCTETS, Origin: "https://elsewhere.example" }),
    body: "hello",
  });
  await created.body?.cancel();
  assert.equal(created.status, 201);
  assert.equal(created.headers.get("upload-offset"), "5");
  assert.equal(created.headers.get("access-control-allow-origin"), "*");
  assert.match(created.headers.get("access-control-expose-headers")!, /Upload-Offset.*Location/);

  const deferred = await createUpload(server.fetch, id, null);
  const head = await server.fetch(deferred, { method: "HEAD", headers: tus() });
  assert.equal(head.headers.get("upload-defer-length"), "1");
  assert.equal((await patch(server.fetch, deferred, 0, "abc")).status, 204);
  assert.equal((await patch(server.fetch, deferred, 3, "de", { "Upload-Length": "5" })).status, 204);
  await createUpload(server.fetch, id, 0); // complete without any PATCH
  const badChecksum = await server.fetch(`/files/${id}/`, {
    method: "POST",
    headers: tus({ "Upload-Length": "5", ...OCTETS, "Upload-Checksum": `sha1 ${btoa("x".repeat(20))}` }),
    body: "hello",
  });
  await badChecksum.body?.cancel();
  assert.equal(badChecksum.status, 460);
  assert.equal(badChecksum.headers.get("location"), null, "a refused creation leaves no upload behind");
  const uploads = await (await server.fetch(`/api/projects/${id}/uploads`, { headers: basicAuth() })).json();
  const sizes = uploads.map((u: { size: number; complete: boolean }) => [u.size, u.complete]);
  assert.deepEqual(sizes.toSorted(), [[0, true], [5, true], [5, true]]);
  assert.ok(uploads.some((u: { sha256: string }) => u.sha256 === sha256Hex(new Uint8Array())));
});

Deno.test("projects: code, expiry, quota, types refused at creation; owner-only download; traversal-proof names", async () => {
  await using server = await startTestServer();
  const post = async (project: string, headers: Record<string, string>) => {
    const response = await server.fetch(`/files/${project}/`, { method: "POST", headers: tus(headers) });
    return [response.status, await response.text()] as const;
  };
  const coded = await createProject(server.fetch, { code: "s3same", allowedTypes: ["csv", ".TXT"], quotaBytes: 10 });
  const meta = (pairs: Record<string, string>) => ({ "Upload-Length": "4", "Upload-Metadata": metadata(pairs) });
  assert.equal((await post(coded.id, meta({ filename: "a.csv" })))[0], 403);
  assert.equal((await post(coded.id, meta({ filename: "a.csv", code: "nope" })))[0], 403);
  assert.match((await post(coded.id, meta({ filename: "a.exe", code: "s3same" })))[1], /not allowed/);
  assert.equal((await post(coded.id, { ...meta({ filename: "a.TXT" }), "Upload-Code": "s3same" }))[0], 201);
  assert.equal(
    (await post(coded.id, { ...meta({ filename: "b.csv", code: "s3same" }), "Upload-Length": "7" }))[0],
    413,
  );
  const expired = await createProject(server.fetch, { expiresAt: "2020-01-01T00:00:00Z" });
  assert.equal((await post(expired.id, { "Upload-Length": "1" }))[0], 410);

  const open = await createProject(server.fetch);
  const evil = "../../../../etc/passwd";
  const upload = await createUpload(server.fetch, open.id, 4, { "Upload-Metadata": metadata({ filename: evil }) });
  assert.equal((await patch(server.fetch, upload, 0, "root")).status, 204);
  const uploadId = upload.split("/").pop()!;
  const onDisk = [...Deno.readDirSync(`${server.dataDir}/uploads/${open.id}`)].map((entry) => entry.name);
  assert.deepEqual(onDisk, [uploadId]);
  const download = await server.fetch(`/api/projects/${open.id}/uploads/${uploadId}/file`, { headers: basicAuth() });
  assert.equal(download.status, 200);
  assert.equal(download.headers.get("content-disposition"), 'attachment; filename="passwd"');
  assert.equal(await download.text(), "root");
  const anonymous = await server.fetch(`/api/projects/${open.id}/uploads/${uploadId}/file`);
  assert.equal(anonymous.status, 401);
  await anonymous.body?.cancel();
  for (const path of [`/uploads/${open.id}/${uploadId}`, `/files/${open.id}/${uploadId}`]) {
    const direct = await server.fetch(path);
    await direct.body?.cancel();
    assert.notEqual(direct.status, 200, path);
  }
});

Deno.test("projects: simultaneous creations cannot together exceed the quota", async () => {
  await using server = await startTestServer();
  const { id } = await createProject(server.fetch, { quotaBytes: 100 });
  const attempts = await Promise.all(
    Array.from(
      { length: 5 },
      () =>
        server.fetch(`/files/${id}/`, { method: "POST", headers: tus({ "Upload-Length": "60" }) })
          .then(async (response) => (await response.body?.cancel(), response.status)),
    ),
  );
  assert.deepEqual(attempts.toSorted(), [201, 413, 413, 413, 413]);
});

Deno.test("tus: an interrupted or stalled PATCH keeps the bytes that reached disk and HEAD reports them", async () => {
  await using server = await startTestServer({ tus: { idleTimeoutSeconds: 0.5 } });
  const { id } = await createProject(server.fetch);
  const sent = testBytes(1024 * 1024);
  const check = async (fetch: typeof server.fetch, upload: string) => {
    let offset = 0;
    for (const deadline = Date.now() + 5000; offset < sent.length && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      offset = await headOffset(fetch, upload);
    }
    assert.equal(offset, sent.length);
    const file = await Deno.readFile(`${server.dataDir}/uploads/${id}/${upload.split("/").pop()}`);
    assert.equal(sha256Hex(file), sha256Hex(sent));
    assert.equal((await patch(fetch, upload, offset, testBytes(3 * 1024 * 1024, 2))).status, 204);
  };

  // HTTP/1.1: the client drops the connection after the first MiB; the server sees the body end early.
  const plain = (path: string, init?: RequestInit) => fetch(`${server.httpUrl}${path}`, init);
  const dropped = await createUpload(plain, id, 4 * 1024 * 1024);
  const abort = new AbortController();
  const abortedBody = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(sent);
      setTimeout(() => abort.abort(), 200);
    },
  });
  await assert.rejects(patch(plain, dropped, 0, abortedBody, {}, abort.signal));
  await check(plain, dropped);

  // HTTPS (HTTP/2): the client goes silent after the first MiB; the idle timeout ends the PATCH.
  const stalled = await createUpload(server.fetch, id, 4 * 1024 * 1024);
  let stall!: ReadableStreamDefaultController<Uint8Array>;
  const stalledBody = new ReadableStream<Uint8Array>({
    start(controller) {
      stall = controller;
      controller.enqueue(sent);
    },
  });
  const answer = await patch(server.fetch, stalled, 0, stalledBody);
  assert.equal(answer.headers.get("upload-offset"), String(sent.length));
  stall.close();
  await check(server.fetch, stalled);
});

Deno.test("tus: the scheduled cleanup removes expired unfinished uploads, record and file", async () => {
  await using server = await startTestServer({ tus: { expireSeconds: 0.2, cleanupIntervalSeconds: 0.2 } });
  const { id } = await createProject(server.fetch);
  const abandoned = await createUpload(server.fetch, id, 10);
  const finished = await createUpload(server.fetch, id, 2);
  assert.equal((await patch(server.fetch, abandoned, 0, "abc")).status, 204);
  assert.equal((await patch(server.fetch, finished, 0, "ok")).status, 204);
  await new Promise((resolve) => setTimeout(resolve, 800));
  assert.equal((await server.fetch(abandoned, { method: "HEAD", headers: tus() })).status, 404);
  const left = [...Deno.readDirSync(`${server.dataDir}/uploads/${id}`)].map((entry) => entry.name);
  assert.deepEqual(left, [finished.split("/").pop()]);
});

Deno.test("projects API: invalid input is a 400 naming the field; other users see nothing of a project", async () => {
  await using server = await startTestServer();
  const response = await server.fetch("/api/projects", {
    method: "POST",
    headers: { ...basicAuth(), "content-type": "application/json" },
    body: JSON.stringify({ name: "x", maxSizeBytes: -1, allowedTypes: ["../x"] }),
  });
  assert.equal(response.status, 400);
  assert.match((await response.json()).error, /maxSizeBytes/);
  const { id } = await createProject(server.fetch, { allowedTypes: [".CSV"] });
  const listed = await (await server.fetch("/api/projects", { headers: basicAuth() })).json();
  assert.deepEqual(listed.map((p: { id: string; allowedTypes: string[] }) => [p.id, p.allowedTypes]), [[id, ["csv"]]]);
  const upload = await createUpload(server.fetch, id, 1, { "Upload-Metadata": metadata({ filename: "a.csv" }) });
  assert.equal((await patch(server.fetch, upload, 0, "x")).status, 204);

  const eve = basicAuth("eve", "another long passphrase");
  await Deno.writeTextFile(
    `${server.dataDir}/users.htpasswd`,
    `eve:${await hashPassword("another long passphrase")}\n`,
    {
      append: true,
    },
  );
  await new Promise((resolve) => setTimeout(resolve, 1100)); // the users file is re-read at most once a second
  assert.deepEqual(await (await server.fetch("/api/projects", { headers: eve })).json(), []);
  for (const path of [`/api/projects/${id}/uploads`, `/api/projects/${id}/uploads/${upload.split("/").pop()}/file`]) {
    const denied = await server.fetch(path, { headers: eve });
    await denied.body?.cancel();
    assert.equal(denied.status, 404, path);
  }
});
