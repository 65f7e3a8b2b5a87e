// seq2seq with and without attention: parity of every decoder with the PyTorch reference
// (tools/fixtures/seq2seq.py), overfitting one batch, parameter counts, greedy decoding, errors.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Generator, noGrad, tensor, ArgumentError, DTypeError, ShapeError } from "../../index.js";
import { assertClose, assertThrowsWith } from "../../../test/harness/assert.js";
import { fromJson, tensorsOf, type TensorJson, readModelFixture } from "../../../test/harness/fixtures.js";
import * as optim from "../../optim/index.js";
import { distinctPairs, makeBatch, reversalTask } from "../../data/tasks/index.js";
import { recipe } from "./recipe.js";
import {
  ATTENTION_KINDS,
  countParameters,
  fromTorchState,
  greedyDecode,
  PRESETS,
  Seq2Seq,
  seq2seqConfig,
  toTorchState,
  type AttentionKind,
} from "./model.js";

// -----------------------------------------------------------------------------------------------------
// The fixture

interface Case {
  state: Record<string, TensorJson>;
  logits: TensorJson;
  attention: TensorJson | null;
  loss: number;
  grads: Record<string, TensorJson>;
  num_params: number;
}
interface Fixture {
  config: { src_vocab: number; tgt_vocab: number; emb_dim: number; hidden: number; attn_dim: number };
  src: TensorJson;
  tgt_in: TensorJson;
  tgt_out: TensorJson;
  cases: Record<AttentionKind, Case>;
}

const fx = readModelFixture<Fixture>("seq2seq");
const fxConfig = (attention: AttentionKind) =>
  seq2seqConfig({
    srcVocab: fx.config.src_vocab,
    tgtVocab: fx.config.tgt_vocab,
    embDim: fx.config.emb_dim,
    hidden: fx.config.hidden,
    attnDim: fx.config.attn_dim,
    attention,
  });

// -----------------------------------------------------------------------------------------------------
// Parity with PyTorch

for (const kind of ATTENTION_KINDS) {
  test(`seq2seq (${kind}) matches PyTorch: logits, attention, loss, every parameter gradient over a padded, teacher-forced batch`, () => {
    const c = fx.cases[kind];
    const model = new Seq2Seq(fxConfig(kind), { generator: new Generator(0) });
    model.loadStateDict(fromTorchState(tensorsOf(c.state))); // strict: every name maps
    const { logits, loss, attention } = model.forward(fromJson(fx.src), fromJson(fx.tgt_in), fromJson(fx.tgt_out));
    assertClose(logits, fromJson(c.logits), { atol: 1e-5, rtol: 1e-4 }, "logits");
    if (c.attention) assertClose(attention!, fromJson(c.attention), { atol: 1e-6, rtol: 1e-4 }, "attention");
    else assert.equal(attention, null);
    assert.ok(Math.abs(loss!.item() - c.loss) <= 1e-5, `loss ${loss!.item()} vs PyTorch ${c.loss}`);
    loss!.backward();
    const grads = toTorchState(Object.fromEntries(model.namedParameters().map(([n, p]) => [n, p.grad!])));
    assert.deepEqual(Object.keys(grads).sort(), Object.keys(c.grads).sort());
    for (const [name, g] of Object.entries(grads))
      assertClose(g, fromJson(c.grads[name]!), { rtol: 1e-3, atol: 1e-6 }, `d loss/d ${name}`);
    // the padding never reaches the result: the encoder's padded steps and the PAD targets get no gradient
    assert.equal(model.numParameters(), c.num_params);
  });
}

test("the attention weights are zero at the source's padding and sum to 1", () => {
  const model = new Seq2Seq(fxConfig("bahdanau"), { generator: new Generator(1) });
  const src = fromJson(fx.src);
  const { attention } = noGrad(() => model.forward(src, fromJson(fx.tgt_in)));
  const [B, T, S] = attention!.shape as [number, number, number];
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      let sum = 0;
      for (let j = 0; j < S; j++) {
        const a = attention!.storage[(b * T + t) * S + j]!;
        if (src.storage[b * S + j] === 0) assert.equal(a, 0, `row ${b} step ${t} attends padding at ${j}`);
        sum += a;
      }
      assert.ok(Math.abs(sum - 1) < 1e-6, `row ${b} step ${t}: weights sum to ${sum}`);
    }
  }
});

