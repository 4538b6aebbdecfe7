import assert from "node:assert/strict";
import { backoffKey, LoginBackoff } from "../../auth/backoff.ts";

function withClock(options: { maxFailures: number; lockoutSeconds: number; maxEntries?: number }) {
  const clock = { now: 0 };
  return { clock, backoff: new LoginBackoff({ ...options, now: () => clock.now }) };
}

Deno.test("failures below maxFailures impose no wait", () => {
  const { backoff } = withClock({ maxFailures: 3, lockoutSeconds: 60 });
  backoff.recordFailure("192.0.2.1");
  backoff.recordFailure("192.0.2.1");
  assert.equal(backoff.retryAfterSeconds("192.0.2.1"), 0);
});

Deno.test("the wait starts at 1 s after maxFailures and doubles per further failure up to the cap", () => {
  const { backoff, clock } = withClock({ maxFailures: 3, lockoutSeconds: 10 });
  const waits: number[] = [];
  for (let failure = 1; failure <= 8; failure++) {
    backoff.recordFailure("192.0.2.1");
    const wait = backoff.retryAfterSeconds("192.0.2.1");
    waits.push(wait);
    clock.now += wait * 1000; // the client waits exactly as told, then fails again
  }
  assert.deepEqual(waits, [0, 0, 1, 2, 4, 8, 10, 10]);
});

Deno.test("the remaining wait counts down with the clock and reaches 0", () => {
  const { backoff, clock } = withClock({ maxFailures: 1, lockoutSeconds: 60 });
  for (let i = 0; i < 4; i++) backoff.recordFailure("192.0.2.1");
  assert.equal(backoff.retryAfterSeconds("192.0.2.1"), 8);
  clock.now += 2500;
  assert.equal(backoff.retryAfterSeconds("192.0.2.1"), 6, "rounded up to whole seconds");
  clock.now += 5500;
  assert.equal(backoff.retryAfterSeconds("192.0.2.1"), 0);
});

Deno.test("a success clears the record and other clients are never affected", () => {
  const { backoff } = withClock({ maxFailures: 2, lockoutSeconds: 60 });
  for (let i = 0; i < 5; i++) backoff.recordFailure("192.0.2.1");
  assert.ok(backoff.retryAfterSeconds("192.0.2.1") > 0);
  assert.equal(backoff.retryAfterSeconds("192.0.2.2"), 0);
  backoff.recordSuccess("192.0.2.1");
  assert.equal(backoff.retryAfterSeconds("192.0.2.1"), 0);
  backoff.recordFailure("192.0.2.1");
  assert.equal(backoff.retryAfterSeconds("192.0.2.1"), 0, "counting starts again from zero");
});

Deno.test("a client idle for over an hour is forgotten and starts from zero", () => {
  const { backoff, clock } = withClock({ maxFailures: 2, lockoutSeconds: 60 });
  for (let i = 0; i < 6; i++) backoff.recordFailure("192.0.2.1");
  clock.now += 3600_001;
  backoff.recordFailure("192.0.2.2");
  assert.equal(backoff.size, 1, "the idle entry was swept when another client failed");
  backoff.recordFailure("192.0.2.1");
  assert.equal(backoff.retryAfterSeconds("192.0.2.1"), 0);
});

Deno.test("memory stays bounded: beyond maxEntries the least recently failing client is dropped", () => {
  const { backoff, clock } = withClock({ maxFailures: 1, lockoutSeconds: 60, maxEntries: 3 });
  for (const ip of ["10.0.0.1", "10.0.0.2", "10.0.0.3"]) {
    backoff.recordFailure(ip);
    clock.now += 1;
  }
  backoff.recordFailure("10.0.0.1"); // now the most recent
  backoff.recordFailure("10.0.0.4");
  assert.equal(backoff.size, 3);
  assert.equal(backoff.retryAfterSeconds("10.0.0.2"), 0, "oldest dropped");
  assert.ok(backoff.retryAfterSeconds("10.0.0.1") > 0);
  assert.ok(backoff.retryAfterSeconds("10.0.0.4") > 0);
});

Deno.test("backoff keys: IPv4 whole, IPv4-mapped unwrapped, IPv6 grouped by /64", () => {
  assert.equal(backoffKey("192.0.2.7"), "192.0.2.7");
  assert.equal(backoffKey("::ffff:192.0.2.7"), "192.0.2.7");
  assert.equal(backoffKey("2001:db8:1:2::1"), "2001:db8:1:2::/64");
  assert.equal(backoffKey("2001:0db8:0001:0002:ffff:1:2:3"), "2001:db8:1:2::/64");
  assert.equal(backoffKey("fe80::1%eth0"), "fe80:0:0:0::/64");
  assert.equal(backoffKey("::1"), "0:0:0:0::/64");
  assert.notEqual(backoffKey("2001:db8:1:3::1"), backoffKey("2001:db8:1:2::1"));
  assert.equal(backoffKey("unknown"), "unknown");
  assert.equal(backoffKey("not:an:address"), "not:an:address");
});
