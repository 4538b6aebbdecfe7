import assert from "node:assert/strict";
import { createProject, createUpload, metadata, patch, tus } from "../helpers/dropoff.ts";
import { startTestServer } from "../helpers/server.ts";

interface HookCall {
  name: string | null;
  authorization: string | null;
  // deno-lint-ignore no-explicit-any
  payload: any;
}

Deno.test("tus hooks: tusd-style pre-create decides, post-finish reports, with HOOK-NAME and token", async () => {
  const calls: HookCall[] = [];
  let finished!: () => void;
  const postFinish = new Promise<void>((resolve) => finished = resolve);
  const hook = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
    const call = {
      name: request.headers.get("hook-name"),
      authorization: request.headers.get("authorization"),
      payload: await request.json(),
    };
    calls.push(call);
    if (call.name === "post-finish") finished();
    return new Response(null, { status: call.payload.Upload.MetaData.filename === "refuse.txt" ? 403 : 200 });
  });
  try {
    await using server = await startTestServer({
      tus: { hookUrl: `http://127.0.0.1:${hook.addr.port}/datadrops/webhook/`, hookToken: "t0ken" },
    });
    const { id } = await createProject(server.fetch, { code: "c" });
    const refused = await server.fetch(`/files/${id}/`, {
      method: "POST",
      headers: tus({ "Upload-Length": "2", "Upload-Metadata": metadata({ filename: "refuse.txt", code: "c" }) }),
    });
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /pre-create hook/);

    const upload = await createUpload(server.fetch, id, 2, {
      "Upload-Metadata": metadata({ filename: "ok.txt", code: "c" }),
    });
    assert.equal((await patch(server.fetch, upload, 0, "hi")).status, 204);
    await postFinish;

    assert.deepEqual(calls.map((call) => [call.name, call.authorization]), [
      ["pre-create", "Token t0ken"],
      ["pre-create", "Token t0ken"],
      ["post-finish", "Token t0ken"],
    ]);
    const [, preCreate, finish] = calls.map((call) => call.payload);
    // The back end sees what the original's did: the client's metadata with the code, and the bound project.
    assert.deepEqual(preCreate.Upload.MetaData, { filename: "ok.txt", code: "c", project: id });
    assert.equal(preCreate.Upload.Size, 2);
    assert.equal(preCreate.HTTPRequest.Method, "POST");
    assert.equal(finish.Upload.Offset, 2);
    assert.deepEqual(finish.Upload.MetaData, { filename: "ok.txt", project: id });
    assert.equal(finish.Upload.Storage.Path, `${server.dataDir}/uploads/${id}/${upload.split("/").pop()}`);
    assert.equal(finish.HTTPRequest.Header["Tus-Resumable"][0], "1.0.0");
  } finally {
    await hook.shutdown();
  }
});

Deno.test("tus hooks: an unreachable pre-create back end gives 503 (clients retry), nothing created", async () => {
  await using server = await startTestServer({ tus: { hookUrl: "http://127.0.0.1:1/datadrops/webhook/" } });
  const { id } = await createProject(server.fetch);
  const response = await server.fetch(`/files/${id}/`, { method: "POST", headers: tus({ "Upload-Length": "1" }) });
  await response.body?.cancel();
  assert.equal(response.status, 503);
  assert.deepEqual([...Deno.readDirSync(server.dataDir)].filter((entry) => entry.name === "uploads"), []);
});
