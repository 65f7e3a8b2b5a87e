// Tacotron 2: parity with the PyTorch reference (tools/fixtures/tacotron2.py: packed BiLSTM, location-sensitive
// attention, r = 2, the guided-attention loss, every gradient), the paper's parameter count, overfitting one
// batch, synthesis that stops, and errors.
import { readFileSync } from "../../../test/harness/files.js";
import { test } from "node:test";
import assert from "node:assert/strict";
import { ArgumentError, cat, Generator, noGrad, randn, ShapeError, tensor } from "../../index.js";
import { assertClose, assertThrowsWith } from "../../../test/harness/assert.js";
import { fromJson, type TensorJson } from "../../../test/harness/fixtures.js";
import { fromTorchName, toTorchName } from "../../nn/names.js";
import * as optim from "../../optim/index.js";
import { BatchNorm1d } from "../../nn/norm.js";
import { Conv1d } from "../../nn/conv.js";
import { countParameters, foldConvBiases, PRESETS, Tacotron2, tacotron2Config } from "./model.js";

interface Fixture {
  state: Record<string, TensorJson>;
  text: TensorJson;
  text_lengths: number[];
  mel: TensorJson;
  mel_lengths: number[];
  guided: number;
  out: TensorJson;
  post: TensorJson;
  stop: TensorJson;
  align: TensorJson;
  loss: number;
  grads: Record<string, TensorJson>;
  num_params: number;
  paper_params: number;
}
const fx = JSON.parse(
  readFileSync(new URL("../../../../test/fixtures/models/tacotron2.json", import.meta.url), "utf8"),
) as Fixture;

test("Tacotron 2 matches PyTorch: frames, post-net, stop logits, alignments, loss and every gradient (float64)", () => {
  const model = new Tacotron2(tacotron2Config("tiny"), { generator: new Generator(0) }).to("float64");
  model.loadStateDict(Object.fromEntries(Object.entries(fx.state).map(([k, v]) => [fromTorchName(k), fromJson(v)])));
  const out = model.forward(fromJson(fx.text), fx.text_lengths, {
    mel: fromJson(fx.mel),
    melLengths: fx.mel_lengths,
    guidedAttention: fx.guided,
  });
  const tol = { rtol: 1e-9, atol: 1e-10 };
  assertClose(out.mel, fromJson(fx.out), tol, "mel");
  assertClose(out.melPost, fromJson(fx.post), tol, "melPost");
  assertClose(out.stop, fromJson(fx.stop), tol, "stop");
  assertClose(out.alignments, fromJson(fx.align), tol, "alignments");
  assert.ok(Math.abs(out.loss!.item() - fx.loss) < 1e-10, `loss ${out.loss!.item()} vs PyTorch ${fx.loss}`);
  out.loss!.backward();
  const names = model
    .namedParameters()
    .map(([n]) => toTorchName(n))
    .sort();
  assert.deepEqual(names, Object.keys(fx.grads).sort());
  for (const [n, p] of model.namedParameters())
    assertClose(p.grad!, fromJson(fx.grads[toTorchName(n)]!), { rtol: 1e-7, atol: 1e-10 }, `d loss/d ${n}`);
  assert.equal(model.numParameters(), fx.num_params);
  assert.equal(countParameters(model.config), fx.num_params);
});

test("the paper's configuration has the parameter count PyTorch's layers give it", () => {
  assert.equal(countParameters(tacotron2Config("paper")), fx.paper_params);
  assert.equal(fx.paper_params, 28_189_489);
});

test("a convolution bias before a batch norm folds into its running mean: the same outputs in evaluation", () => {
  const g = new Generator(5);
  const opts = { generator: g, dtype: "float64" as const };
  // the earlier layout: conv with a bias, then the norm with its running statistics
  const conv = new Conv1d(3, 4, 3, { padding: 1, generator: g }).to("float64");
  const norm = new BatchNorm1d(4).to("float64");
  noGrad(() => {
    norm.runningMean!.storage.set(randn([4], opts).storage);
    norm.runningVar!.storage.set(randn([4], opts).abs().add(0.5).storage);
    norm.weight!.storage.set(randn([4], opts).storage);
    norm.bias!.storage.set(randn([4], opts).storage);
  });
  norm.eval();
  const x = randn([2, 3, 5], opts);
  const before = noGrad(() => norm.forward(conv.forward(x)));
  const state: Record<string, ReturnType<typeof randn>> = {};
  for (const [k, t] of Object.entries(conv.stateDict())) state[`b.conv.${k}`] = t;
  for (const [k, t] of Object.entries(norm.stateDict())) state[`b.norm.${k}`] = t;
  const folded = foldConvBiases(state);
  assert.ok(!("b.conv.bias" in folded), "the bias is gone");
  const conv2 = new Conv1d(3, 4, 3, { padding: 1, bias: false }).to("float64");
  const norm2 = new BatchNorm1d(4).to("float64");
  conv2.loadStateDict({ weight: folded["b.conv.weight"]! });
  norm2.loadStateDict(
    Object.fromEntries(
      Object.entries(folded)
        .filter(([k]) => k.startsWith("b.norm."))
        .map(([k, t]) => [k.slice("b.norm.".length), t]),
    ),
  );
  norm2.eval();
  assertClose(
    noGrad(() => norm2.forward(conv2.forward(x))),
    before,
    { rtol: 1e-12, atol: 1e-12 },
    "folded",
  );
  // a whole model's state in the earlier layout (a bias on every convolution before a norm) loads once folded
  const model = new Tacotron2(tacotron2Config("tiny"), { generator: new Generator(1) });
  const old: Record<string, ReturnType<typeof randn>> = { ...model.stateDict() };
  let biases = 0;
  for (const k of Object.keys(old))
    if (k.endsWith(".conv.weight") && `${k.slice(0, -".conv.weight".length)}.norm.runningMean` in old) {
      old[`${k.slice(0, -".weight".length)}.bias`] = randn([old[k]!.shape[0]!], { generator: g });
      biases++;
    }
  assert.equal(biases, tacotron2Config("tiny").encConvLayers + tacotron2Config("tiny").postnetLayers);
  assert.throws(() => model.loadStateDict(old), ArgumentError);
  model.loadStateDict(foldConvBiases(old));
  // a state in this layout is returned as it is
  assert.deepEqual(Object.keys(foldConvBiases(model.stateDict())).sort(), Object.keys(model.stateDict()).sort());
});

