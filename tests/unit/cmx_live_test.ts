import assert from "node:assert/strict";
import {
  dayIn,
  decideRegistration,
  kmMiles,
  roundHalfEven,
  sortedJson,
  usDate,
  usernameEmail,
  wholeNumber,
} from "../../domain/cmx_live.ts";

Deno.test("user names without @ get the cmxtrackyoursteps.com domain", () => {
  assert.equal(usernameEmail("LeighPC"), "LeighPC@cmxtrackyoursteps.com");
  assert.equal(usernameEmail("leigh@example.org"), "leigh@example.org");
});

Deno.test("registration decisions follow the original's order, with MAX_REGISTERED_DEVICES", () => {
  const me = "a@x";
  const cases: [boolean, string | null, number, number, string][] = [
    // userExists, deviceOwner, userDevices, maxDevices → outcome
    [true, me, 1, 1, "already-registered"],
    [true, null, 1, 1, "username-taken"],
    [true, "b@x", 1, 1, "username-taken"],
    [false, "b@x", 0, 1, "device-owned"],
    [false, null, 0, 1, "created"],
    [true, null, 1, 3, "device-added"],
    [true, null, 3, 3, "username-taken"],
    [true, "b@x", 1, 3, "username-taken"],
    [true, me, 2, 3, "already-registered"],
  ];
  for (const [userExists, deviceOwner, userDevices, maxDevices, expected] of cases) {
    assert.equal(
      decideRegistration(me, { userExists, deviceOwner, userDevices }, maxDevices),
      expected,
      JSON.stringify({ userExists, deviceOwner, userDevices, maxDevices }),
    );
  }
});

Deno.test("roundHalfEven matches Python's round(), including exact binary ties", () => {
  const cases: [number, number, number][] = [
    [0.125, 2, 0.12], // exact tie → even (toFixed would give 0.13)
    [0.375, 2, 0.38],
    [2.5, 0, 2],
    [3.5, 0, 4],
    [0.25, 1, 0.2],
    [1.005, 2, 1], // 1.00499999… in binary: not a tie
    [21.1349, 3, 21.135],
    [-0.125, 2, -0.12],
    [0, 3, 0],
    [13.12949, 3, 13.129],
    [2.675, 2, 2.67], // 2.67499999… in binary
    [1234.5625, 3, 1234.562], // exact tie → even
    [1234.5675, 3, 1234.568], // 1234.567500000000109… → up
    [0.0005, 3, 0.001], // 0.000500000000000000010… → up
  ];
  for (const [value, digits, expected] of cases) assert.equal(roundHalfEven(value, digits), expected, `${value}`);
  // Sixteenths are exact binary ties at 3 decimals half the time: the even neighbour wins, as Python's round().
  for (let sixteenths = 0; sixteenths < 20_000; sixteenths++) {
    const value = sixteenths / 16;
    const thousandths = value * 1000;
    const floor = Math.floor(thousandths);
    const expected = thousandths - floor === 0.5 ? (floor % 2 === 0 ? floor : floor + 1) : Math.round(thousandths);
    assert.equal(roundHalfEven(value, 3), expected / 1000, `${value}`);
  }
});

Deno.test("kilometres and miles, US dates, sorted keys, venue days", () => {
  assert.deepEqual(kmMiles(21130, 3), { km: 21.13, miles: 13.13 });
  assert.deepEqual(kmMiles(50_800, 1), { km: 50.8, miles: 31.6 });
  assert.equal(usDate("2018-06-09"), "06/09/2018");
  assert.equal(sortedJson({ b: 1, a: [{ d: 1, c: 2 }] }), '{"a":[{"c":2,"d":1}],"b":1}');
  assert.equal(sortedJson(Object.assign(Object.create(null), { z: null, y: "x" })), '{"y":"x","z":null}');
  const instant = Date.UTC(2024, 5, 10, 3, 0); // 03:00 UTC = 20:00 the day before in Los Angeles
  assert.equal(dayIn("UTC")(instant), "2024-06-10");
  assert.equal(dayIn("America/Los_Angeles")(instant), "2024-06-09");
});

Deno.test("wholeNumber reads counts as the original's int(): integers and digit strings", () => {
  const cases: [unknown, number | null][] = [
    [5, 5],
    ["5", 5],
    [" 12 ", 12],
    ["+3", 3],
    ["-1", -1],
    [2.5, null],
    ["2.5", null],
    ["five", null],
    ["", null],
    [null, null],
    [true, null],
    ["99999999999999999999", null],
  ];
  for (const [value, expected] of cases) assert.equal(wholeNumber(value), expected, JSON.stringify(value));
});
