/** One log line per HTTP request: method, path, status, latency, client and user. */
import type { MiddlewareHandler } from "hono";
import { getLogger } from "@logtape/logtape";
import { clientAddress } from "./client_address.ts";

const log = getLogger(["fieldgate", "http"]);

/** Logs every request once it is answered; 5xx at error level, 4xx at warning. */
export function requestLog(): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const status = c.res.status;
    const fields = {
      method: c.req.method,
      path: c.req.path,
      status,
      ms: Math.round((performance.now() - started) * 10) / 10,
      ip: clientAddress(c),
      user: c.get("user") ?? "-",
    };
    const message = "{method} {path} {status} {ms}ms ip={ip} user={user}";
    if (status >= 500) log.error(message, fields);
    else if (status >= 400) log.warn(message, fields);
    else log.info(message, fields);
  };
}
