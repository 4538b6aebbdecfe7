/**
 * A minimal browser stand-in for the account pages: keeps cookies, reads the
 * CSRF token out of forms and submits them from the server's own origin.
 */
import type { ServerFetch } from "./dropoff.ts";

/** A cookie-keeping client of one server. */
export class WebClient {
  readonly #fetch: ServerFetch;
  readonly #origin: string;
  readonly cookies = new Map<string, string>();

  /** @param origin what the browser would send as Origin (the server's HTTPS URL). */
  constructor(fetch: ServerFetch, origin: string) {
    this.#fetch = fetch;
    this.#origin = origin;
  }

  /** A request with the stored cookies; redirects are returned, not followed; cookies set are kept. */
  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) {
      headers.set("cookie", [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; "));
    }
    const response = await this.#fetch(path, { ...init, headers, redirect: "manual" });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair, ...attributes] = cookie.split(";");
      const [name, value] = [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)];
      if (attributes.some((attribute) => /^\s*max-age=0$/i.test(attribute))) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  /** GETs a page and returns its HTML (asserting nothing about the status: callers check). */
  async page(path: string): Promise<{ status: number; html: string }> {
    const response = await this.request(path, { headers: { accept: "text/html" } });
    return { status: response.status, html: await response.text() };
  }

  /** Opens the form page `formPage`, then posts `fields` to `action` with the page's CSRF token. */
  async submit(formPage: string, action: string, fields: Record<string, string>): Promise<Response> {
    const { html } = await this.page(formPage);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
    if (csrf === undefined) throw new Error(`no CSRF field on ${formPage}:\n${html}`);
    return await this.post(action, { _csrf: csrf, ...fields });
  }

  /** POSTs a form from the server's own origin, as a browser does. */
  async post(action: string, fields: Record<string, string>, origin = this.#origin): Promise<Response> {
    return await this.request(action, {
      method: "POST",
      headers: { origin, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields),
    });
  }
}
