/**
 * What every scenario of one benchmark run shares: a temporary root, one TLS
 * certificate (fieldgate and every peer serve the same RSA-2048 dev
 * certificate, so handshakes cost the same), one login, the PostgreSQL server,
 * and where the project and Deno are.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { hashPassword } from "../../auth/htpasswd.ts";
import { ensureDevCertificate } from "../../certs/dev_cert.ts";

/** The account every load generator logs in with. */
export const BENCH_USER = { name: "dl001", password: "bench password for loopback only" };

/** Shared state of one run; remove it with {@link BenchContext.cleanup}. */
export interface BenchContext {
  /** The repository root (where main.ts is). */
  repoRoot: string;
  /** This Deno binary, used for fieldgate, the Deno peers and the Deno load generator. */
  deno: string;
  /** Temporary directory of this run; everything the run writes is below it. */
  root: string;
  certFile: string;
  keyFile: string;
  /** PEM of the certificate, for clients that verify it. */
  caCert: string;
  /** htpasswd file with {@link BENCH_USER}. */
  usersFile: string;
  /** Admin connection to PostgreSQL; each fieldgate run gets a fresh database from it. */
  postgresUrl: string;
  /** Makes a fresh directory below {@link BenchContext.root}. */
  newDir(prefix: string): Promise<string>;
  cleanup(): Promise<void>;
}

/** Prepares the shared state: temp root, certificate, users file. */
export async function createContext(postgresUrl: string): Promise<BenchContext> {
  const root = await Deno.makeTempDir({ prefix: "fieldgate-bench-" });
  const certificate = await ensureDevCertificate(join(root, "certs"), ["localhost", "127.0.0.1"]);
  const usersFile = join(root, "users.htpasswd");
  await Deno.writeTextFile(usersFile, `${BENCH_USER.name}:${await hashPassword(BENCH_USER.password)}\n`);
  return {
    repoRoot: fileURLToPath(new URL("../../", import.meta.url)),
    deno: Deno.execPath(),
    root,
    certFile: certificate.certFile,
    keyFile: certificate.keyFile,
    caCert: await Deno.readTextFile(certificate.certFile),
    usersFile,
    postgresUrl,
    newDir: (prefix) => Deno.makeTempDir({ dir: root, prefix }),
    cleanup: () => Deno.remove(root, { recursive: true }),
  };
}

/** The `Authorization` header value for `user` ({@link BENCH_USER} unless given). */
export function basicAuthHeader(user: { name: string; password: string } = BENCH_USER): string {
  return `Basic ${btoa(`${user.name}:${user.password}`)}`;
}
