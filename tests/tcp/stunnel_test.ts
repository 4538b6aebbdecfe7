/**
 * End to end through a real TLS terminator: `openssl s_client` offering only
 * AES256-SHA (as old CC3220S firmware does) → stunnel or HAProxy, run with the
 * shipped deploy/ configuration → a fieldgate listener in proxy mode. The
 * handler must get the client's address from the PROXY header; the terminator
 * connects from 127.0.0.3 so the two cannot be confused.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ensureDevCertificate } from "../../certs/dev_cert.ts";
import { captureLogs, startListener, thankYou, within } from "./helpers.ts";
import { firstCommand, freePort, startDaemon } from "../helpers/daemon.ts";

const DEPLOY = new URL("../../deploy/", import.meta.url);
const TERMINATOR_ADDRESS = "127.0.0.3";
const PACKET = '{"Id":4711,"timestamp":0,"status":true,"voltage":229.8,"freq":50.01}';

const stunnel = await firstCommand(["stunnel4", "stunnel"], ["-version"]);
const haproxy = await firstCommand(["haproxy"], ["-v"]);
if (!haproxy) {
  console.warn(
    "\n" + "!".repeat(78) + "\n!!! haproxy is not installed: the HAProxy end-to-end test is SKIPPED." +
      "\n!!! Install it with: apt-get install -y haproxy\n" + "!".repeat(78) + "\n",
  );
}

Deno.test('stunnel with deploy/stunnel.conf: an AES256-SHA device gets "Thank you", its address arrives via PROXY v1', async () => {
  assert.ok(stunnel, "stunnel is not installed: apt-get install -y stunnel4 (this end-to-end test needs it)");
  await using env = await environment();
  const port = freePort();
  const config = rewrite(await Deno.readTextFile(new URL("stunnel.conf", DEPLOY)), {
    drop: /^set[ug]id = /,
    replace: [
      [/^accept = 0\.0\.0\.0:38981$/m, `accept = 127.0.0.1:${port}`],
      [/^accept = 0\.0\.0\.0:38979$/m, `accept = 127.0.0.1:${freePort()}`],
      [/^connect = 127\.0\.0\.1:489\d\d$/gm, `connect = 127.0.0.1:${env.listener.port}\nlocal = ${TERMINATOR_ADDRESS}`],
      [/^cert = .*$/gm, `cert = ${env.certFile}`],
      [/^key = .*$/gm, `key = ${env.keyFile}`],
    ],
  });
  const configFile = join(env.dir, "stunnel.conf");
  await Deno.writeTextFile(configFile, config);
  await using _daemon = await startDaemon(stunnel!, [configFile], (log) => /Configuration successful/.test(log));
  await assertDeviceRoundTrip(env, port);
});

Deno.test({
  name: 'HAProxy with deploy/haproxy.cfg: an AES256-SHA device gets "Thank you", its address arrives via PROXY v2',
  ignore: !haproxy,
  async fn() {
    await using env = await environment();
    const port = freePort();
    const pem = join(env.dir, "haproxy.pem");
    await Deno.writeTextFile(pem, await Deno.readTextFile(env.certFile) + await Deno.readTextFile(env.keyFile));
    const config = rewrite(await Deno.readTextFile(new URL("haproxy.cfg", DEPLOY)), {
      drop: /^\s*(log \/dev\/log|chroot|user|group) /,
      replace: [
        [/bind :38981 ssl crt \S+/, `bind 127.0.0.1:${port} ssl crt ${pem}`],
        [/bind :38979 ssl crt \S+/, `bind 127.0.0.1:${freePort()} ssl crt ${pem}`],
        [
          /127\.0\.0\.1:489\d\d send-proxy-v2/g,
          `127.0.0.1:${env.listener.port} send-proxy-v2 source ${TERMINATOR_ADDRESS}`,
        ],
      ],
    });
    const configFile = join(env.dir, "haproxy.cfg");
    await Deno.writeTextFile(configFile, config);
    const check = await new Deno.Command(haproxy!, { args: ["-c", "-f", configFile], stdout: "piped", stderr: "piped" })
      .output();
    assert.ok(
      check.success,
      `haproxy -c: ${new TextDecoder().decode(check.stdout)}${new TextDecoder().decode(check.stderr)}`,
    );
    await using _daemon = await startDaemon(haproxy!, ["-db", "-f", configFile], () => false, port);
    await assertDeviceRoundTrip(env, port);
  },
});

interface Environment extends AsyncDisposable {
  dir: string;
  certFile: string;
  keyFile: string;
  listener: { port: number };
  seen: ReturnType<typeof thankYou>;
  logs: Awaited<ReturnType<typeof captureLogs>>;
}

/** A temp dir with a dev certificate, log capture, and a proxy-mode listener answering "Thank you". */
async function environment(): Promise<Environment> {
  const dir = await Deno.makeTempDir({ prefix: "fieldgate-terminator-" });
  const { certFile, keyFile } = await ensureDevCertificate(join(dir, "certs"), ["127.0.0.1", "localhost"]);
  const logs = await captureLogs();
  const seen = thankYou();
  const listener = await startListener({ name: "meter", mode: "proxy" }, seen.handler);
  return {
    dir,
    certFile,
    keyFile,
    listener,
    seen,
    logs,
    async [Symbol.asyncDispose]() {
      await listener.close(1);
      await logs[Symbol.asyncDispose]();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** One device session through the terminator, checked from both ends. */
async function assertDeviceRoundTrip(env: Environment, port: number): Promise<void> {
  const session = await opensslSession(port, env.certFile, PACKET);
  assert.equal(session.reply, "Thank you", session.stderr);
  assert.match(session.stderr, /Protocol version: TLSv1\.2/);
  assert.match(session.stderr, /Ciphersuite: AES256-SHA\b/, "the static-RSA suite was really negotiated");
  assert.match(session.stderr, /Verification: OK/, "the device-side certificate check passed");
  assert.deepEqual(env.seen.lines, [PACKET]);
  assert.deepEqual(env.seen.remotes, ["127.0.0.1"], "the device's address, from the PROXY header");
  const line = await env.logs.waitForOutcome("closed by client");
  assert.equal(line.properties.remote, "127.0.0.1");
  assert.equal(line.properties.peer, TERMINATOR_ADDRESS, "the socket itself came from the terminator");
}

/**
 * `openssl s_client` as an old device: TLS 1.2, AES256-SHA only, verifying the
 * server certificate; sends one line and returns the first reply line.
 */
async function opensslSession(port: number, caFile: string, line: string): Promise<{ reply: string; stderr: string }> {
  const child = new Deno.Command("openssl", {
    args: [
      ...["s_client", "-connect", `127.0.0.1:${port}`, "-tls1_2", "-cipher", "AES256-SHA", "-brief"],
      ...["-CAfile", caFile, "-verify_return_error", "-verify_ip", "127.0.0.1"],
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const stdin = child.stdin.getWriter();
  await stdin.write(new TextEncoder().encode(line + "\n"));
  let stdout = "";
  const output = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    await within(
      (async () => {
        while (!stdout.includes("\n")) {
          const { value, done } = await output.read();
          if (done) break;
          stdout += value;
        }
      })(),
      "a reply through the terminator",
    );
  } finally {
    await stdin.close(); // end of input: s_client closes the session and exits
    while (!(await output.read()).done) { /* drain */ }
    await child.status;
  }
  return { reply: stdout.split("\n")[0], stderr: await stderr };
}

/** The shipped config with test paths and ports; fails if an expected line is missing, so tests follow the file. */
function rewrite(template: string, changes: { drop: RegExp; replace: [RegExp, string][] }): string {
  let text = template.split("\n").filter((line) => !changes.drop.test(line)).join("\n");
  for (const [pattern, replacement] of changes.replace) {
    assert.match(text, pattern, `the deploy file no longer has a line like ${pattern}`);
    text = text.replace(pattern, replacement);
  }
  return text;
}
