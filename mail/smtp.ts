/** Email through an SMTP server (nodemailer): STARTTLS when the server offers it, or implicit TLS with smtps://. */
// @ts-types="npm:@types/nodemailer@8.0.2"
import nodemailer from "nodemailer";
import type { Mailer, MailMessage } from "./mailer.ts";

/** How long one delivery may take before it fails (connection, greeting and the whole transaction). */
const TIMEOUT_MS = 30_000;

/** A {@link Mailer} delivering to the server of `url` (`smtp://user:pass@host:port` or `smtps://…`). */
export class SmtpMailer implements Mailer {
  readonly description: string;
  readonly #transport: nodemailer.Transporter;
  readonly #from: string;

  /** @param ca PEM of the server's CA when it has a private certificate; otherwise the system trust store. */
  constructor(url: string, from: string, ca?: string) {
    const parsed = new URL(url);
    this.description = `SMTP ${parsed.protocol}//${parsed.host}`;
    this.#from = from;
    this.#transport = nodemailer.createTransport({
      host: parsed.hostname,
      port: parsed.port === "" ? (parsed.protocol === "smtps:" ? 465 : 587) : Number(parsed.port),
      secure: parsed.protocol === "smtps:",
      auth: parsed.username === ""
        ? undefined
        : { user: decodeURIComponent(parsed.username), pass: decodeURIComponent(parsed.password) },
      tls: ca === undefined ? undefined : { ca },
      connectionTimeout: TIMEOUT_MS,
      greetingTimeout: TIMEOUT_MS,
      socketTimeout: TIMEOUT_MS,
    });
  }

  async send(message: MailMessage): Promise<void> {
    await this.#transport.sendMail({ from: this.#from, to: message.to, subject: message.subject, text: message.text });
  }

  close(): void {
    this.#transport.close();
  }
}
