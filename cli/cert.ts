/**
 * `deno task cert status | renew | import`: the served certificate for
 * operators. Server flags (`--data-dir`, `--config`, `--tls-cert-file`, …)
 * choose the same files the server uses; a running server picks up a renewed
 * or imported certificate by itself (tls.reloadCheckSeconds), without
 * dropping connections.
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { acmeSettings, issueCertificate } from "../certs/acme.ts";
import { checkCertificateForImport } from "../certs/import_check.ts";
import { daysLeft, renewalTime } from "../certs/renewal_schedule.ts";
import { servedCertificateFiles } from "../certs/served_files.ts";
import { type Config, ConfigError, loadConfig } from "../config.ts";
import { replaceFile } from "../storage/replace_file.ts";
import { takeOptions } from "./options.ts";

const HELP = {
  status: `Usage: deno task cert status [server options]

Prints the served certificate: file, who manages it (acme, configured, dev), subject,
names (SANs), issuer, not-after, days left, and with ACME the renewal date.`,
  renew: `Usage: deno task cert renew [server options]

Orders a new certificate from the ACME CA now (acme.enabled must be on). The CA checks
the HTTP-01 challenge through the running fieldgate's plain-HTTP listener, so fieldgate
must be running with the same data directory; it then loads the new certificate itself.`,
  import: `Usage: deno task cert import --cert chain.pem --key key.pem [server options]

Installs your own certificate where the server reads it (tls.certFile / tls.keyFile),
atomically; a running server switches to it without dropping connections. Checked first:
the chain is leaf first with each certificate signed by the next, the leaf is valid now,
and the key belongs to it. Not available with acme.enabled (ACME would replace it).`,
};

const USAGE = `Usage: deno task cert <command> [options]

Commands:
  status                              show the served certificate and its expiry
  renew                               force an ACME renewal now
  import --cert chain.pem --key key.pem   install your own certificate

deno task cert <command> --help for details. Server options such as --config,
--data-dir or --tls-cert-file choose the files (see deno task start --help).`;

/** Runs the CLI; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command === undefined || command === "--help" || command === "-h") {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (!Object.hasOwn(HELP, command)) {
    console.error(`cert: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(HELP[command as keyof typeof HELP]);
    return 0;
  }
  const own = takeOptions(rest, ["--cert", "--key"]);
  let config: Config;
  try {
    config = loadConfig({ args: own.rest, env: Deno.env.toObject() });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`cert: ${error.message}`);
    return 2;
  }
  try {
    if (command === "status") return await status(config);
    if (command === "renew") return await renew(config);
    return await install(config, own.values.get("--cert"), own.values.get("--key"));
  } catch (error) {
    console.error(`cert ${command}: ${(error as Error).message}`);
    return 1;
  }
}

async function status(config: Config): Promise<number> {
  const files = servedCertificateFiles(config);
  let text: string;
  try {
    text = await Deno.readTextFile(files.certFile);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    console.log(`no certificate yet at ${files.certFile} (${files.source}); fieldgate creates it at first start`);
    return 1;
  }
  const leaf = new x509.X509Certificate(text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/)![0]);
  const names = leaf.getExtension(x509.SubjectAlternativeNameExtension)?.names.items ?? [];
  const lines = [
    ["file", `${files.certFile} (${files.source})`],
    ["subject", leaf.subject],
    ["names", names.map((name) => `${name.type}:${name.value}`).join(", ") || "(none)"],
    ["issuer", leaf.issuer],
    ["not after", leaf.notAfter.toISOString()],
    ["days left", String(daysLeft(leaf.notAfter))],
  ];
  if (files.source === "acme") lines.push(["renewal due", renewalTime(leaf.notBefore, leaf.notAfter).toISOString()]);
  for (const [label, value] of lines) console.log(`${`${label}:`.padEnd(13)}${value}`);
  return leaf.notAfter.getTime() > Date.now() ? 0 : 1;
}

async function renew(config: Config): Promise<number> {
  const settings = acmeSettings(config);
  if (settings === null) {
    const files = servedCertificateFiles(config);
    console.error(
      `cert renew: ACME is off (acme.enabled = false); fieldgate serves the ${files.source} certificate ` +
        `${files.certFile}. Turn ACME on with acme.enabled and acme.domains, or install a certificate ` +
        "you renewed elsewhere with `deno task cert import --cert chain.pem --key key.pem`.",
    );
    return 2;
  }
  let leaf: x509.X509Certificate;
  try {
    leaf = await issueCertificate(settings);
  } catch (error) {
    throw new Error(
      `${(error as Error).message} (the CA fetches the challenge from the running fieldgate's plain-HTTP ` +
        "listener: is it running with this data directory and reachable on port 80 of every name?)",
    );
  }
  console.log(`renewed: ${leaf.subject} from ${leaf.issuer}, valid until ${leaf.notAfter.toISOString()}`);
  console.log(`a running fieldgate loads it within ${config.tls.reloadCheckSeconds} s`);
  return 0;
}

async function install(config: Config, certFile: string | undefined, keyFile: string | undefined): Promise<number> {
  if (!certFile || !keyFile) {
    console.error("cert import needs --cert chain.pem and --key key.pem\n\n" + HELP.import);
    return 2;
  }
  const target = servedCertificateFiles(config);
  if (target.source !== "configured") {
    console.error(
      target.source === "acme"
        ? "cert import: acme.enabled is on and ACME would replace an imported certificate; turn it off first"
        : "cert import: set tls.certFile and tls.keyFile (fieldgate.toml, or --tls-cert-file/--tls-key-file) " +
          "to where the server should read the certificate, then import into them",
    );
    return 2;
  }
  const [chainPem, keyPem] = await Promise.all([Deno.readTextFile(certFile), Deno.readTextFile(keyFile)]);
  const chain = await checkCertificateForImport(chainPem, keyPem, { certFile, keyFile });
  const pems = chain.map((certificate) => certificate.toString("pem"));
  // Key first: until the chain follows, a running server sees a mismatched pair, refuses it and keeps the old one.
  await replaceFile(target.keyFile, keyPem.trim() + "\n");
  await replaceFile(target.certFile, pems.join("\n") + "\n");
  console.log(
    `installed ${chain[0].subject} (valid until ${chain[0].notAfter.toISOString()}, ${chain.length} certificates) ` +
      `as ${target.certFile}; a running fieldgate loads it within ${config.tls.reloadCheckSeconds} s`,
  );
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
