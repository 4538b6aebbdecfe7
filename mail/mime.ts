/** Building the RFC 5322 text of a message, with nodemailer's MIME encoder and no network. */
// @ts-types="npm:@types/nodemailer@8.0.2"
import nodemailer from "nodemailer";
import type { MailMessage } from "./mailer.ts";

const builder = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "unix" });

/** The complete message: headers and body, non-ASCII subject and text encoded for any mail reader. */
export async function buildMessage(message: MailMessage, from: string): Promise<string> {
  const info = await builder.sendMail({ from, to: message.to, subject: message.subject, text: message.text });
  return new TextDecoder().decode(info.message as Buffer);
}
