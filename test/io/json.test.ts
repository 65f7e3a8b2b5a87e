// The strict JSON parser of untrusted headers (src/io/json.ts): its numbers are JSON.parse's — the plain integers
// it reads in place and every other form it leaves to the grammar's expression — and what JSON refuses it refuses.
import assert from "node:assert/strict";
import { test } from "node:test";
import { LoadError } from "../../src/engine/errors.js";
import { Generator } from "../../src/engine/rng.js";
import { parseStrictJson } from "../../src/io/json.js";

test("numbers: the same value as JSON.parse for integers of every length, signs, fractions and exponents", () => {
  const texts = [
    "0",
    "7",
    "10",
    "999999999999999",
    "1000000000000000",
    "9007199254740993",
    "123456789012345678901234567890",
    "-0",
    "-12",
    "0.5",
    "12.25",
    "1e3",
    "1E-3",
    "25e+2",
    "0e0",
  ];
  const g = new Generator(5);
  for (let k = 0; k < 300; k++) {
    let d = String(1 + g.randint(0, 9));
    for (let n = g.randint(0, 20); n > 0; n--) d += String(g.randint(0, 10));
    texts.push(d);
  }
  for (const t of texts) {
    const doc = `{"shape":[${t}, ${t}],"n":${t}}`;
    assert.deepEqual({ ...(parseStrictJson(doc, "test") as object) }, JSON.parse(doc), t);
    assert.ok(Object.is(parseStrictJson(t, "test"), JSON.parse(t)), t);
  }
});

test("numbers JSON refuses are refused: leading zeros, a bare point, a plus sign, hex", () => {
  for (const t of ["01", "00", "1.", ".5", "+1", "0x10", "1e", "--1", "[1,]"]) {
    assert.throws(() => JSON.parse(t), SyntaxError, t);
    assert.throws(() => parseStrictJson(t, "test"), LoadError, t);
  }
});
