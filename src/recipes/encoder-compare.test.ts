// The encoder comparison on a tiny budget and synthetic data: the recipe runs end to end (three pretrainings,
// four fine-tunings), its masking follows BERT §3.1 (static for BERT, dynamic for the others), and the MLM loss
// on the predicted positions only equals each model's own forward loss.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Generator, noGrad } from "../index.js";
import * as F from "../nn/functional.js";
import { BertForMaskedLM } from "../models/bert/model.js";
import {
  SPECIALS,
  bertStaticSet,
  contenders,
  encoderCompareRecipe,
  encoderTask,
  maskBatch,
  maskedLmLoss,
  single,
  type EncoderCompareOptions,
} from "./encoder-compare.js";

/** A seeded text of ~30k characters from a small vocabulary, and e-mails whose class shows in their words. */
function synthetic(): { text: string; emails: { text: string; label: number }[] } {
  const g = new Generator(11);
  const words = "the whale sea ship captain ahab white boat harpoon deep water sailor ishmael night wind".split(" ");
  const pick = (list: string[]): string => list[g.randint(0, list.length)]!;
  let text = "";
  while (text.length < 30_000) text += Array.from({ length: 8 }, () => pick(words)).join(" ") + ". ";
  const spam = "free money click now offer winner cash prize".split(" "),
    ham = "meeting tomorrow patch review thanks list build".split(" ");
  const emails = Array.from({ length: 60 }, (_, i) => {
    const label = i % 3 === 0 ? 1 : 0;
    return {
      text:
        `Subject: ${pick(label ? spam : ham)}\n` + Array.from({ length: 20 }, () => pick(label ? spam : ham)).join(" "),
      label,
    };
  });
  return { text, emails };
}

const tiny: EncoderCompareOptions = {
  ...encoderCompareRecipe.defaults,
  vocabSize: 300,
  dModel: 16,
  nLayer: 2,
  nHead: 2,
  ffDim: 32,
  mlmSteps: 3,
  mlmBatch: 4,
  mlmLen: 16,
  ftSteps: 3,
  ftBatch: 4,
  ftLen: 16,
  evalEvery: 2,
  valWindows: 4,
  emailChars: 200,
  testFraction: 0.25,
};

test("encoder-compare runs end to end on a tiny budget: a table of four rows, metrics, the MLM curves as a PNG", () => {
  const data = synthetic();
  const lines: string[] = [];
  const r = encoderCompareRecipe.run(tiny, data, { log: (l) => lines.push(l) }, new Generator(0));
  const table = r.tables!["encoder-compare.md"]!;
  for (const name of ["BERT", "RoBERTa", "DeBERTa", "BERT, no pretraining"])
    assert.ok(table.includes(`| ${name} |`), name);
  assert.equal(table.split("\n").length, 6);
  assert.equal(r.metrics.testEmails, 15); // 25% of 20 spam + 25% of 40 ham
  for (const k of ["bert", "roberta", "deberta", "bertScratch"]) {
    const acc = r.metrics[`${k}.accuracy`]!;
    assert.ok(acc >= 0 && acc <= 1, `${k} accuracy ${acc}`);
  }
  for (const k of ["bert", "roberta", "deberta"])
    assert.ok(Number.isFinite(r.metrics[`${k}.mlmValLoss`]) && r.metrics[`${k}.mlmValLoss`]! > 0, k);
  const png = r.images!["mlm-loss.png"]!;
  assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  assert.ok(lines.some((l) => l.startsWith("tokenizer: byte-level BPE")));
  // seeded: the same options give the same numbers
  const again = encoderCompareRecipe.run(tiny, data, { log: () => {} }, new Generator(0));
  assert.equal(again.metrics["deberta.mlmValLoss"], r.metrics["deberta.mlmValLoss"]);
  assert.equal(again.metrics["bert.accuracy"], r.metrics["bert.accuracy"]);
});