// -----------------------------------------------------------------------------------------------------
// Parameter counts

test("parameter counts: the formula equals the modules, for every decoder and preset", () => {
  for (const preset of Object.keys(PRESETS) as (keyof typeof PRESETS)[]) {
    for (const attention of ATTENTION_KINDS) {
      const c = seq2seqConfig(preset, { attention });
      assert.equal(
        new Seq2Seq(c, { generator: new Generator(0) }).numParameters(),
        countParameters(c),
        `${preset} ${attention}`,
      );
    }
  }
  // the tiny config's counts as PyTorch counts them (the fixture)
  for (const attention of ATTENTION_KINDS)
    assert.equal(countParameters(fxConfig(attention)), fx.cases[attention].num_params, attention);
});

// -----------------------------------------------------------------------------------------------------
// Overfitting one batch

for (const kind of ATTENTION_KINDS) {
  test(`seq2seq (${kind}) overfits one batch of reversals`, () => {
    const task = reversalTask({ vocab: 8, minLen: 3, maxLen: 6 });
    const batch = makeBatch(task, distinctPairs(task, 8, new Generator(2)));
    const config = seq2seqConfig({
      srcVocab: task.srcVocab.size,
      tgtVocab: task.tgtVocab.size,
      embDim: 16,
      hidden: 32,
      attnDim: 16,
      attention: kind,
    });
    const model = new Seq2Seq(config, { generator: new Generator(3) });
    const opt = new optim.Adam(model.parameters(), { lr: 2e-2 });
    let first = NaN,
      loss = NaN,
      steps = 0;
    for (; steps < 150 && !(loss < 0.02); steps++) {
      model.zeroGrad();
      const out = model.forward(batch.src, batch.tgtIn, batch.tgtOut);
      loss = out.loss!.item();
      if (steps === 0) first = loss;
      out.loss!.backward();
      opt.step();
    }
    assert.ok(first > 2, `the first loss ${first} should be near ln 11 = 2.4`);
    assert.ok(loss < 0.02, `loss ${loss} after ${steps} steps (first ${first})`);
    // and greedy decoding now writes every target exactly
    const { tokens } = greedyDecode(model, batch.src, task.maxTgtLen);
    const want = Array.from({ length: 8 }, (_, b) =>
      [...batch.tgtOut.storage.subarray(b * batch.tgtOut.shape[1]!, (b + 1) * batch.tgtOut.shape[1]!)].filter(
        (t) => t > 2,
      ),
    );
    assert.deepEqual(tokens, want);
  });
}

// -----------------------------------------------------------------------------------------------------
// Greedy decoding

test("greedy decoding takes the argmax of the teacher-forced forward fed its own tokens", () => {
  for (const kind of ATTENTION_KINDS) {
    const model = new Seq2Seq(fxConfig(kind), { generator: new Generator(4) });
    const src = fromJson(fx.src);
    const out = greedyDecode(model, src, 6);
    assert.equal(model.training, true, "greedyDecode restores the training mode");
    const B = src.shape[0]!,
      V = fx.config.tgt_vocab;
    for (let b = 0; b < B; b++) {
      const row = src.narrow(0, b, 1);
      const S = [...row.storage].filter((t) => t !== 0).length;
      const ys = out.tokens[b]!;
      assert.ok(ys.length <= 6);
      // the same sentence alone, without padding, teacher-forced with BOS + the decoded tokens
      const alone = row.narrow(1, 0, S);
      const { logits, attention } = noGrad(() =>
        model.forward(alone, tensor(new Int32Array([1, ...ys]), { shape: [1, ys.length + 1] })),
      );
      const picks = Array.from({ length: ys.length + 1 }, (_, t) => {
        const r = logits.storage.subarray(t * V, (t + 1) * V);
        return r.indexOf(Math.max(...r));
      });
      const stopped = ys.length < 6;
      assert.deepEqual(picks.slice(0, ys.length), ys, `${kind} row ${b}`);
      if (stopped) assert.equal(picks[ys.length], 2, `${kind} row ${b} ends with EOS`);
      if (attention) {
        const steps = out.attention[b]!;
        assert.equal(steps.length, ys.length + 1);
        assertClose(
          steps.flatMap((w) => w.slice(0, S)),
          attention.storage,
          { atol: 1e-6, rtol: 1e-5 },
          `${kind} attention row ${b}`,
        );
      } else {
        assert.deepEqual(out.attention[b], []);
      }
    }
  }
});

