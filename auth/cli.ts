/**
 * `deno task user`: manage the htpasswd users of fieldgate.
 *
 * Passwords come from an echo-free prompt or from standard input
 * (`--password-stdin`), never from the command line, where `ps` and shell
 * history would show them. The users file is the one the server uses: same
 * config file, environment variables and flags.
 *
 * Exit codes: 0 done / password correct, 1 refused (wrong password, unknown
 * user, I/O error), 2 usage or configuration error, 130 cancelled.
 */
import { ConfigError, loadConfig } from "../config.ts";
import { assertValidUsername, BCRYPT_MAX_PASSWORD_BYTES, InvalidUsernameError } from "./htpasswd.ts";
import { UsersFile } from "./users_file.ts";

const CONFIG_HELP = `
Which users file: the server's, from the same sources (see deno task start --help):
  --auth-users-file FILE   [FIELDGATE_AUTH_USERS_FILE]  default: <data dir>/users.htpasswd
  --data-dir DIR           [FIELDGATE_DATA_DIR]         default: ./data
  --config FILE            [FIELDGATE_CONFIG]           default: ./fieldgate.toml if present`;

const PASSWORD_HELP = `
Password: asked twice at the terminal without echo, or with --password-stdin
read from the first line of standard input (for scripts). Never on the command line.`;

const COMMANDS: Record<string, { takesName: boolean; readsPassword: boolean; help: string }> = {
  add: {
    takesName: true,
    readsPassword: true,
    help: `Usage: deno task user add NAME [--password-stdin] [config options]

Adds user NAME, or sets a new password if NAME exists (bcrypt, like htpasswd -B).
NAME: 1-64 characters from A-Z a-z 0-9 . _ @ -. The server notices within a second.
${PASSWORD_HELP}
${CONFIG_HELP}`,
  },
  remove: {
    takesName: true,
    readsPassword: false,
    help: `Usage: deno task user remove NAME [config options]

Removes user NAME; their logins stop working within a second.
${CONFIG_HELP}`,
  },
  list: {
    takesName: false,
    readsPassword: false,
    help: `Usage: deno task user list [config options]

Prints one line per user: NAME, a tab, and the hash format (bcrypt, apr1, sha1, unsupported).
${CONFIG_HELP}`,
  },
  verify: {
    takesName: true,
    readsPassword: true,
    help: `Usage: deno task user verify NAME [--password-stdin] [config options]

Checks a password for NAME: exit code 0 when it is correct, 1 when it is wrong.
Password: asked once at the terminal without echo, or read from the first line of
standard input with --password-stdin.
${CONFIG_HELP}`,
  },
};

const MAIN_HELP = `Usage: deno task user <command> [NAME] [options]

Manage the users that may log in to fieldgate (an htpasswd file: bcrypt, apr1 and {SHA}
hashes from Apache's htpasswd or openssl work too).

Commands:
  add NAME      add a user or change their password
  remove NAME   remove a user
  list          list users and their hash format
  verify NAME   check a password (exit 0 correct, 1 wrong)

Run deno task user <command> --help for details.
${CONFIG_HELP}`;

/** A mistake in how the command was called; exit code 2. */
class UsageError extends Error {}

/** The user pressed Ctrl-C or Ctrl-D at a prompt; exit code 130. */
class CancelledError extends Error {}

/** Runs the CLI with `args` (without the program name) and returns the exit code. */
export async function main(args: string[]): Promise<number> {
  try {
    return await run(args);
  } catch (error) {
    if (error instanceof CancelledError) {
      console.error("Cancelled; nothing changed.");
      return 130;
    }
    const usage = error instanceof UsageError || error instanceof ConfigError || error instanceof InvalidUsernameError;
    console.error(`Error: ${(error as Error).message}`);
    return usage ? 2 : 1;
  }
}

async function run(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    (command === undefined ? console.error : console.log)(MAIN_HELP);
    return command === undefined ? 2 : 0;
  }
  const spec = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!spec) throw new UsageError(`unknown command "${command}"; run deno task user --help for the list`);
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(spec.help);
    return 0;
  }

  const name = spec.takesName ? rest.shift() : undefined;
  if (spec.takesName && (name === undefined || name.startsWith("-"))) {
    throw new UsageError(`"${command}" needs a user name first: deno task user ${command} NAME`);
  }
  const passwordStdin = rest.includes("--password-stdin");
  if (passwordStdin && !spec.readsPassword) throw new UsageError(`"${command}" does not read a password`);
  const config = loadConfig({ args: rest.filter((arg) => arg !== "--password-stdin"), env: Deno.env.toObject() });
  const users = new UsersFile(config.auth.usersFile);

  switch (command) {
    case "add":
      return await add(users, name!, passwordStdin);
    case "remove":
      return await remove(users, name!);
    case "list":
      return await list(users);
    default:
      return await verify(users, name!, passwordStdin);
  }
}

