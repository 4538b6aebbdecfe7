import assert from "node:assert/strict";
import { decimalNumber } from "../../domain/ott_value.ts";

/** What `decimalNumber` accepts, as a regular expression (how values were read before). */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

const expected = (text: string) => DECIMAL.test(text) ? Number(text) : null;

Deno.test("decimalNumber reads exactly the plain decimals, as Number does", () => {
  const texts = [
    ...["0", "0.842", "-1.5", "+2", ".5", "3.", "-.5", "1e3", "2E-3", "1.5e+10", "007", "-0", "1e0"],
    ...["", " ", "+", "-", ".", "+.", "e3", ".e3", "1e", "1e+", "1.2.3", "1,5", " 1", "1 ", "0x10", "Infinity"],
    ...["NaN", "1_000", "--1", "+-1", "1e1.5", "١", "1\u00a0", "½", "12a", "a12", "1ee3", "1e-+3"],
  ];
  for (const text of texts) {
    assert.equal(decimalNumber(text), expected(text), JSON.stringify(text));
  }
  // Every text of up to five characters from these: signs, points and exponents in every position.
  let shorts = [""];
  for (let length = 1; length <= 5; length++) {
    shorts = shorts.flatMap((text) => [..."09+-.eE x"].map((c) => text + c));
    for (const text of shorts) {
      assert.equal(decimalNumber(text), expected(text), JSON.stringify(text));
    }
  }
});

Deno.test("decimalNumber rounds long decimals exactly as Number does", () => {
  let seed = 12_345;
  const random = (below: number) => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) % below;
  const digits = (count: number) => Array.from({ length: count }, () => random(10)).join("");
  for (let i = 0; i < 50_000; i++) {
    const sign = ["", "-", "+"][random(3)];
    const text = `${sign}${digits(random(20))}.${digits(random(25))}`;
    assert.equal(decimalNumber(text), expected(text), text);
  }
  for (const text of ["9007199254740993", "9007199254740992.5", "0.1", "0.30000000000000004", "1.7976931348623157"]) {
    assert.equal(decimalNumber(text), Number(text), text);
  }
});
