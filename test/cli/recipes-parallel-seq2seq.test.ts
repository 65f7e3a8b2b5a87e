// `wnn train <recipe> --workers 2 --strategy ...` for the sequence-to-sequence recipes: each worker trains on its
// rows of the batch padded to the whole batch's lengths, its mean over its target tokens weighted by its share of
// the batch's, and (the Transformer, dropout 0.1) with the dropout masks one process draws for those rows. Each
// prints the losses of `--workers 1` (the same digits), with the final metrics within 1e-6 relative. Under FSDP the
// Transformer's blocks are units of their own.

import { strict as assert } from "node:assert";
import { test } from "node:test";
import { Generator } from "../../src/engine/rng.js";
import { DecoderBlock, transformerConfig } from "../../src/models/transformer/model.js";
import { compareRecipe } from "./parallel-helpers.js";

test("wnn train seq2seq-attention --workers 2 --strategy ddp prints the losses of --workers 1", () => {
  compareRecipe(
    "seq2seq-attention",
    ["--steps", "4", "--batch", "8", "--test_size", "20", "--models", "bahdanau"],
    2,
    "ddp",
    /^step \d+\/\d+ .*loss \d/,
    /\.(finalLoss|tokenAccuracy|exactMatch)$/,
  );
});

test("wnn train transformer --workers 2 --strategy fsdp (dropout 0.1): each block a unit, the losses of --workers 1", () => {
  const { many } = compareRecipe(
    "transformer",
    [
      ...["--steps", "4", "--batch", "8", "--test_size", "10", "--beam", "2"],
      ...["--d_model", "32", "--d_ff", "64", "--layers", "2", "--dropout", "0.1"],
    ],
    2,
    "fsdp",
    /^step \d+\/\d+ .*loss \d/,
    /^(finalLoss|greedy\.bleu|beam\.bleu|greedy\.exactMatch)$/,
  );
  // the root and 2 + 2 blocks; the largest unit gathered is a decoder block (the encoder's have no cross-attention)
  const units = /FSDP: (\d+) units \(the root and each block\), the largest ([\d,]+) bytes when gathered/.exec(many);
  assert.ok(units, many);
  assert.equal(Number(units[1]), 5);
  const config = transformerConfig("tiny", { vocabSize: 40, dModel: 32, dFF: 64, nHead: 4, dropout: 0.1 });
  const block = new DecoderBlock(config, new Generator(0));
  assert.equal(Number(units[2]!.replace(/,/g, "")), 4 * block.numParameters());
});

test("wnn train convs2s-compare --workers 2 --strategy zero2: the GRU and ConvS2S print the losses of --workers 1", () => {
  compareRecipe(
    "convs2s-compare",
    ["--steps", "3", "--batch", "4", "--test_size", "5", "--tasks", "dates"],
    2,
    "zero2",
    /step \d+\/\d+ .*loss \d/,
    /\.(finalLoss|tokenAccuracy)$/,
  );
});