async function add(users: UsersFile, name: string, passwordStdin: boolean): Promise<number> {
  assertValidUsername(name);
  let password: string;
  if (passwordStdin) {
    password = await readPasswordLine();
  } else {
    password = await promptPassword(`New password for ${name}: `);
    if (password !== await promptPassword("Repeat the password: ")) {
      throw new UsageError("the two passwords differ; nothing changed. Run the command again.");
    }
  }
  if (password === "") throw new UsageError("empty passwords are not allowed; nothing changed");
  if (new TextEncoder().encode(password).length > BCRYPT_MAX_PASSWORD_BYTES) {
    throw new UsageError(
      `bcrypt uses only the first ${BCRYPT_MAX_PASSWORD_BYTES} bytes of a password; choose a shorter one. Nothing changed.`,
    );
  }
  const created = await users.add(name, password);
  console.log(`${created ? "Added user" : "Changed the password of"} ${name} in ${users.path}.`);
  return 0;
}

async function remove(users: UsersFile, name: string): Promise<number> {
  if (await users.remove(name)) {
    console.log(`Removed user ${name} from ${users.path}.`);
    return 0;
  }
  console.error(`No user "${name}" in ${users.path}; nothing changed. See the users with: deno task user list`);
  return 1;
}

async function list(users: UsersFile): Promise<number> {
  const entries = await users.list();
  if (entries.length === 0) {
    console.error(`No users in ${users.path}. Add one with: deno task user add NAME`);
    return 0;
  }
  for (const { user, format } of entries) console.log(`${user}\t${format}`);
  const weak = entries.filter((entry) => entry.format === "sha1" || entry.format === "unsupported");
  if (weak.length > 0) {
    console.error(
      `Note: ${weak.map((entry) => entry.user).join(", ")} use {SHA} (weak) or an unsupported hash ` +
        "(cannot log in); give them a bcrypt password with: deno task user add NAME",
    );
  }
  return 0;
}

async function verify(users: UsersFile, name: string, passwordStdin: boolean): Promise<number> {
  const entry = (await users.list()).find((candidate) => candidate.user === name);
  if (!entry) {
    console.error(`No user "${name}" in ${users.path}. See the users with: deno task user list`);
    return 1;
  }
  const password = passwordStdin ? await readPasswordLine() : await promptPassword(`Password for ${name}: `);
  if (await users.verify(name, password)) {
    console.log(`Password for ${name} is correct.`);
    return 0;
  }
  const why = entry.format === "unsupported" ? " (its hash format is unsupported, so no password can match)" : "";
  console.error(`Password for ${name} is wrong${why}.`);
  return 1;
}

/** First line of standard input, without its line ending. */
async function readPasswordLine(): Promise<string> {
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(4096);
  while (true) {
    const count = await Deno.stdin.read(buffer);
    if (count === null) break;
    chunks.push(buffer.slice(0, count));
    if (buffer.subarray(0, count).includes(0x0a)) break;
  }
  if (chunks.length === 0) throw new UsageError("--password-stdin: standard input is empty; pipe the password into it");
  const text = new TextDecoder().decode(concat(chunks));
  return text.split("\n")[0].replace(/\r$/, "");
}

/** Reads a password at the terminal with echo off (raw mode), handling backspace, Ctrl-U, Ctrl-C and Ctrl-D. */
async function promptPassword(label: string): Promise<string> {
  if (!Deno.stdin.isTerminal()) {
    throw new UsageError("standard input is not a terminal; pipe the password and add --password-stdin");
  }
  const bytes: number[] = [];
  const buffer = new Uint8Array(256);
  // Raw mode first: typing that starts as soon as the prompt shows must already be unechoed.
  Deno.stdin.setRaw(true);
  try {
    await Deno.stderr.write(new TextEncoder().encode(label));
    reading: while (true) {
      const count = await Deno.stdin.read(buffer);
      if (count === null) break;
      for (const byte of buffer.subarray(0, count)) {
        if (byte === 0x0d || byte === 0x0a) break reading;
        if (byte === 0x03 || (byte === 0x04 && bytes.length === 0)) throw new CancelledError();
        if (byte === 0x04) break reading;
        if (byte === 0x15) bytes.length = 0;
        // Backspace removes one character: its UTF-8 continuation bytes, then its lead byte.
        else if (byte === 0x7f || byte === 0x08) { while (bytes.length > 0 && (bytes.pop()! & 0xc0) === 0x80); }
        else bytes.push(byte);
      }
    }
  } finally {
    Deno.stdin.setRaw(false);
    await Deno.stderr.write(new TextEncoder().encode("\n"));
  }
  return new TextDecoder().decode(Uint8Array.from(bytes));
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
