/** Shared by the CMX integration tests: a server configured for CMX, and posting as CMX or the front end. */
import { startTestServer, type TestServer } from "./server.ts";

/** Credentials the CMX test servers are configured with. */
export const CMX_CREDENTIALS = {
  notification: { user: "cmx", password: "notification secret" },
  api: { user: "frontend", password: "api secret" },
};

/** The MAC hash key of the test servers. */
export const MAC_HASH_KEY = "tys-hash-key";

/** Starts a test server with CMX configured (`test` lookup host, MAC hashing); `cmx` overrides merge in. */
export function startCmxServer(overrides: Record<string, unknown> = {}, cmx: Record<string, unknown> = {}) {
  return startTestServer({
    ...overrides,
    cmx: {
      notificationUser: CMX_CREDENTIALS.notification.user,
      notificationPassword: CMX_CREDENTIALS.notification.password,
      apiUser: CMX_CREDENTIALS.api.user,
      apiPassword: CMX_CREDENTIALS.api.password,
      hosts: "test",
      macHashKey: MAC_HASH_KEY,
      ...cmx,
    },
  });
}

function basic({ user, password }: { user: string; password: string }): string {
  return `Basic ${btoa(`${user}:${password}`)}`;
}

/** POSTs a notification body as CMX does. */
export function postNotifications(server: TestServer, body: string, path = "/notification"): Promise<Response> {
  return server.fetch(path, {
    method: "POST",
    body,
    headers: { authorization: basic(CMX_CREDENTIALS.notification), "content-type": "application/json" },
  });
}

/** POSTs JSON to `/live/<route>` as the front end does; returns status and parsed body (null when empty). */
export async function live(
  server: TestServer,
  route: string,
  body: unknown,
  init: { contentType?: string; raw?: string } = {},
): Promise<{ status: number; body: unknown; text: string }> {
  const response = await server.fetch(`/live/${route}`, {
    method: "POST",
    body: init.raw ?? JSON.stringify(body),
    headers: { authorization: basic(CMX_CREDENTIALS.api), "content-type": init.contentType ?? "application/json" },
  });
  const text = await response.text();
  return { status: response.status, body: text === "" ? null : JSON.parse(text), text };
}

/** When the first step of {@link eastwardStep} is seen. */
export const WALK_T0 = Date.UTC(2024, 5, 10, 8, 0, 0);
/** Feet between two steps of {@link eastwardStep}. */
export const WALK_STEP_FEET = 50;

/** The `step`-th sighting of `mac` walking east, one step a minute from {@link WALK_T0}: each step counts its distance. */
export function eastwardStep(mac: string, step: number): Record<string, unknown> {
  return {
    notificationType: "movement",
    deviceId: mac,
    moveDistanceInFt: WALK_STEP_FEET,
    locationCoordinate: { x: 100 + WALK_STEP_FEET * step, y: 100, unit: "FEET" },
    floorId: 723413320329068590,
    timestamp: WALK_T0 + 60_000 * step,
  };
}
