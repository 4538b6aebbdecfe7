import assert from "node:assert/strict";
import {
  checkPreCreate,
  fileExtension,
  hashUploadCode,
  type PreCreateFacts,
  type Project,
  safeFileName,
} from "../../domain/dropoff.ts";
import {
  formatMetadata,
  formatUploadConcat,
  parseByteCount,
  parseChecksum,
  parseCreationLength,
  parseMetadata,
  parseUploadConcat,
} from "../../domain/tus.ts";

Deno.test("tus headers: byte counts, creation length, metadata and checksums", () => {
  assert.deepEqual(parseByteCount("Upload-Offset", "0"), { ok: true, value: 0 });
  assert.deepEqual(parseByteCount("Upload-Length", " 9007199254740991 "), { ok: true, value: 2 ** 53 - 1 });
  for (const bad of ["-1", "01", "1.5", "9007199254740992", "", "0x10", undefined]) {
    assert.equal(parseByteCount("Upload-Length", bad).ok, false, String(bad));
  }
  assert.deepEqual(parseCreationLength(undefined, "1"), { ok: true, value: null });
  assert.equal(parseCreationLength(undefined, "0").ok, false);
  assert.equal(parseCreationLength("1", "1").ok, false);

  const parsed = parseMetadata("filename bcOkcnouY3N2,is_secret, note ");
  assert.deepEqual(parsed, { ok: true, value: { filename: "märz.csv", is_secret: "", note: "" } });
  assert.equal(formatMetadata({ filename: "märz.csv", flag: "" }), "filename bcOkcnouY3N2,flag");
  for (const bad of ["a b c", "k YQ", "k ////", "a YQ==,a YQ==", "k /w==", "k,,", "ké YQ=="]) {
    assert.equal(parseMetadata(bad).ok, false, bad);
  }
  assert.deepEqual(parseChecksum("sha1 qZk+NkcGgWq6PiVxeFDCbJzQ2J0="), {
    ok: true,
    value: { algorithm: "sha1", digest: Uint8Array.from(atob("qZk+NkcGgWq6PiVxeFDCbJzQ2J0="), (c) => c.charCodeAt(0)) },
  });
  for (const bad of ["crc32 AAAA", "sha1", "sha1 !!!", "sha1 YQ== extra"]) assert.equal(parseChecksum(bad).ok, false);
});

Deno.test("drop-off: pre-create decisions and client file names", () => {
  const project: Project = {
    id: crypto.randomUUID(),
    owner: "alice",
    name: "p",
    codeHash: hashUploadCode("open sesame"),
    maxSizeBytes: 100,
    quotaBytes: 150,
    allowedTypes: ["csv"],
    expiresAt: new Date("2030-01-01T00:00:00Z"),
    createdAt: new Date(0),
    publicKey: null,
  };
  const facts: PreCreateFacts = {
    project,
    code: "open sesame",
    length: 10,
    metadata: { filename: "a.CSV" },
    usedBytes: 0,
    now: new Date("2029-01-01T00:00:00Z"),
  };
  const status = (overrides: Partial<PreCreateFacts>) => {
    const decision = checkPreCreate({ ...facts, ...overrides });
    return decision.ok ? 201 : decision.error.status;
  };
  assert.equal(status({}), 201);
  assert.equal(status({ project: null }), 404);
  assert.equal(status({ now: new Date("2031-01-01T00:00:00Z") }), 410);
  assert.equal(status({ code: undefined }), 403);
  assert.equal(status({ code: "open sesame " }), 403);
  assert.equal(status({ length: 101 }), 413);
  assert.equal(status({ usedBytes: 141 }), 413);
  assert.equal(status({ length: null }), 400);
  assert.equal(status({ length: null, project: { ...project, maxSizeBytes: null, quotaBytes: null } }), 201);
  assert.equal(status({ metadata: { filename: "a.exe" } }), 403);
  assert.equal(status({ metadata: {} }), 403);

  assert.equal(fileExtension("x/report.TXT"), "txt");
  assert.equal(fileExtension(".bashrc"), null);
  assert.equal(safeFileName("../../etc/passwd", "id"), "passwd");
  assert.equal(safeFileName("..\\..\\boot.ini", "id"), "boot.ini");
  assert.equal(safeFileName("..", "id"), "id");
  assert.equal(safeFileName('a"b;c\r\n.txt', "id"), "a_b_c_.txt");
});

Deno.test("tus headers: Upload-Concat names partials of the same project only, by path or absolute URL", () => {
  const project = "6f1c2b1e-8d0e-4a55-9c3e-0d2a5e4b7c11";
  const [a, b] = ["a".repeat(32), "0123456789abcdef".repeat(2)];
  assert.deepEqual(parseUploadConcat(undefined, project), { ok: true, value: null });
  assert.deepEqual(parseUploadConcat(" partial ", project), { ok: true, value: { kind: "partial" } });
  const final = { ok: true, value: { kind: "final", partIds: [a, b] } };
  assert.deepEqual(parseUploadConcat(`final;/files/${project}/${a} /files/${project}/${b}`, project), final);
  assert.deepEqual(
    parseUploadConcat(`final; https://h.example:8443/files/${project}/${a}  /files/${project}/${b}`, project),
    final,
  );
  assert.equal(
    formatUploadConcat(final.value as { kind: "final"; partIds: string[] }, project),
    `final;/files/${project}/${a} /files/${project}/${b}`,
  );
  assert.equal(formatUploadConcat({ kind: "partial" }, project), "partial");
  const refused = [
    "whole",
    "final;",
    "final",
    `final;/files/${crypto.randomUUID()}/${a}`,
    `final;/files/${project}/${a}/extra`,
    `final;/files/${project}/../${a}`,
    `final;/files/${project}/${a.toUpperCase()}`,
    `final;files/${project}/${a}`,
    `final;/files/${project}/${a} /files/${project}/${a}`,
  ];
  for (const header of refused) assert.equal(parseUploadConcat(header, project).ok, false, header);
});
