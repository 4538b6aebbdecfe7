/**
 * `deno task maintenance on --at <time> --message <text> | off | status`:
 * announce a maintenance window (seed 002's maintenanceon/off). Every page and
 * API response shows it from now on; from its start, web and API writes get
 * 503 while device data keeps flowing. Other flags (`--data-dir`, …) are the
 * server's, so the same configuration finds the same data directory.
 */
import { ConfigError, loadConfig } from "../config.ts";
import { maintenancePhase } from "../domain/maintenance.ts";
import { MaintenanceFile, maintenanceFilePath, writeMaintenance } from "../storage/maintenance_file.ts";
import { takeOptions } from "./options.ts";

const HELP = `Usage: deno task maintenance <command> [options]

Commands:
  on --at <time> --message <text>   announce a window starting at <time> (ISO 8601, e.g. 2026-12-01T18:00Z;
                                    "now" starts it at once); shown on every page and in the
                                    Fieldgate-Maintenance header; from then on web/API writes get 503
  off                               end or cancel the window
  status                            show the window in force

Server options such as --data-dir or --config choose the data directory (see deno task start --help).`;

/** Runs the CLI; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command === undefined || command === "--help" || command === "-h" || rest.includes("--help")) {
    console.log(HELP);
    return command === undefined ? 2 : 0;
  }
  const own = takeOptions(rest, ["--at", "--message"]);
  let dataDir: string;
  try {
    dataDir = loadConfig({ args: own.rest, env: Deno.env.toObject() }).dataDir;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`maintenance: ${error.message}`);
    return 2;
  }
  switch (command) {
    case "on": {
      const at = own.values.get("--at");
      const message = own.values.get("--message");
      if (!at || !message) {
        console.error(
          'maintenance on needs --at <time> and --message <text>, e.g. --at 2026-12-01T18:00Z --message "Upgrade"',
        );
        return 2;
      }
      const startsAt = at === "now" ? new Date() : new Date(at);
      if (Number.isNaN(startsAt.getTime())) {
        console.error(
          `maintenance: --at ${JSON.stringify(at)} is not a date/time; use ISO 8601 like 2026-12-01T18:00Z`,
        );
        return 2;
      }
      await writeMaintenance(dataDir, { startsAt, message });
      console.log(`Maintenance announced for ${startsAt.toISOString()}: ${message}`);
      console.log(`(${maintenanceFilePath(dataDir)}; running servers pick it up within a second)`);
      return 0;
    }
    case "off":
      await writeMaintenance(dataDir, null);
      console.log("Maintenance off: writes are accepted again.");
      return 0;
    case "status": {
      const window = await new MaintenanceFile(dataDir).current();
      const phase = maintenancePhase(window, new Date());
      console.log(
        window ? `${phase}: from ${window.startsAt.toISOString()}: ${window.message}` : "no maintenance window",
      );
      return 0;
    }
    default:
      console.error(`maintenance: unknown command ${JSON.stringify(command)}\n\n${HELP}`);
      return 2;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
