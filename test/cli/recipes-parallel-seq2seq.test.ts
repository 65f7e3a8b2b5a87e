// `wnn train <recipe> --workers 2 --strategy ...` for the sequence-to-sequence recipes: each worker trains on its
// rows of the batch padded to the whole batch's lengths, its mean over its target tokens weighted by its share of
// the batch's, and (the Transformer, dropout 0.1) with the dropout masks one process draws for those rows. Each
// prints the losses of `--workers 1` (the same digits), with the final metrics within 1e-6 relative.

import { test } from "node:test";
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

test("wnn train transformer --workers 2 --strategy zero2 (dropout 0.1) prints the losses of --workers 1", () => {
  compareRecipe(
    "transformer",
    [
      ...["--steps", "4", "--batch", "8", "--test_size", "10", "--beam", "2"],
      ...["--d_model", "32", "--d_ff", "64", "--layers", "1", "--dropout", "0.1"],
    ],
    2,
    "zero2",
    /^step \d+\/\d+ .*loss \d/,
    /^(finalLoss|greedy\.bleu|beam\.bleu|greedy\.exactMatch)$/,
  );
});

test("wnn train convs2s-compare --workers 2 --strategy fsdp: the GRU and ConvS2S print the losses of --workers 1", () => {
  compareRecipe(
    "convs2s-compare",
    ["--steps", "3", "--batch", "4", "--test_size", "5", "--tasks", "dates"],
    2,
    "fsdp",
    /step \d+\/\d+ .*loss \d/,
    /\.(finalLoss|tokenAccuracy)$/,
  );
});
