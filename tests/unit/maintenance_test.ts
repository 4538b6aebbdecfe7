import assert from "node:assert/strict";
import { maintenancePhase, parseMaintenanceJson, pausedByMaintenance } from "../../domain/maintenance.ts";

Deno.test("phases: none without a window, announced before its start, active from it", () => {
  const window = { startsAt: new Date("2026-12-01T18:00:00Z"), message: "m" };
  assert.equal(maintenancePhase(null, new Date()), "none");
  assert.equal(maintenancePhase(window, new Date("2026-12-01T17:59:59Z")), "announced");
  assert.equal(maintenancePhase(window, new Date("2026-12-01T18:00:00Z")), "active");
});

Deno.test("only web/API writes pause; device ingestion and reads never do", () => {
  const cases: [string, string, boolean][] = [
    ["POST", "/live/register_username", true],
    ["POST", "/api/projects", true],
    ["DELETE", "/api/anything", true],
    ["POST", "/ottt", false],
    ["POST", "/ott/", false],
    ["POST", "/notification", false],
    ["POST", "/notification/area", false],
    ["PATCH", "/files/0b0e/abc", false],
    ["POST", "/files/0b0e/", false],
    ["GET", "/api/meters", false],
    ["HEAD", "/files/0b0e/abc", false],
    ["POST", "/ottt-admin", true],
  ];
  for (const [method, path, paused] of cases) {
    assert.equal(pausedByMaintenance(method, path), paused, `${method} ${path}`);
  }
});

Deno.test("the stored window is validated", () => {
  assert.ok(parseMaintenanceJson(`{"startsAt":"2026-12-01T18:00:00.000Z","message":"m"}`).ok);
  for (const bad of ["nope", "{}", `{"startsAt":"tomorrow","message":"m"}`]) {
    assert.equal(parseMaintenanceJson(bad).ok, false, bad);
  }
});