// -----------------------------------------------------------------------------------------------------
// Errors

test("config and input errors name what is wrong", () => {
  assertThrowsWith(() => seq2seqConfig("tiny", { hidden: 7 }), ArgumentError, /hidden 7 must be even/);
  assertThrowsWith(
    () => seq2seqConfig("tiny", { attention: "luong-concat" as AttentionKind }),
    ArgumentError,
    /attention must be one of "none", "bahdanau", "luong-dot", "luong-general", got "luong-concat"/,
  );
  assertThrowsWith(() => seq2seqConfig("big" as "tiny"), ArgumentError, /unknown preset "big"/);
  const model = new Seq2Seq(seq2seqConfig("tiny"), { generator: new Generator(0) });
  assertThrowsWith(
    () => model.forward(tensor([1, 2, 3], { dtype: "int32" }), tensor([[1]], { dtype: "int32" })),
    ShapeError,
    /tgtIn \(1,1\) must be \(B, T\) with the batch of src \(3\)/,
  );
  assertThrowsWith(
    () => model.forward(tensor([[1, 2]]), tensor([[1]], { dtype: "int32" })),
    DTypeError,
    /src must be int32 token ids, got float32 \(1,2\)/,
  );
  assertThrowsWith(
    () => model.generate(tensor([[3, 4]], { dtype: "int32" }), -1),
    ArgumentError,
    /maxLen must be an integer ≥ 0, got -1/,
  );
});

// -----------------------------------------------------------------------------------------------------
// The recipe

test("the recipe trains the chosen decoders alike and returns the comparison: metrics, table, charts, heatmaps", () => {
  const lines: string[] = [];
  const opts = {
    ...recipe.defaults,
    task: "reversal",
    models: "none,luong-dot",
    steps: 3,
    batch: 4,
    testSize: 12,
    hidden: 8,
    embDim: 4,
    attnDim: 4,
    minLen: 2,
    maxLen: 6,
  };
  const r = recipe.run(opts, {}, { log: (l) => lines.push(l) }, new Generator(0));
  for (const k of ["none", "luong-dot"]) {
    for (const m of ["exactMatch", "tokenAccuracy", "seconds", "parameters", "finalLoss"])
      assert.ok(Number.isFinite(r.metrics[`${k}.${m}`]), `${k}.${m}`);
  }
  assert.match(
    r.tables!.accuracyByLength!,
    /^\| input length \| n \| none exact \/ token % \| luong-dot exact \/ token % \|/,
  );
  assert.match(r.tables!.accuracyByLength!, /\| all \| 12 \|/);
  assert.deepEqual(Object.keys(r.images!).sort(), ["accuracy-vs-length.png", "attention-luong-dot.png", "loss.png"]);
  for (const png of Object.values(r.images!)) assert.deepEqual([...png.subarray(1, 4)], [80, 78, 71]);
  // the same seed gives the same model whether trained alone or after another
  const alone = recipe.run({ ...opts, models: "luong-dot" }, {}, { log: () => {} }, new Generator(0));
  assert.equal(alone.metrics["luong-dot.finalLoss"], r.metrics["luong-dot.finalLoss"]);
  assertThrowsWith(
    () => recipe.run({ ...opts, models: "transformer" }, {}, { log: () => {} }, new Generator(0)),
    ArgumentError,
    /unknown model "transformer"/,
  );
  assertThrowsWith(
    () => recipe.run({ ...opts, task: "sorting" }, {}, { log: () => {} }, new Generator(0)),
    ArgumentError,
    /unknown task "sorting"/,
  );
});
