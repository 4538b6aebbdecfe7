/**
 * `deno task user account …`: manage the web accounts of people (not the
 * logger credentials of the users file) without a browser. This is how the
 * first admin is made: there are no default accounts.
 */
import { join } from "node:path";
import { type Config, loadConfig } from "../config.ts";
import { openRecordStore, SQLITE_FILE_NAME } from "../storage/open.ts";
import { AccountConflictError } from "../storage/account_types.ts";
import type { RecordStore } from "../storage/types.ts";
import { Accounts, accountStatus, ADMIN_ACTIONS, checkPassword, normaliseEmail } from "./accounts.ts";
import { assertValidUsername, hashPassword } from "./htpasswd.ts";
import { isAccountName } from "./logger_credentials.ts";
import { readNewPassword, UsageError } from "./password_input.ts";
import { UsersFile } from "./users_file.ts";

/** Help of `deno task user account`. */
export const ACCOUNT_HELP = `Usage: deno task user account <command> [arguments] [options]

Web accounts of people (register, log in, own drop-off projects, admin pages).
Logger and device credentials are the users file: deno task user add|remove|list.

Commands:
  add EMAIL USERNAME [--admin] [--password-stdin]
                         create an activated account (an admin with --admin)
  list                   one line per account: username, email, status, admin/owner
                         (status: active, awaiting activation, deactivated)
  activate USERNAME      allow logins            deactivate USERNAME   refuse logins, end sessions
  grant-admin USERNAME   make an admin           revoke-admin USERNAME make a project owner
  password USERNAME [--password-stdin]
                         set a new password and end the account's sessions

Passwords: at least 10 characters; asked twice at the terminal without echo, or the
first line of standard input with --password-stdin. Never on the command line.
The database is the server's: same --data-dir, --database-url, --config and FIELDGATE_*
variables (see deno task start --help).`;

/** Runs `account` with `args` (after the word "account"); returns the exit code. */
export async function accountMain(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command === undefined || command === "--help" || command === "-h" || rest.includes("--help")) {
    (command === undefined ? console.error : console.log)(ACCOUNT_HELP);
    return command === undefined ? 2 : 0;
  }
  const arity: Record<string, number> = { add: 2, list: 0, password: 1, ...mapValues(ADMIN_ACTIONS, 1) };
  if (!Object.hasOwn(arity, command)) {
    throw new UsageError(`unknown account command "${command}"; run deno task user account --help`);
  }
  const positional = rest.slice(0, arity[command]);
  if (positional.length < arity[command] || positional.some((arg) => arg.startsWith("-"))) {
    throw new UsageError(`"account ${command}" needs ${arity[command] === 2 ? "EMAIL USERNAME" : "USERNAME"} first`);
  }
  const flags = new Set<string>(
    rest.slice(arity[command]).filter((arg) => arg === "--admin" || arg === "--password-stdin"),
  );
  if (flags.has("--admin") && command !== "add") throw new UsageError("--admin only goes with account add");
  const options = rest.slice(arity[command]).filter((arg) => !flags.has(arg));
  const config = loadConfig({ args: options, env: Deno.env.toObject() });

  // Checked before asking for a password or opening the database, so a typo costs nothing.
  if (command === "add") {
    normaliseEmail(positional[0]);
    assertValidUsername(positional[1]);
  }
  const password = command === "add" || command === "password"
    ? await readNewPassword(positional.at(-1)!, flags.has("--password-stdin"))
    : "";
  if (password !== "") checkPassword(password);
  const records = await openRecordStore(config);
  try {
    const accounts = new Accounts(records.accounts, new UsersFile(config.auth.usersFile));
    switch (command) {
      case "add": {
        const [email, username] = positional;
        const account = await accounts.register({ email, username, password }, {
          activated: true,
          admin: flags.has("--admin"),
        });
        console.log(`Added ${account.admin ? "admin" : "account"} ${account.username} <${account.email}> (activated).`);
        return 0;
      }
      case "list":
        return await list(records);
      case "password":
        return await setPassword(records, positional[0], password);
      default:
        return await change(records, positional[0], command);
    }
  } catch (error) {
    if (!(error instanceof AccountConflictError)) throw error;
    console.error(`Error: ${error.message}; nothing changed. See them with: deno task user account list`);
    return 1;
  } finally {
    await records.close();
  }
}

async function list(records: RecordStore): Promise<number> {
  const all = await records.accounts.list();
  if (all.length === 0) {
    console.error("No accounts yet. Create the first admin with: deno task user account add EMAIL USERNAME --admin");
  }
  for (const account of all) {
    console.log(
      [account.username, account.email, accountStatus(account), account.admin ? "admin" : "owner"].join("\t"),
    );
  }
  return 0;
}

async function setPassword(records: RecordStore, username: string, password: string): Promise<number> {
  const account = await records.accounts.byUsername(username);
  if (account === null) return noSuchAccount(username);
  await records.accounts.update(account.id, { passwordHash: await hashPassword(password) });
  await records.accounts.deleteSessions(account.id);
  console.log(`Changed the password of ${username}; its sessions ended.`);
  return 0;
}

async function change(records: RecordStore, username: string, command: string): Promise<number> {
  const account = await records.accounts.byUsername(username);
  if (account === null) return noSuchAccount(username);
  await records.accounts.update(account.id, ADMIN_ACTIONS[command]);
  if (ADMIN_ACTIONS[command].disabled === true) await records.accounts.deleteSessions(account.id);
  console.log(`${command}: ${username} done.`);
  return 0;
}

/**
 * True when a web account has this username in any letter case: loggers and
 * accounts share one namespace, because both own drop-off projects by name.
 * An embedded database that does not exist yet holds no accounts and is not created.
 */
export async function accountNameTaken(config: Config, name: string): Promise<boolean> {
  if (config.databaseUrl === "") {
    try {
      await Deno.stat(join(config.dataDir, SQLITE_FILE_NAME));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return false;
      throw error;
    }
  }
  const records = await openRecordStore(config);
  try {
    return await isAccountName(records.accounts, name);
  } finally {
    await records.close();
  }
}

function noSuchAccount(username: string): number {
  console.error(`No account "${username}". See them with: deno task user account list`);
  return 1;
}

function mapValues<T, R>(record: Record<string, T>, value: R): Record<string, R> {
  return Object.fromEntries(Object.keys(record).map((key) => [key, value]));
}