test("a row's result does not depend on the padding after it (the packed BiLSTM, the masked attention)", () => {
  const c = tacotron2Config("tiny");
  const model = new Tacotron2(c, { generator: new Generator(1) }).to("float64");
  const g = new Generator(2);
  const mel = randn([1, c.nMels, 4], { dtype: "float64", generator: g });
  // batch norm mixes the rows in training mode: compare in eval mode
  model.eval();
  const a = noGrad(() => model.forward(tensor([[3, 1, 4]], { dtype: "int32" }), [3], { mel, melLengths: [4] }));
  const b = noGrad(() =>
    model.forward(
      tensor(
        [
          [3, 1, 4, 0, 0],
          [2, 2, 2, 2, 2],
        ],
        { dtype: "int32" },
      ),
      [3, 5],
      { mel: cat([mel, mel], 0), melLengths: [4, 4] },
    ),
  );
  assertClose(b.melPost.narrow(0, 0, 1), a.melPost, { rtol: 1e-12, atol: 1e-12 }, "melPost of row 0");
  assertClose(
    b.alignments.narrow(0, 0, 1).narrow(2, 0, 3),
    a.alignments,
    { rtol: 1e-12, atol: 1e-12 },
    "alignments of row 0",
  );
  assert.ok(
    b.alignments
      .narrow(0, 0, 1)
      .narrow(2, 3, 2)
      .dataSync()
      .every((v) => v === 0),
    "no attention on padding",
  );
});

test("overfits one batch: the loss falls by 90% in 150 Adam steps; synthesis then stops on its own", () => {
  const c = tacotron2Config("tiny", { nMels: 4 });
  const model = new Tacotron2(c, { generator: new Generator(4) });
  const g = new Generator(5);
  const text = tensor(
    [
      [1, 2, 3, 4],
      [5, 6, 1, 0],
    ],
    { dtype: "int32" },
  );
  const mel = randn([2, 4, 8], { generator: g }).mul(0.5);
  const opt = new optim.Adam(model.parameters(), { lr: 0.02 });
  let first = 0,
    last = 0;
  for (let i = 0; i < 150; i++) {
    const { loss } = model.forward(text, [4, 3], { mel, melLengths: [8, 6] });
    if (i === 0) first = loss!.item();
    last = loss!.item();
    opt.zeroGrad();
    loss!.backward();
    opt.step();
  }
  assert.ok(last < 0.1 * first, `loss ${first} → ${last}`);
  model.eval();
  const { melPost, steps } = noGrad(() => model.infer(tensor([[1, 2, 3, 4]], { dtype: "int32" }), 50));
  assert.equal(steps, 4, "row 0 has 8 frames = 4 steps of r = 2: the stop token fires at the 4th");
  assert.deepEqual(melPost.shape, [1, 4, 8]);
});

test("bad input is refused with the library's errors", () => {
  const c = tacotron2Config("tiny");
  const model = new Tacotron2(c);
  const mel = randn([1, c.nMels, 4]);
  assertThrowsWith(() => tacotron2Config("tiny", { encKernel: 4 }), ArgumentError, /encKernel 4 must be odd/);
  assertThrowsWith(() => tacotron2Config("nope" as "tiny"), ArgumentError, /unknown preset/);
  assertThrowsWith(
    () => model.forward(tensor([[1, 2]], { dtype: "int32" }), [2], { mel: randn([1, c.nMels, 3]), melLengths: [3] }),
    ShapeError,
    /multiple of r = 2/,
  );
  assertThrowsWith(
    () => model.forward(tensor([[1, 9]], { dtype: "int32" }), [2], { mel, melLengths: [4] }),
    ArgumentError,
    /symbol id 9/,
  );
  assertThrowsWith(
    () => model.forward(tensor([[1, 2]], { dtype: "int32" }), [3], { mel, melLengths: [4] }),
    ArgumentError,
    /textLengths/,
  );
  assertThrowsWith(
    () => model.forward(tensor([[1, 2]], { dtype: "int32" }), [2], { mel, melLengths: [5] }),
    ArgumentError,
    /melLengths/,
  );
  assert.ok(PRESETS.small.framesPerStep === 2);
});
