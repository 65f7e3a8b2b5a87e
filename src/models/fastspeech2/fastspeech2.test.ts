// FastSpeech 2: parity with the PyTorch reference (tools/fixtures/fastspeech2.py: FFT blocks, variance adaptor,
// length regulator, every gradient), the length regulator alone, overfitting one batch, synthesis from
// predicted durations, and errors.
import { readFileSync } from "../../../test/harness/files.js";
import { test } from "node:test";
import assert from "node:assert/strict";
import { ArgumentError, Generator, noGrad, randn, ShapeError, tensor } from "../../index.js";
import { assertClose, assertThrowsWith } from "../../../test/harness/assert.js";
import { fromJson, type TensorJson } from "../../../test/harness/fixtures.js";
import { fromTorchName, toTorchName } from "../../nn/names.js";
import * as optim from "../../optim/index.js";
import { countParameters, FastSpeech2, fastSpeech2Config, lengthRegulate } from "./model.js";

interface Fixture {
  state: Record<string, TensorJson>;
  text: TensorJson;
  text_lengths: number[];
  durations: number[][];
  pitch: TensorJson;
  energy: TensorJson;
  mel_target: TensorJson;
  mel: TensorJson;
  log_duration: TensorJson;
  pitch_hat: TensorJson;
  energy_hat: TensorJson;
  mel_lengths: number[];
  loss: number;
  grads: Record<string, TensorJson>;
  num_params: number;
  paper_params: number;
}
const fx = JSON.parse(
  readFileSync(new URL("../../../../test/fixtures/models/fastspeech2.json", import.meta.url), "utf8"),
) as Fixture;

test("FastSpeech 2 matches PyTorch: mel, predicted durations, pitch and energy, loss and every gradient (float64)", () => {
  const model = new FastSpeech2(fastSpeech2Config("tiny"), { generator: new Generator(0) }).to("float64");
  model.loadStateDict(Object.fromEntries(Object.entries(fx.state).map(([k, v]) => [fromTorchName(k), fromJson(v)])));
  const out = model.forward(fromJson(fx.text), fx.text_lengths, {
    durations: fx.durations,
    pitch: fromJson(fx.pitch),
    energy: fromJson(fx.energy),
    mel: fromJson(fx.mel_target),
  });
  const tol = { rtol: 1e-9, atol: 1e-10 };
  assert.deepEqual(out.melLengths, fx.mel_lengths);
  assertClose(out.mel, fromJson(fx.mel), tol, "mel");
  assertClose(out.logDuration, fromJson(fx.log_duration), tol, "logDuration");
  assertClose(out.pitch, fromJson(fx.pitch_hat), tol, "pitch");
  assertClose(out.energy, fromJson(fx.energy_hat), tol, "energy");
  assert.ok(Math.abs(out.loss!.item() - fx.loss) < 1e-10, `loss ${out.loss!.item()} vs PyTorch ${fx.loss}`);
  out.loss!.backward();
  assert.deepEqual(
    model
      .namedParameters()
      .map(([n]) => toTorchName(n))
      .sort(),
    Object.keys(fx.grads).sort(),
  );
  for (const [n, p] of model.namedParameters())
    assertClose(p.grad!, fromJson(fx.grads[toTorchName(n)]!), { rtol: 1e-7, atol: 1e-10 }, `d loss/d ${n}`);
  assert.equal(model.numParameters(), fx.num_params);
  assert.equal(countParameters(model.config), fx.num_params);
  assert.equal(countParameters(fastSpeech2Config("paper")), fx.paper_params);
});

test("the length regulator repeats each symbol's state for its frames, pads with zeros, and routes gradients back", () => {
  const h = tensor(
    [
      [
        [1, 10],
        [2, 20],
        [3, 30],
      ],
      [
        [4, 40],
        [5, 50],
        [6, 60],
      ],
    ],
    { requiresGrad: true },
  );
  const { frames, lengths } = lengthRegulate(h, [
    [2, 0, 1],
    [1, 1, 0],
  ]);
  assert.deepEqual(lengths, [3, 2]);
  assert.deepEqual(frames.toArray(), [
    [
      [1, 10],
      [1, 10],
      [3, 30],
    ],
    [
      [4, 40],
      [5, 50],
      [0, 0],
    ],
  ]);
  frames.sum().backward();
  assert.deepEqual(h.grad!.toArray(), [
    [
      [2, 2],
      [0, 0],
      [1, 1],
    ],
    [
      [1, 1],
      [1, 1],
      [0, 0],
    ],
  ]);
  assertThrowsWith(
    () =>
      lengthRegulate(h, [
        [1, 1],
        [1, 1],
      ]),
    ArgumentError,
    /2 rows of 3 non-negative integers/,
  );
  assertThrowsWith(
    () =>
      lengthRegulate(h, [
        [1, -1, 1],
        [1, 1, 1],
      ]),
    ArgumentError,
    /non-negative/,
  );
});

test("overfits one batch (loss falls by 80% in 120 Adam steps) and then synthesizes with its own durations", () => {
  const c = fastSpeech2Config("tiny", { nMels: 4 });
  const model = new FastSpeech2(c, { generator: new Generator(3) });
  const g = new Generator(4);
  const text = tensor(
    [
      [1, 2, 3],
      [4, 5, 0],
    ],
    { dtype: "int32" },
  );
  const durations = [
    [2, 1, 3],
    [1, 2, 0],
  ];
  const targets = {
    durations,
    pitch: tensor([
      [4.5, 5, 5.5],
      [5, 6, 0],
    ]),
    energy: tensor([
      [0.2, 0.5, 0.7],
      [0.9, 0.1, 0],
    ]),
    mel: randn([2, 4, 6], { generator: g }),
  };
  const opt = new optim.Adam(model.parameters(), { lr: 0.01 });
  let first = 0,
    last = 0;
  for (let i = 0; i < 120; i++) {
    const { loss } = model.forward(text, [3, 2], targets);
    if (i === 0) first = loss!.item();
    last = loss!.item();
    opt.zeroGrad();
    loss!.backward();
    opt.step();
  }
  assert.ok(last < 0.2 * first, `loss ${first} → ${last}`);
  model.eval();
  const out = noGrad(() => model.forward(tensor([[1, 2, 3]], { dtype: "int32" }), [3]));
  assert.deepEqual(out.melLengths, [6], "the learned durations 2 + 1 + 3");
  assert.deepEqual(out.mel.shape, [1, 4, 6]);
});

test("bad input is refused with the library's errors", () => {
  const model = new FastSpeech2(fastSpeech2Config("tiny"));
  assertThrowsWith(() => fastSpeech2Config("tiny", { dModel: 9 }), ArgumentError, /multiple of nHead/);
  assertThrowsWith(() => model.forward(tensor([[1, 8]], { dtype: "int32" }), [2]), ArgumentError, /symbol id 8/);
  assertThrowsWith(() => model.forward(tensor([[1.5, 2]]), [2]), ShapeError, /int32/);
  assertThrowsWith(
    () =>
      // 4 frames of durations, a target of 3: the target may be padded past the durations, never shorter
      model.forward(tensor([[1, 2]], { dtype: "int32" }), [2], {
        durations: [[2, 2]],
        pitch: tensor([[5, 5]]),
        energy: tensor([[0, 0]]),
        mel: randn([1, 5, 3]),
      }),
    ShapeError,
    /target mel/,
  );
});
