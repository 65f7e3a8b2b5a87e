// HiFi-GAN: parity with the PyTorch reference (tools/fixtures/hifigan.py): the generated wave, every
// sub-discriminator's scores, the discriminators' and the generator's losses (adversarial, feature matching,
// the mel L1 through the differentiable log-mel), every gradient of both; V1's parameter count.
import { readFileSync } from "../../../test/harness/files.js";
import { test } from "node:test";
import assert from "node:assert/strict";
import { ArgumentError, ShapeError } from "../../index.js";
import { assertClose, assertThrowsWith } from "../../../test/harness/assert.js";
import { fromJson, type TensorJson } from "../../../test/harness/fixtures.js";
import { fromTorchName, toTorchName } from "../../nn/names.js";
import { LogMelTransform } from "../../audio/index.js";
import { Discriminators, discriminatorLoss, Generator, generatorLosses, hifiganConfig, hopOf } from "./model.js";

interface Fixture {
  mel_config: { n_fft: number; hop: number; sample_rate: number; n_mels: number };
  g_state: Record<string, TensorJson>;
  d_state: Record<string, TensorJson>;
  mel: TensorJson;
  real: TensorJson;
  fake: TensorJson;
  log_mel_real: TensorJson;
  d_scores_real: TensorJson[];
  d_loss: number;
  adv: number;
  fm: number;
  mel_l1: number;
  g_loss: number;
  d_grads: Record<string, TensorJson>;
  g_grads: Record<string, TensorJson>;
  v1_generator_params: number;
}
const fx = JSON.parse(
  readFileSync(new URL("../../../../test/fixtures/models/hifigan.json", import.meta.url), "utf8"),
) as Fixture;
const load = (s: Record<string, TensorJson>) =>
  Object.fromEntries(Object.entries(s).map(([k, v]) => [fromTorchName(k), fromJson(v)]));
const TOL = { rtol: 1e-9, atol: 1e-11 };

test("HiFi-GAN matches PyTorch: the wave, the scores, the three losses and every gradient of G and D (float64)", () => {
  const c = hifiganConfig("tiny");
  const G = new Generator(c).to("float64"),
    D = new Discriminators(c).to("float64");
  G.loadStateDict(load(fx.g_state));
  D.loadStateDict(load(fx.d_state));
  const mc = fx.mel_config;
  const logMel = new LogMelTransform(
    { nFft: mc.n_fft, hopLength: mc.hop, sampleRate: mc.sample_rate, nMels: mc.n_mels },
    "float64",
  );
  const real = fromJson(fx.real);
  assertClose(logMel.forward(real), fromJson(fx.log_mel_real), TOL, "log-mel of the real wave");
  const fake = G.forward(fromJson(fx.mel));
  assertClose(fake, fromJson(fx.fake), TOL, "generated wave");
  D.forward(real).forEach((d, k) => assertClose(d.score, fromJson(fx.d_scores_real[k]!), TOL, `D_${k}(real)`));

  const dLoss = discriminatorLoss(D.forward(real), D.forward(fake.detach()));
  assert.ok(Math.abs(dLoss.item() - fx.d_loss) < 1e-10, `D loss ${dLoss.item()} vs ${fx.d_loss}`);
  dLoss.backward();
  for (const [n, p] of D.namedParameters())
    assertClose(p.grad!, fromJson(fx.d_grads[toTorchName(n)]!), { rtol: 1e-7, atol: 1e-11 }, `dD/d ${n}`);
  D.zeroGrad();

  const { adversarial, featureMatching } = generatorLosses(D.forward(real), D.forward(fake));
  const melL1 = logMel.forward(fake).sub(logMel.forward(real)).abs().mean();
  const gLoss = adversarial.add(featureMatching.mul(2)).add(melL1.mul(45));
  for (const [name, ours, theirs] of [
    ["adversarial", adversarial, fx.adv],
    ["feature matching", featureMatching, fx.fm],
    ["mel L1", melL1, fx.mel_l1],
    ["G loss", gLoss, fx.g_loss],
  ] as const) {
    assert.ok(
      Math.abs(ours.item() - theirs) < 1e-9 * Math.max(1, Math.abs(theirs)),
      `${name} ${ours.item()} vs ${theirs}`,
    );
  }
  gLoss.backward();
  assert.deepEqual(
    G.namedParameters()
      .map(([n]) => toTorchName(n))
      .sort(),
    Object.keys(fx.g_grads).sort(),
  );
  for (const [n, p] of G.namedParameters())
    assertClose(p.grad!, fromJson(fx.g_grads[toTorchName(n)]!), { rtol: 1e-6, atol: 1e-10 }, `dG/d ${n}`);
});

test("V1 has the generator size PyTorch counts for it (13.9 M, the paper's Table 1)", () => {
  const v1 = new Generator(hifiganConfig("v1"));
  assert.equal(v1.numParameters(), fx.v1_generator_params);
  assert.equal(hopOf(v1.config), 256);
  assert.equal(hopOf(hifiganConfig("small")), 200);
});

test("bad configs and inputs are refused", () => {
  assertThrowsWith(() => hifiganConfig("tiny", { upsampleKernels: [5, 5] }), ArgumentError, /even difference/);
  // a config read from a file: lists that are not lists, widths that are not positive integers
  assertThrowsWith(() => hifiganConfig("tiny", { periods: "2357" as never }), ArgumentError, /periods must be a list/);
  assertThrowsWith(() => hifiganConfig("tiny", { mpdChannels: [-1, 4, 4, 4] }), ArgumentError, /positive integers/);
  assertThrowsWith(
    () => hifiganConfig("tiny", { msdChannels: [16, 16, 16, 16, 16, 8, 4] }),
    ArgumentError,
    /groups 16/,
  );
  assertThrowsWith(
    () => new Generator(hifiganConfig("tiny")).forward(fromJson(fx.real)),
    ShapeError,
    /must be \(B, 4, Tm\)/,
  );
});
