// `wnn train <recipe> --workers 2 --strategy ...` for the pretrain-then-fine-tune comparisons: encoder-compare
// (BERT, RoBERTa, DeBERTa with dropout 0.1: MLM pretraining, each worker's MLM mean weighted by its share of the
// batch's masked tokens, masks drawn for the whole batch; then spam classification; under FSDP each block a unit)
// and finetune-compare (a base pretrained on the workers, then every fine-tuning method, its frozen weights beside
// the sharded optimizer) print the losses of `--workers 1` (the same digits), with the final metrics within 1e-6
// relative.

import { strict as assert } from "node:assert";
import { test } from "node:test";
import { compareRecipe } from "./parallel-helpers.js";

test("wnn train encoder-compare --workers 2 --strategy fsdp: its three encoders, each block a unit, print the losses of --workers 1", () => {
  const { many } = compareRecipe(
    "encoder-compare",
    [
      ...["--vocab_size", "300", "--d_model", "32", "--n_layer", "1", "--n_head", "2", "--ff_dim", "64"],
      ...["--mlm_steps", "3", "--mlm_batch", "4", "--mlm_len", "16", "--ft_steps", "2", "--ft_batch", "4"],
      ...["--ft_len", "16", "--eval_every", "2", "--val_windows", "4", "--email_chars", "200"],
    ],
    2,
    "fsdp",
    /(MLM|fine-tune) step \d+\/\d+/,
    /\.(mlmValLoss|accuracy|f1)$/,
  );
  // each pretraining: the root and its one block
  assert.equal(many.match(/FSDP: 2 units \(the root and each block\)/g)?.length, 3, many);
});

test("wnn train finetune-compare --workers 2 --strategy zero1: the base and every method print the losses of --workers 1", () => {
  compareRecipe(
    "finetune-compare",
    [
      ...["--n_layer", "1", "--n_head", "2", "--n_embd", "16", "--block_size", "32", "--base_steps", "2"],
      ...["--steps", "2", "--batch_size", "4", "--email_chars", "20", "--test_emails", "10", "--test_dates", "4"],
      ...["--ranks", "2", "--modules_to_save", "tokEmb"],
    ],
    2,
    "zero1",
    /^step \d+\/\d+ .*loss \d/,
    /^base\.valLoss$|\.(datesTestLoss|spamAccuracy)$/,
  );
});
