/** Building the RFC 5322 text of a message, with nodemailer's MIME encoder and no network. */
// @ts-types="npm:@types/nodemailer@8.0.2"
import type nodemailer from "nodemailer";
import type { MailMessage } from "./mailer.ts";

let builder: Promise<nodemailer.Transporter> | undefined;

/** nodemailer is loaded with the first message, not at start-up: it is a sizeable share of the process's memory. */
function messageBuilder(): Promise<nodemailer.Transporter> {
  return builder ??= import("nodemailer").then(({ default: mailer }) =>
    (mailer as typeof nodemailer).createTransport({ streamTransport: true, buffer: true, newline: "unix" })
  );
}

/** The complete message: headers and body, non-ASCII subject and text encoded for any mail reader. */
export async function buildMessage(message: MailMessage, from: string): Promise<string> {
  const info = await (await messageBuilder()).sendMail({
    from,
    to: message.to,
    subject: message.subject,
    text: message.text,
  });
  return new TextDecoder().decode(info.message as Buffer);
}
