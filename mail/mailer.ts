/**
 * Outgoing email: one small interface, delivered by SMTP (production) or
 * written to a file outbox (development and staging, like Django's
 * EMAIL_FILE_PATH). Messages are plain text; nodemailer builds the MIME.
 */
import type { Config } from "../config.ts";
import { FileOutbox } from "./file_outbox.ts";

/** One plain-text email. */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

/** Sends emails; `send` resolves once the message is accepted (by the SMTP server, or durable in the outbox). */
export interface Mailer {
  /** Where the mail goes, safe for logs (no password). */
  readonly description: string;
  send(message: MailMessage): Promise<void>;
  /** Closes pooled connections. */
  close(): void;
}

/** The mailer `config.mail` asks for: SMTP when `smtpUrl` is set, otherwise the file outbox. */
export async function openMailer(mail: Config["mail"]): Promise<Mailer> {
  if (mail.smtpUrl === "") return new FileOutbox(mail.outboxDir, mail.from);
  const ca = mail.smtpCaFile === "" ? undefined : await Deno.readTextFile(mail.smtpCaFile);
  // Loaded only when used, like the MIME builder: most servers send no mail for days.
  const { SmtpMailer } = await import("./smtp.ts");
  return new SmtpMailer(mail.smtpUrl, mail.from, ca);
}
