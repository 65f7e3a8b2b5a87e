// The decoder-only comparison on a tiny budget: all four train on the same batches, the table has their rows.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Generator } from "../index.js";
import { countParameters as gptCount, gptConfig } from "../models/gpt2/model.js";
import { countParameters as llamaCount, llamaConfig } from "../models/llama/model.js";
import {
  contenders,
  decoderCompareRecipe,
  matchedIntermediateSize,
  type DecoderCompareOptions,
} from "./decoder-compare.js";

// a short English text (the opening of Moby Dick), repeated so that both splits hold many windows
const TEXT = (
  "Call me Ishmael. Some years ago, never mind how long precisely, having little or no money in my purse, " +
  "and nothing particular to interest me on shore, I thought I would sail about a little and see the watery part of the world. "
).repeat(20);

const TINY: DecoderCompareOptions = {
  ...decoderCompareRecipe.defaults,
  steps: 30,
  batchSize: 4,
  blockSize: 16,
  nLayer: 1,
  nHead: 2,
  nEmbd: 16,
  lr: 1e-2,
  minLr: 1e-3,
  warmupSteps: 3,
  evalEvery: 15,
  evalBatches: 2,
  sampleChars: 12,
  prompt: "Call ",
};

test("matchedIntermediateSize brings LLaMA's count within half a SwiGLU column of GPT-2's", () => {
  for (const s of [
    { vocabSize: 89, blockSize: 64, nLayer: 5, nHead: 4, nEmbd: 128 },
    { vocabSize: 30, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 16 },
  ]) {
    const I = matchedIntermediateSize(s);
    const gpt = gptCount(gptConfig({ ...s, dropout: 0, bias: true }));
    const llama = (i: number): number =>
      llamaCount(
        llamaConfig({
          ...s,
          nKvHeads: s.nHead,
          intermediateSize: i,
          multipleOf: 1,
          normEps: 1e-5,
          ropeTheta: 10000,
          dropout: 0,
        }),
      );
    const column = 3 * s.nLayer * s.nEmbd; // one more unit of I
    assert.ok(Math.abs(llama(I) - gpt) <= column / 2, `I ${I}: ${llama(I)} vs ${gpt}`);
    assert.ok(
      Math.abs(llama(I) - gpt) <= Math.abs(llama(I + 1) - gpt) &&
        Math.abs(llama(I) - gpt) <= Math.abs(llama(I - 1) - gpt),
    );
  }
  // the built models have the counts of their configs
  const s = { vocabSize: 30, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 16 };
  const [gpt, llama] = contenders(s).map((c) => c.build(new Generator(0)).numParameters());
  assert.equal(gpt, gptCount(gptConfig({ ...s, dropout: 0, bias: true })));
  assert.equal(
    llama,
    llamaCount(
      llamaConfig({
        ...s,
        nKvHeads: 2,
        intermediateSize: matchedIntermediateSize(s),
        multipleOf: 1,
        normEps: 1e-5,
        ropeTheta: 10000,
        dropout: 0,
      }),
    ),
  );
});

test("decoder-compare trains all four on the same batches and tabulates them", () => {
  const lines: string[] = [];
  const r = decoderCompareRecipe.run(TINY, { text: TEXT }, { log: (l) => lines.push(l) }, new Generator(0));
  const table = r.tables!["decoder-compare.md"]!.split("\n");
  assert.equal(table.length, 6, "header, rule, four rows");
  const names = ["GPT-2", "LLaMA", "BLOOM", "Falcon"];
  names.forEach((name, i) => assert.ok(table[2 + i]!.startsWith(`| ${name} |`), table[2 + i]));
  const keys = ["gpt2", "llama", "bloom", "falcon"];
  const checksum = r.metrics["gpt2.batchChecksum"]!;
  assert.ok(checksum > 0);
  for (const k of keys) {
    const m = (name: string): number => r.metrics[`${k}.${name}`]!;
    assert.equal(m("batchChecksum"), checksum, `${k} read the same batches`);
    assert.ok(m("parameters") > 1000, k);
    assert.ok(m("valLoss") < m("initialValLoss") - 0.3, `${k}: val ${m("initialValLoss")} → ${m("valLoss")}`);
    assert.ok(
      m("lastBatchLoss") < m("firstBatchLoss") - 0.3,
      `${k}: batches ${m("firstBatchLoss")} → ${m("lastBatchLoss")}`,
    );
    assert.ok(m("seconds") > 0 && m("msPerStep") > 0, k);
  }
  // the same initial-weight seed, different architectures: the step-0 losses differ
  assert.equal(new Set(keys.map((k) => r.metrics[`${k}.initialValLoss`])).size, 4);
  assert.equal(r.samples!.length, 4);
  names.forEach((name, i) => assert.ok(r.samples![i]!.startsWith(`${name}: "Call `), r.samples![i]));
  assert.deepEqual([...r.images!["val-loss.png"]!.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
});

test("decoder-compare refuses an odd head size and a corpus too short for one block", () => {
  assert.throws(
    () =>
      decoderCompareRecipe.run({ ...TINY, nEmbd: 18, nHead: 2 }, { text: TEXT }, { log: () => {} }, new Generator(0)),
    /even head size/,
  );
  assert.throws(
    () => decoderCompareRecipe.run(TINY, { text: "short text" }, { log: () => {} }, new Generator(0)),
    /too few for blocks of 16/,
  );
});
