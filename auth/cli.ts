/**
 * `deno task user`: manage the htpasswd users of fieldgate (loggers, devices,
 * scripts) and, with `account …` (see account_cli.ts), the web accounts of people.
 *
 * Passwords come from an echo-free prompt or from standard input
 * (`--password-stdin`), never from the command line, where `ps` and shell
 * history would show them. The users file is the one the server uses: same
 * config file, environment variables and flags.
 *
 * Exit codes: 0 done / password correct, 1 refused (wrong password, unknown
 * user, I/O error), 2 usage or configuration error, 130 cancelled.
 */
import { type Config, ConfigError, loadConfig } from "../config.ts";
import { assertValidUsername, InvalidUsernameError } from "./htpasswd.ts";
import { LoggerInputError, saveLoggerPassword } from "./logger_credentials.ts";
import { UsersFile } from "./users_file.ts";
import { accountMain, accountNameTaken } from "./account_cli.ts";
import { AccountInputError } from "./accounts.ts";
import { CancelledError, promptPassword, readNewPassword, readPasswordLine, UsageError } from "./password_input.ts";

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
  account …     web accounts of people: add (also the first admin), list, activate,
                deactivate, grant-admin, revoke-admin, password; see: deno task user account --help

Run deno task user <command> --help for details.
${CONFIG_HELP}`;

/** Runs the CLI with `args` (without the program name) and returns the exit code. */
export async function main(args: string[]): Promise<number> {
  try {
    return await run(args);
  } catch (error) {
    if (error instanceof CancelledError) {
      console.error("Cancelled; nothing changed.");
      return 130;
    }
    const usage = error instanceof UsageError || error instanceof ConfigError ||
      error instanceof InvalidUsernameError || error instanceof LoggerInputError ||
      error instanceof AccountInputError;
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
  if (command === "account") return await accountMain(rest);
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
      return await add(users, config, name!, passwordStdin);
    case "remove":
      return await remove(users, name!);
    case "list":
      return await list(users);
    default:
      return await verify(users, name!, passwordStdin);
  }
}

async function add(users: UsersFile, config: Config, name: string, passwordStdin: boolean): Promise<number> {
  // Checked before the prompt too, so a typo in the name does not cost typing the password twice.
  assertValidUsername(name);
  const password = await readNewPassword(name, passwordStdin);
  const created = await saveLoggerPassword(users, name, password, (candidate) => accountNameTaken(config, candidate));
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

if (import.meta.main) Deno.exit(await main(Deno.args));
