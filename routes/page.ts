/** The one page layout of fieldgate's server-rendered pages: no scripts, readable at a glance. */
import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";

const STYLE = `body{font:15px/1.4 system-ui,sans-serif;margin:2rem;max-width:70rem;color:#222}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #ddd}th{background:#f4f4f4}
.ok{color:#176117;font-weight:bold}.bad{color:#a01010;font-weight:bold}.muted{color:#777}
dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}dt{font-weight:bold}
svg{border:1px solid #ddd;background:#fafafa}`;

type Content = HtmlEscapedString | Promise<HtmlEscapedString>;

/** A complete HTML document with `title` and `body`. */
export function htmlPage(title: string, body: Content): Content {
  return html`
    <!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width">
        <title>${title}</title>
        <style>${STYLE}</style>
      </head>
      <body>
    ${body}
      </body>
    </html>
  `;
}
