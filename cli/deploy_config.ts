/**
 * `deno task deploy-config [--out DIR] [server options]`: generates
 * `nginx.conf` and `haproxy.cfg` from the live configuration (the same
 * fieldgate.toml, environment and flags the server reads), like seed 002's
 * makenginxconfig. Without `--out` both go to stdout.
 */
import { join } from "node:path";
import { ConfigError, loadConfig } from "../config.ts";
import { DeployConfigError } from "./deploy_common.ts";
import { renderHaproxy } from "./deploy_haproxy.ts";
import { renderNginx } from "./deploy_nginx.ts";
import { takeOptions } from "./options.ts";

const HELP = `Usage: deno task deploy-config [--out DIR] [options] [server options]

Generates nginx.conf (HTTPS reverse proxy to fieldgate's localhost HTTP listener, with its body limits)
and haproxy.cfg (TLS terminator for device sockets in proxy mode, PROXY v2) from fieldgate's configuration.

Options:
  --out DIR                  write DIR/nginx.conf and DIR/haproxy.cfg instead of printing both
  --server-name NAME         nginx server_name (default _ = any)
  --haproxy-pem FILE         certificate chain + key for HAProxy (default /etc/haproxy/fieldgate.pem)
  --public-meter-port PORT   port meters dial, where HAProxy listens (default 38981)
  --public-confo-port PORT   port confirmations dial (default 38979)
  --help                     this text

Server options (--config, --http-port, --meter-mode, …) are read as by deno task start --help.`;

const OWN = ["--out", "--server-name", "--haproxy-pem", "--public-meter-port", "--public-confo-port"];

/** Runs the CLI; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(HELP);
    return 0;
  }
  const own = takeOptions(args, OWN);
  try {
    const config = loadConfig({ args: own.rest, env: Deno.env.toObject() });
    const files = {
      "nginx.conf": renderNginx(config, { serverName: own.values.get("--server-name") || "_" }),
      "haproxy.cfg": renderHaproxy(config, {
        pemFile: own.values.get("--haproxy-pem") || "/etc/haproxy/fieldgate.pem",
        publicPorts: {
          meter: publicPort(own.values.get("--public-meter-port"), 38981),
          confo: publicPort(own.values.get("--public-confo-port"), 38979),
        },
      }),
    };
    const out = own.values.get("--out");
    if (out === undefined) {
      console.log(Object.entries(files).map(([name, text]) => `# ===== ${name} =====\n${text}`).join("\n"));
      return 0;
    }
    await Deno.mkdir(out, { recursive: true });
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(join(out, name), text);
      console.error(`wrote ${join(out, name)}`);
    }
    return 0;
  } catch (error) {
    if (!(error instanceof ConfigError || error instanceof DeployConfigError)) throw error;
    console.error(`deploy-config: ${error.message}`);
    return 2;
  }
}

function publicPort(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new DeployConfigError(`public port ${JSON.stringify(text)} must be a number from 1 to 65535`);
  }
  return port;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
