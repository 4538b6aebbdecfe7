import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startTestServer } from "../helpers/server.ts";
import { WebClient } from "../helpers/web_client.ts";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Variables the child needs to find Deno's cache; everything else (FIELDGATE_*) is left out for hermetic runs. */
const BASE_ENV = Object.fromEntries(
  ["HOME", "PATH", "DENO_DIR", "TMPDIR"].flatMap((name) => Deno.env.has(name) ? [[name, Deno.env.get(name)!]] : []),
);

/**
 * Runs `deno run -A auth/cli.ts …` like `deno task user` does, but from an empty
 * directory so a developer's ./fieldgate.toml cannot leak in; feeds `stdin` if given.
 */
async function cli(args: string[], options: { stdin?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  await using cwd = await tempDir();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", join(REPO_ROOT, "deno.json"), join(REPO_ROOT, "auth/cli.ts"), ...args],
    cwd: cwd.dir,
    clearEnv: true,
    env: { ...BASE_ENV, NO_COLOR: "1", ...options.env },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  if (options.stdin !== undefined) await writer.write(new TextEncoder().encode(options.stdin));
  await writer.close();
  const output = await child.output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

async function tempDir() {
  const dir = await Deno.makeTempDir({ prefix: "fieldgate-cli-" });
  return { dir, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

/** Whether Apache's htpasswd is installed (apache2-utils); only one optional assertion needs it. */
async function hasHtpasswd(): Promise<boolean> {
  try {
    await new Deno.Command("htpasswd", { stdout: "null", stderr: "null" }).output();
    return true;
  } catch {
    return false;
  }
}

Deno.test("CLI add, list, verify, change, remove against a users file, with clear exit codes", async () => {
  await using temp = await tempDir();
  const file = ["--auth-users-file", join(temp.dir, "users.htpasswd")];

  const added = await cli(["add", "logger-01", "--password-stdin", ...file], { stdin: "first pw ✓\n" });
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, /Added user logger-01/);
  assert.equal((await Deno.stat(join(temp.dir, "users.htpasswd"))).mode! & 0o777, 0o600);
  assert.match(await Deno.readTextFile(join(temp.dir, "users.htpasswd")), /^logger-01:\$2y\$10\$/);

  const listed = await cli(["list", ...file]);
  assert.equal(listed.code, 0);
  assert.equal(listed.stdout, "logger-01\tbcrypt\n");

  const correct = await cli(["verify", "logger-01", "--password-stdin", ...file], { stdin: "first pw ✓\n" });
  assert.equal(correct.code, 0);
  assert.match(correct.stdout, /correct/);
  const wrong = await cli(["verify", "logger-01", "--password-stdin", ...file], { stdin: "first pw\n" });
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /Password for logger-01 is wrong/);

  const changed = await cli(["add", "logger-01", "--password-stdin", ...file], { stdin: "second pw\r\n" });
  assert.equal(changed.code, 0);
  assert.match(changed.stdout, /Changed the password of logger-01/);

  if (await hasHtpasswd()) {
    const apache = await new Deno.Command("htpasswd", {
      args: ["-vb", join(temp.dir, "users.htpasswd"), "logger-01", "second pw"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(apache.code, 0, new TextDecoder().decode(apache.stderr));
  } else {
    console.warn(
      "!!! SKIPPED: htpasswd (apache2-utils) not installed; file not cross-checked with Apache's htpasswd -v",
    );
  }

  const removed = await cli(["remove", "logger-01", ...file]);
  assert.equal(removed.code, 0);
  assert.match(removed.stdout, /Removed user logger-01/);
  const again = await cli(["remove", "logger-01", ...file]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /No user "logger-01".*deno task user list/);
  const gone = await cli(["verify", "logger-01", "--password-stdin", ...file], { stdin: "second pw\n" });
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /No user "logger-01"/);
});

Deno.test("CLI finds the users file through --data-dir and FIELDGATE_AUTH_USERS_FILE like the server", async () => {
  await using temp = await tempDir();
  const viaFlag = await cli(["add", "alice", "--password-stdin", "--data-dir", temp.dir], { stdin: "pw\n" });
  assert.equal(viaFlag.code, 0, viaFlag.stderr);
  assert.match(await Deno.readTextFile(join(temp.dir, "users.htpasswd")), /^alice:/);

  const custom = join(temp.dir, "custom.htpasswd");
  const viaEnv = await cli(["add", "bob", "--password-stdin"], {
    stdin: "pw\n",
    env: { FIELDGATE_AUTH_USERS_FILE: custom },
  });
  assert.equal(viaEnv.code, 0, viaEnv.stderr);
  assert.match(await Deno.readTextFile(custom), /^bob:/);
});

Deno.test("CLI refuses bad input with exit code 2 and says what to do, writing nothing", async () => {
  await using temp = await tempDir();
  const file = ["--auth-users-file", join(temp.dir, "users.htpasswd")];
  const cases: [string[], string | undefined, RegExp][] = [
    [["add", "bad:name", "--password-stdin", ...file], "pw\n", /invalid username "bad:name"/],
    [["add", "alice", "--password-stdin", ...file], "\n", /empty passwords are not allowed/],
    [["add", "alice", "--password-stdin", ...file], "x".repeat(73) + "\n", /first 72 bytes/],
    [["add", "alice", "--password-stdin", ...file], undefined, /standard input is empty/],
    [["add", "alice", ...file], undefined, /not a terminal; pipe the password and add --password-stdin/],
    [["add", ...file], undefined, /"add" needs a user name first: deno task user add NAME/],
    [["remove", "alice", "--password-stdin", ...file], undefined, /does not read a password/],
    [["rename", "alice"], undefined, /unknown command "rename"/],
    [["list", "--no-such-option", "1"], undefined, /unknown option --no-such-option/],
    [[], undefined, /Usage: deno task user <command>/],
  ];
  for (const [args, stdin, message] of cases) {
    const result = await cli(args, { stdin });
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, message);
  }
  assert.deepEqual([...Deno.readDirSync(temp.dir)], []);
});

Deno.test("CLI --help works on the command and on every subcommand", async () => {
  const main = await cli(["--help"]);
  assert.equal(main.code, 0);
  assert.match(main.stdout, /add NAME.*\n.*remove NAME.*\n.*list.*\n.*verify NAME/);
  for (const command of ["add", "remove", "list", "verify"]) {
    const help = await cli([command, "--help"]);
    assert.equal(help.code, 0, command);
    assert.match(help.stdout, new RegExp(`^Usage: deno task user ${command}`));
    assert.match(help.stdout, /--auth-users-file FILE/);
  }
});

Deno.test("CLI account: the first admin, list, status changes and a new password; the server takes that login", async () => {
  await using temp = await tempDir();
  const data = ["--data-dir", temp.dir];
  const passphrase = { stdin: "a long enough passphrase\n" };

  const help = await cli(["account", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /add EMAIL USERNAME \[--admin\]/);
  const added = await cli(
    ["account", "add", "Root@Example.org", "root", "--admin", "--password-stdin", ...data],
    passphrase,
  );
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, /Added admin root <root@example.org> \(activated\)/);
  const owner = await cli(["account", "add", "kim@example.org", "kim", "--password-stdin", ...data], passphrase);
  assert.equal(owner.code, 0, owner.stderr);

  const taken = await cli(["account", "add", "kim@example.org", "kim2", "--password-stdin", ...data], passphrase);
  assert.equal(taken.code, 1);
  assert.match(taken.stderr, /email already exists; nothing changed/);
  const badEmail = await cli(["account", "add", "not-an-email", "x", "--password-stdin", ...data], passphrase);
  assert.equal(badEmail.code, 2);
  const short = await cli(["account", "add", "a@example.org", "a", "--password-stdin", ...data], { stdin: "short\n" });
  assert.equal(short.code, 2);
  assert.match(short.stderr, /at least 10 characters/);

  const logger = await cli(["add", "KIM", "--password-stdin", ...data], passphrase);
  assert.equal(logger.code, 2, "a logger may not take an account's name");
  assert.match(logger.stderr, /"KIM" is the username of a web account/);
  assert.equal((await cli(["account", "deactivate", "kim", ...data])).code, 0);
  assert.equal((await cli(["account", "deactivate", "nobody", ...data])).code, 1);
  const changed = await cli(["account", "password", "root", "--password-stdin", ...data], {
    stdin: "the new admin passphrase\n",
  });
  assert.equal(changed.code, 0, changed.stderr);
  const list = await cli(["account", "list", ...data]);
  assert.equal(list.stdout, "root\troot@example.org\tactive\tadmin\nkim\tkim@example.org\tdeactivated\towner\n");

  await using server = await startTestServer({ dataDir: temp.dir });
  const web = new WebClient(server.fetch, server.httpsUrl);
  const login = await web.submit("/login", "/login", {
    login: "root",
    password: "the new admin passphrase",
    next: "/admin/accounts",
  });
  assert.equal(login.status, 303);
  const admin = await web.page("/admin/accounts");
  assert.equal(admin.status, 200);
  assert.match(admin.html, /kim@example\.org/);
});
