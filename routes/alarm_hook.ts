/** Optional notice to another system after an OTT alarm is durable (`ott.alarmHookUrl`). */
import { getLogger } from "@logtape/logtape";
import type { OttAlarm } from "../storage/types.ts";

const log = getLogger(["fieldgate", "ott", "hook"]);
const TIMEOUT_MS = 10_000;

/**
 * Returns the alarm callback for the OTT routes: POSTs the alarm as JSON to
 * `url` in the background (never delaying the logger's response) and logs the
 * outcome. With an empty url it does nothing.
 */
export function alarmHook(url: string): (alarm: OttAlarm, file: string) => void {
  if (url === "") return () => {};
  return (alarm, file) => {
    const body = JSON.stringify({ event: "ott.alarm", ...alarm, time: alarm.time?.toISOString() ?? null, file });
    fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    }).then(async (response) => {
      await response.body?.cancel();
      if (response.ok) log.info("alarm hook {url} answered {status}", { url, status: response.status });
      else {log.error("alarm hook {url} answered {status}; the alarm is stored, notify by hand", {
          url,
          status: response.status,
        });}
    }).catch((error) => log.error("alarm hook {url} failed: {error}", { url, error: String(error) }));
  };
}