test("masking: BERT §3.1 rates; BERT's static set is drawn once, RoBERTa's masks change from batch to batch", () => {
  const g = new Generator(1);
  const V = 500,
    seqs = Array.from({ length: 200 }, () => single(Int32Array.from({ length: 30 }, () => g.randint(4, V))));
  const masks = new Generator(2);
  const { idx, targets } = maskBatch(seqs, V, masks);
  const x = idx.storage,
    y = targets.storage;
  let chosen = 0,
    masked = 0,
    kept = 0;
  y.forEach((label, i) => {
    if (label === -100) return;
    chosen++;
    if (x[i] === SPECIALS.mask) masked++;
    else if (x[i] === label) kept++;
  });
  const n = 200 * 30;
  assert.ok(Math.abs(chosen / n - 0.15) < 0.02, `chosen ${chosen / n}`);
  assert.ok(
    Math.abs(masked / chosen - 0.8) < 0.04 && Math.abs(kept / chosen - 0.1 - 0.1 / V) < 0.04,
    `mask ${masked / chosen}, kept ${kept / chosen}`,
  );
  // the special tokens are never chosen
  for (let b = 0; b < 200; b++) assert.ok(y[b * 32] === -100 && y[b * 32 + 31] === -100);
  // dynamic: the same windows masked again (the generator goes on) get other masks
  const second = maskBatch(seqs, V, masks);
  assert.notDeepEqual([...second.targets.storage], [...y]);
  // static: BERT's set is one fixed list, the same for the same seed; pairs are [CLS] A [SEP] B [SEP] with types 0 | 1
  const windows = seqs.slice(0, 20).map((s) => s.subarray(1, 29));
  const a = bertStaticSet(windows, V, new Generator(5)),
    b = bertStaticSet(windows, V, new Generator(5));
  assert.deepEqual(
    a.map((e) => [...e.x]),
    b.map((e) => [...e.x]),
  );
  for (const e of a) {
    assert.equal(e.x[0], SPECIALS.cls);
    assert.equal(e.x[15], SPECIALS.sep);
    assert.equal(e.x[e.x.length - 1], SPECIALS.sep);
    assert.deepEqual([...e.types], [...Array(16).fill(0), ...Array(15).fill(1)]);
  }
  const next = a.filter((e) => e.isNext === 1).length;
  assert.ok(next > 3 && next < 17, `${next} of 20 pairs are IsNext`);
});

test("maskedLmLoss (the head on the predicted positions only) equals each model's own forward loss, for the gradients too", () => {
  const task = encoderTask(synthetic().text, synthetic().emails, tiny);
  const [bert, roberta, deberta] = contenders(task, tiny);
  const { idx, targets } = task.val[0]!;
  // RoBERTa and DeBERTa (with its EMD): the recipe's loss vs RobertaForMaskedLM / DebertaForMaskedLMWithEMD.forward
  for (const c of [roberta!, deberta!]) {
    c.pretrain.eval();
    const model = c.pretrain as unknown as {
      forward(i: typeof idx, o: { targets: typeof targets }): { loss: { item(): number } | null };
    };
    const full = noGrad(() => model.forward(idx, { targets }).loss!.item());
    assert.ok(Math.abs(c.valLoss(idx, targets) - full) < 1e-5, `${c.name}: ${c.valLoss(idx, targets)} vs ${full}`);
  }
  // BERT: the pretraining model's MLM term vs BertForMaskedLM carrying the same trunk and head
  const pre = bert!.pretrain as unknown as {
    encoder: { stateDict(): Record<string, unknown> };
    mlmHead: { stateDict(): Record<string, unknown> };
    config: never;
  };
  const mlm = new BertForMaskedLM(pre.config, { generator: new Generator(0) });
  mlm.eval();
  const trunk = Object.fromEntries(Object.entries(pre.encoder.stateDict()).filter(([k]) => !k.startsWith("pooler.")));
  mlm.encoder.loadStateDict(trunk as never);
  mlm.mlmHead.loadStateDict(pre.mlmHead.stateDict() as never);
  const full = noGrad(() => mlm.forward(idx, { targets }).loss!.item());
  assert.ok(Math.abs(bert!.valLoss(idx, targets) - full) < 1e-5, `BERT: ${bert!.valLoss(idx, targets)} vs ${full}`);
  // gradients: d loss / d hidden through the gathered rows equals the full head's
  const h = mlm.encoder.forward(idx).hidden.detach();
  h.requiresGrad = true;
  maskedLmLoss(h, targets, mlm.mlmHead).backward();
  const g1 = h.grad!.clone();
  h.grad = null;
  const logits = mlm.mlmHead.forward(h);
  const [B, T, V] = logits.shape as [number, number, number];
  F.crossEntropy(logits.view(B * T, V), targets.view(B * T), { ignoreIndex: -100 }).backward();
  assert.ok(g1.sub(h.grad!).abs().max().item() < 1e-6);
});
