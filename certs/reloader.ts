/**
 * Picks up a renewed certificate: polls the chain and key files and, when
 * either changed and the pair loads cleanly, hands the new material over.
 * A half-written or broken pair is logged and ignored; the old one stays.
 */
import { getLogger } from "@logtape/logtape";
import { loadTlsMaterial, type TlsMaterial } from "./tls.ts";

const log = getLogger(["fieldgate", "tls"]);

/** A running watch; `stop()` ends it. */
export interface CertificateWatch {
  stop(): void;
}

/** Calls `onChange` with the new material whenever the files change; checks every `intervalMs`. */
export function watchCertificate(
  files: { certFile: string; keyFile: string },
  intervalMs: number,
  onChange: (material: TlsMaterial) => Promise<void>,
): CertificateWatch {
  let lastStamp: string | undefined;
  let checking = false;
  const check = async () => {
    if (checking) return;
    checking = true;
    try {
      const stamp = await fileStamp(files);
      if (lastStamp !== undefined && stamp !== lastStamp) {
        const material = await loadTlsMaterial(files.certFile, files.keyFile);
        await onChange(material);
        log.info("loaded renewed certificate {subject}, valid until {notAfter}", {
          subject: material.subject,
          notAfter: material.notAfter.toISOString(),
        });
      }
      lastStamp = stamp;
    } catch (error) {
      log.error("renewed certificate not loaded, keeping the current one: {error}", { error: String(error) });
    } finally {
      checking = false;
    }
  };
  check();
  const timer = setInterval(check, intervalMs);
  return { stop: () => clearInterval(timer) };
}

async function fileStamp(files: { certFile: string; keyFile: string }): Promise<string> {
  const [cert, key] = await Promise.all([Deno.stat(files.certFile), Deno.stat(files.keyFile)]);
  return [cert.mtime?.getTime(), cert.size, cert.ino, key.mtime?.getTime(), key.size, key.ino].join(":");
}
