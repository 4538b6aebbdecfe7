/** A throwaway CA and a leaf certificate for localhost, made with the real openssl CLI. */
import assert from "node:assert/strict";
import { join } from "node:path";

/** PEM paths of a CA and a leaf it signed. */
export interface TestPki {
  caFile: string;
  leafFile: string;
  keyFile: string;
}

/** Creates `<prefix>-ca.pem`, `<prefix>-leaf.pem` and `<prefix>-leaf.key` (RSA-2048, SAN localhost) in `dir`. */
export async function makeTestPki(dir: string, prefix: string): Promise<TestPki> {
  const run = async (...args: string[]) => {
    const out = await new Deno.Command("openssl", { args, cwd: dir, stderr: "piped", stdout: "null" }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
  };
  const ext = join(dir, `${prefix}.ext`);
  await Deno.writeTextFile(ext, "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  await run(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    `${prefix}-ca.key`,
    "-out",
    `${prefix}-ca.pem`,
    "-days",
    "2",
    "-subj",
    `/CN=${prefix} Test CA`,
  );
  await run(
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    `${prefix}-leaf.key`,
    "-out",
    `${prefix}-leaf.csr`,
    "-subj",
    "/CN=localhost",
  );
  await run(
    "x509",
    "-req",
    "-in",
    `${prefix}-leaf.csr`,
    "-CA",
    `${prefix}-ca.pem`,
    "-CAkey",
    `${prefix}-ca.key`,
    "-CAcreateserial",
    "-out",
    `${prefix}-leaf.pem`,
    "-days",
    "2",
    "-extfile",
    ext,
  );
  return {
    caFile: join(dir, `${prefix}-ca.pem`),
    leafFile: join(dir, `${prefix}-leaf.pem`),
    keyFile: join(dir, `${prefix}-leaf.key`),
  };
}
