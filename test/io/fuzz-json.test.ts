// Fuzzing the JSON readers, as test/io/fuzz.test.ts fuzzes safetensors and checkpoints: seeded
// mutations of a valid tokenizer.json (bytes of its text, and values of its structure) and of a valid
// config.json (each field set to a hostile value), in process and bounded in number. Each must load
// (and then encode a text), or be refused with the library's own error — never another exception.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { Generator, WnnError } from "../../src/index.js";
import { tokenizerFromJSON } from "../../src/data/tokenizer-json.js";
import { GPT, gptConfig } from "../../src/models/gpt2/model.js";
import { fromPretrained, toHFFiles } from "../../src/models/hf.js";

const fixture = (name: string): string =>
  readFileSync(new URL(`../../../test/fixtures/data/${name}`, import.meta.url), "utf8");

/** Run `f`; a WnnError or a result is fine, anything else fails with the case. → what happened */
function attempt(what: string, f: () => void): "refused" | "loaded" {
  try {
    f();
    return "loaded";
  } catch (e) {
    if (e instanceof WnnError) return "refused";
    assert.fail(`${what}: threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
  }
}

const HOSTILE: unknown[] = [
  null,
  -1,
  0,
  1e300,
  -(2 ** 31) - 1,
  2 ** 53,
  2.5,
  "x",
  "",
  true,
  [],
  {},
  [[]],
  [1, "a"],
  { type: "Sequence" },
];

/** The paths of an object's values down to `depth`, at most `perLevel` per container. */
function paths(v: unknown, depth: number, perLevel: number, at: (string | number)[] = []): (string | number)[][] {
  if (depth === 0 || typeof v !== "object" || v === null) return [];
  const entries = Array.isArray(v)
    ? v.slice(0, perLevel).map((x, i) => [i, x] as const)
    : Object.entries(v).slice(0, perLevel);
  return entries.flatMap(([k, x]) => [[...at, k], ...paths(x, depth - 1, perLevel, [...at, k])]);
}

function mutate(obj: unknown, g: Generator, all: (string | number)[][]): unknown {
  const copy = JSON.parse(JSON.stringify(obj));
  const path = all[g.randint(0, all.length)]!;
  let parent = copy;
  for (const k of path.slice(0, -1)) parent = parent[k];
  const key = path[path.length - 1]!;
  if (g.random() < 0.2 && !Array.isArray(parent)) delete parent[key];
  else parent[key] = HOSTILE[g.randint(0, HOSTILE.length)];
  return copy;
}

test("tokenizer.json: 300 seeded mutations load and encode, or are refused with a WnnError", () => {
  const g = new Generator(7);
  const counts = { refused: 0, loaded: 0 };
  for (const [name, text] of [
    ["bpe_moby_1000.json", fixture("bpe_moby_1000.json")],
    ["sp_bpe.json", JSON.stringify(JSON.parse(fixture("sp_bpe.json")).tokenizer)],
  ] as const) {
    const obj = JSON.parse(text);
    const all = paths(obj, 5, 10);
    for (let k = 0; k < 100; k++) {
      const m = JSON.stringify(mutate(obj, g, all));
      counts[attempt(`${name} value mutation ${k}`, () => void tokenizerFromJSON(m).encode("Call me Ishmael. 12 ü"))]++;
    }
    for (let k = 0; k < 50; k++) {
      // bytes of the text: a character replaced, or the text cut short
      const chars = [...text];
      const at = g.randint(0, chars.length);
      const m =
        g.random() < 0.3
          ? chars.slice(0, at).join("")
          : (chars.splice(at, 1, '{}[],:"0-e\\'.charAt(g.randint(0, 11))), chars.join(""));
      counts[attempt(`${name} text mutation ${k}`, () => void tokenizerFromJSON(m).encode("Call me Ishmael."))]++;
    }
  }
  // both outcomes occur: the mutations reach past the first check
  assert.ok(counts.refused > 0 && counts.loaded > 0, JSON.stringify(counts));
});

test("config.json: 200 seeded mutations of a GPT-2 config build the model, or are refused with a WnnError", () => {
  const g = new Generator(8);
  const cfg = gptConfig("tiny", { vocabSize: 50, nLayer: 1, nHead: 2, nEmbd: 8, blockSize: 16 });
  const files = toHFFiles("gpt2", new GPT(cfg, { generator: new Generator(1) }), cfg);
  const all = paths(files.config, 2, 40);
  const counts = { refused: 0, loaded: 0 };
  for (let k = 0; k < 200; k++) {
    const config = mutate(files.config, g, all) as Record<string, unknown>;
    counts[
      attempt(
        `config mutation ${k}: ${JSON.stringify(config).slice(0, 200)}`,
        () => void fromPretrained({ config, tensors: files.tensors }),
      )
    ]++;
  }
  assert.ok(counts.refused > 0 && counts.loaded > 0, JSON.stringify(counts));
});
