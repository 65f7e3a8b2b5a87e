// CLIP's tokenizer against the Python reference of its rules (tools/fixtures/clip_tokenizer.py): whitespace and
// case folding, the word pattern, the end-of-word mark, lowest-rank-first merges, the prompt's start, end and
// padding; malformed files are LoadErrors.

import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { LoadError } from "../../src/engine/errors.js";
import { CLIPTokenizer } from "../../src/data/clip-tokenizer.js";
import { assertThrowsWith } from "../harness/assert.js";

const fx = JSON.parse(
  readFileSync(new URL("../../../test/fixtures/data/clip_tokenizer.json", import.meta.url), "utf8"),
) as {
  vocab: Record<string, number>;
  merges: string;
  cases: { text: string; ids: number[]; prompt12: number[] }[];
};

test("CLIP's tokenizer gives the reference's ids and prompts", () => {
  const tok = new CLIPTokenizer(fx.vocab, fx.merges);
  for (const c of fx.cases) {
    assert.deepEqual(tok.encode(c.text), c.ids, c.text);
    assert.deepEqual([...tok.prompt(c.text, 12)], c.prompt12, c.text);
  }
  assert.equal(tok.decode(tok.encode("a thick slanted seven")), "a thick slanted seven");
});

test("CLIP's tokenizer rejects malformed files", () => {
  assertThrowsWith(() => new CLIPTokenizer({ a: 0 }, ""), LoadError, /startoftext/);
  assertThrowsWith(() => new CLIPTokenizer({ ...fx.vocab, bad: -1 }, fx.merges), LoadError, /bad/);
  assertThrowsWith(() => new CLIPTokenizer(fx.vocab, "#version: 0.2\na b c\n"), LoadError, /line 2/);
  const small = new CLIPTokenizer({ "<|startoftext|>": 0, "<|endoftext|>": 1, "a</w>": 2 }, "");
  assertThrowsWith(() => small.encode("b"), LoadError, /not in vocab/);
});
