/**
 * `deno task deploy-config`: the checked-in deploy/nginx.conf and
 * deploy/haproxy.cfg are what the example configuration generates, HAProxy
 * and nginx accept the generated files, and impossible configurations are
 * refused with the key to change.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { main } from "../../cli/deploy_config.ts";
import { makeTestPki } from "../helpers/openssl_ca.ts";

const DEPLOY = fileURLToPath(new URL("../../deploy/", import.meta.url));
const EXAMPLE = join(DEPLOY, "fieldgate.example.toml");

async function hasCommand(name: string): Promise<boolean> {
  return (await new Deno.Command("sh", { args: ["-c", `command -v ${name}`], stdout: "null" }).output()).success;
}

async function run(command: string, args: string[]): Promise<{ success: boolean; output: string }> {
  const result = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { success: result.success, output: decode(result.stdout) + decode(result.stderr) };
}

/** Runs the CLI into a fresh directory with a throwaway certificate; returns the directory and the PKI. */
async function generate(args: string[]) {
  const dir = await Deno.makeTempDir({ prefix: "fieldgate-deploy-" });
  const pki = await makeTestPki(dir, "site");
  const pem = join(dir, "haproxy.pem");
  await Deno.writeTextFile(pem, await Deno.readTextFile(pki.leafFile) + await Deno.readTextFile(pki.keyFile));
  const code = await main([
    "--config",
    EXAMPLE,
    "--tls-cert-file",
    pki.leafFile,
    "--tls-key-file",
    pki.keyFile,
    "--haproxy-pem",
    pem,
    "--out",
    dir,
    ...args,
  ]);
  assert.equal(code, 0);
  return { dir, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

Deno.test("deploy/nginx.conf and deploy/haproxy.cfg are what the example configuration generates", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fieldgate-deploy-" });
  try {
    assert.equal(await main(["--config", EXAMPLE, "--out", dir]), 0);
    for (const name of ["nginx.conf", "haproxy.cfg"]) {
      assert.equal(
        await Deno.readTextFile(join(DEPLOY, name)),
        await Deno.readTextFile(join(dir, name)),
        `deploy/${name} is stale: deno task deploy-config --config deploy/fieldgate.example.toml --out deploy`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("haproxy -c accepts the generated haproxy.cfg", async () => {
  assert.ok(await hasCommand("haproxy"), "haproxy is not installed: apt-get install -y haproxy (.ci/run does)");
  await using out = await generate([]);
  const check = await run("haproxy", ["-c", "-f", join(out.dir, "haproxy.cfg")]);
  assert.ok(check.success, check.output);
  const text = await Deno.readTextFile(join(out.dir, "haproxy.cfg"));
  assert.match(
    text,
    /bind :38981 ssl crt .*\n.*\n\nbackend fieldgate_meter\n {4}server fieldgate1 127\.0\.0\.1:48981 send-proxy-v2/,
  );
});

Deno.test("a socket in TLS mode gets no HAProxy frontend", async () => {
  await using out = await generate(["--confo-mode", "tls", "--confo-port", "38979"]);
  const text = await Deno.readTextFile(join(out.dir, "haproxy.cfg"));
  assert.match(text, /frontend meter/);
  assert.doesNotMatch(text, /frontend confo/);
  assert.match(text, /# confo: confo\.mode = "tls": TLS ends in fieldgate itself .* on\n# port 38979/);
  assert.ok((await run("haproxy", ["-c", "-f", join(out.dir, "haproxy.cfg")])).success);
});

Deno.test("nginx -t accepts the generated site with fieldgate's body limit", async () => {
  if (!await hasCommand("nginx")) {
    console.warn(
      "\n" + "!".repeat(78) + "\n!!! nginx is not installed: `nginx -t` on the generated nginx.conf is SKIPPED." +
        "\n!!! Install it with: apt-get install -y nginx-light\n" + "!".repeat(78) + "\n",
    );
    return;
  }
  await using out = await generate(["--ott-max-body-bytes", "1234567", "--http-port", "9090"]);
  const site = await Deno.readTextFile(join(out.dir, "nginx.conf"));
  assert.match(site, /client_max_body_size 1234567;/);
  assert.match(site, /server 127\.0\.0\.1:9090;/);
  // nginx -t wants a whole configuration: a minimal main file that includes the site, as sites-enabled does.
  const main = join(out.dir, "main.conf");
  await Deno.writeTextFile(
    main,
    `pid ${out.dir}/nginx.pid;\nerror_log ${out.dir}/error.log;\nevents {}\n` +
      `http {\n    access_log off;\n    client_body_temp_path ${out.dir};\n    include ${out.dir}/nginx.conf;\n}\n`,
  );
  const check = await run("nginx", ["-t", "-c", main, "-e", join(out.dir, "error.log")]);
  assert.ok(check.success, check.output);
  assert.match(check.output, /test is successful/);
});

Deno.test("configurations no front end can serve are refused", async () => {
  assert.equal(await main(["--config", EXAMPLE, "--http-enabled", "false", "--out", "/nonexistent/x"]), 2);
  assert.equal(await main(["--config", EXAMPLE, "--meter-port", "0", "--out", "/nonexistent/x"]), 2);
  assert.equal(await main(["--config", EXAMPLE, "--public-meter-port", "70000"]), 2);
  assert.equal(await main(["--no-such-option", "1"]), 2);
  assert.equal(await main(["--help"]), 0);
});
