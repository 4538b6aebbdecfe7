/** The texts of the account emails: activation, password reset, and "you already have an account". */
import { ACTIVATION_HOURS, RESET_HOURS } from "../auth/accounts.ts";
import type { Account } from "../storage/account_types.ts";
import type { MailMessage } from "./mailer.ts";

/** The activation link for a new account. */
export function activationMail(account: Account, baseUrl: string, token: string): MailMessage {
  return {
    to: account.email,
    subject: "Activate your fieldgate account",
    text: `Hello ${account.username},

open this link to activate your fieldgate account:

${baseUrl}/account/activate?token=${token}

The link works once, for ${ACTIVATION_HOURS} hours. If you did not register, ignore this email.
`,
  };
}

/** A password-reset link. */
export function resetMail(account: Account, baseUrl: string, token: string): MailMessage {
  return {
    to: account.email,
    subject: "Reset your fieldgate password",
    text: `Hello ${account.username},

open this link to choose a new password:

${baseUrl}/account/reset/confirm?token=${token}

The link works once, for ${RESET_HOURS} hour. If you did not ask for it, ignore this email; your password stays.
`,
  };
}

/** Sent instead of an activation link when someone registers with an address that has an account already. */
export function alreadyRegisteredMail(account: Account, baseUrl: string): MailMessage {
  return {
    to: account.email,
    subject: "Your fieldgate account",
    text: `Hello ${account.username},

someone (probably you) tried to register a new fieldgate account with this address, which already has one.
Log in at ${baseUrl}/login, or choose a new password at ${baseUrl}/account/reset.
`,
  };
}
