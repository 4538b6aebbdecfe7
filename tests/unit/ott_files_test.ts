import assert from "node:assert/strict";
import { ottFileName, ottQuarantineName } from "../../domain/ott_files.ts";

const micros = BigInt(Date.UTC(2020, 9, 22, 0, 1, 6)) * 1000n + 209_619n;

Deno.test("file names follow the original layout with ':' replaced by '+'", () => {
  assert.equal(
    ottFileName("senddata", "0000452891", micros),
    "senddata/2020/10/22/0000452891_2020-10-22T00+01+06.209619",
  );
  assert.equal(ottFileName("sendalarm", "7", micros), "sendalarm/2020/10/22/7_2020-10-22T00+01+06.209619");
});

Deno.test("a retry attempt moves the time on by microseconds, carrying into seconds", () => {
  const endOfSecond = BigInt(Date.UTC(2020, 9, 22, 23, 59, 59)) * 1000n + 999_999n;
  assert.equal(ottFileName("senddata", "1", endOfSecond, 1), "senddata/2020/10/23/1_2020-10-23T00+00+00.000000");
  assert.equal(ottFileName("senddata", "1", micros, 2), "senddata/2020/10/22/1_2020-10-22T00+01+06.209621");
});

Deno.test("refused bodies go to a quarantine tree outside the synced action folders", () => {
  assert.equal(
    ottQuarantineName("senddata", "1", micros),
    "quarantine/senddata/2020/10/22/1_2020-10-22T00+01+06.209619",
  );
});
