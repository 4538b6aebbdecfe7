/**
 * The one-time link that creates the first admin from a browser, printed in
 * the log at start-up while no admin exists (the CLI is the other way). The
 * token lives only in this process's memory: it works once, until an admin
 * exists, or until the next start prints a new one.
 */
import { sameSecret } from "./same_secret.ts";
import { newSecretToken } from "./secret_token.ts";

/** Holds the current setup token, if any. */
export class FirstAdminLink {
  #token: string | null = null;

  /** A fresh token, replacing any earlier one. */
  issue(): string {
    this.#token = newSecretToken();
    return this.#token;
  }

  /** True when `token` is the current one. */
  matches(token: string): boolean {
    return this.#token !== null && sameSecret(token, this.#token);
  }

  /**
   * Takes the token when it matches, so a second request with it fails even
   * while the first is still creating the account. Synchronous on purpose: no
   * other request can run between the check and the take.
   */
  take(token: string): boolean {
    if (!this.matches(token)) return false;
    this.#token = null;
    return true;
  }

  /** Puts a taken token back after an attempt that created nothing (bad input). */
  restore(token: string): void {
    this.#token ??= token;
  }
}
