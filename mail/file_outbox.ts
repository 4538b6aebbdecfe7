/**
 * The file outbox: each email becomes one `.eml` file in a directory, written
 * atomically and durably (temp file, fsync, rename, fsync the directory), so a
 * reader (a person, a test, a sync job) never sees half a message.
 */
import { join } from "node:path";
import { replaceFile } from "../storage/replace_file.ts";
import type { Mailer, MailMessage } from "./mailer.ts";
import { buildMessage } from "./mime.ts";

/** A {@link Mailer} writing `<UTC time>-<uuid>.eml` files (mode 0600) into `dir`, created on demand. */
export class FileOutbox implements Mailer {
  readonly description: string;
  readonly #dir: string;
  readonly #from: string;

  constructor(dir: string, from: string) {
    this.#dir = dir;
    this.#from = from;
    this.description = `file outbox ${dir}`;
  }

  async send(message: MailMessage): Promise<void> {
    // The time first, so a directory listing is in sending order; the UUID keeps names unique.
    const name = `${new Date().toISOString().replaceAll(":", "")}-${crypto.randomUUID()}.eml`;
    await replaceFile(join(this.#dir, name), await buildMessage(message, this.#from));
  }

  close(): void {}
}
