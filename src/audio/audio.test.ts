// The audio front end against torch.stft / torch.istft and torchaudio (fixtures from
// tools/fixtures/audio.py, float64), plus the properties the fixtures do not show.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ArgumentError } from "../index.js";
import { assertClose, assertThrowsWith } from "../../test/harness/assert.js";
import { loadFixtures, type TensorJson } from "../../test/harness/fixtures.js";
import {
  Fft,
  griffinLim,
  hannWindow,
  hzToMel,
  inverseMel,
  istft,
  logMelSpectrogram,
  magnitude,
  melFilterBank,
  melToHz,
  spectralConvergence,
  stft,
  applyFilterBank,
} from "./index.js";
import { Generator } from "../engine/rng.js";

const f64 = (t: TensorJson) => Float64Array.from(t.data as number[]);
const TOL = { rtol: 1e-9, atol: 1e-9 };

test("PyTorch fixtures audio/front-end.json: stft, istft, mel filter banks, Griffin-Lim", async (t) => {
  const cases = loadFixtures("audio/front-end.json");
  assert.ok(cases.length >= 20);
  for (const c of cases) {
    const a = c.args as Record<string, any>;
    const opts = { nFft: a.nFft, hopLength: a.hopLength, winLength: a.winLength, center: a.center, length: a.length };
    await t.test(`${c.op}: ${c.label}`, () => {
      if (c.op === "stft") {
        const X = stft(f64(c.inputs[0]!), opts);
        assert.deepEqual([X.nFreq, X.nFrames], c.outputs[0]!.shape);
        assertClose(X.re, f64(c.outputs[0]!), TOL, "re");
        assertClose(X.im, f64(c.outputs[1]!), TOL, "im");
      } else if (c.op === "istft" || c.op === "istftRefused") {
        const [nFreq, nFrames] = c.inputs[0]!.shape;
        const spec = { re: f64(c.inputs[0]!), im: f64(c.inputs[1]!), nFreq: nFreq!, nFrames: nFrames! };
        if (c.op === "istftRefused") assertThrowsWith(() => istft(spec, opts), ArgumentError, /overlap-add is zero/);
        else assertClose(istft(spec, opts), f64(c.outputs[0]!), TOL, "y");
      } else if (c.op === "melFilterBank") {
        const fb = melFilterBank(a.nFreqs, {
          sampleRate: a.sampleRate,
          nMels: a.nMels,
          fMin: a.fMin,
          fMax: a.fMax,
          scale: a.scale,
          norm: a.norm,
        });
        // torchaudio computes the bank in float32
        assertClose(fb, f64(c.outputs[0]!), { rtol: 1e-5, atol: 1e-6 }, "fb");
      } else if (c.op === "griffinLim") {
        const [nFreq, nFrames] = c.inputs[0]!.shape;
        const y = griffinLim(f64(c.inputs[0]!), nFreq!, nFrames!, {
          nFft: a.nFft,
          hopLength: a.hopLength,
          nIter: a.nIter,
          momentum: a.momentum,
          power: a.power,
          length: a.length,
        });
        assertClose(y, f64(c.outputs[0]!), { rtol: 1e-7, atol: 1e-7 }, "y");
      } else assert.fail(`no call for fixture op ${c.op}`);
    });
  }
});

test("the FFT equals the direct DFT for powers of two and other sizes, both directions", () => {
  const g = new Generator(3);
  for (const n of [1, 2, 8, 64, 6, 15, 100]) {
    const re = Float64Array.from({ length: n }, () => g.normal()),
      im = Float64Array.from({ length: n }, () => g.normal());
    for (const sign of [-1, 1] as const) {
      const r = re.slice(),
        i = im.slice();
      new Fft(n).transform(r, i, sign);
      const er = new Float64Array(n),
        ei = new Float64Array(n);
      for (let k = 0; k < n; k++)
        for (let j = 0; j < n; j++) {
          const ang = (sign * 2 * Math.PI * k * j) / n;
          er[k]! += re[j]! * Math.cos(ang) - im[j]! * Math.sin(ang);
          ei[k]! += re[j]! * Math.sin(ang) + im[j]! * Math.cos(ang);
        }
      assertClose(r, er, { rtol: 1e-9, atol: 1e-9 }, `re n=${n}`);
      assertClose(i, ei, { rtol: 1e-9, atol: 1e-9 }, `im n=${n}`);
    }
  }
});

test("istft(stft(x)) gives x back (centred Hann frames overlap enough)", () => {
  const g = new Generator(5);
  const x = Float64Array.from({ length: 777 }, () => g.normal());
  for (const [nFft, hop] of [
    [64, 16],
    [100, 25],
    [256, 64],
  ]) {
    const y = istft(stft(x, { nFft: nFft!, hopLength: hop }), { nFft: nFft!, hopLength: hop, length: x.length });
    assertClose(y, x, { rtol: 1e-9, atol: 1e-9 }, `nFft ${nFft}`);
  }
});

test("mel scales: hzToMel and melToHz invert each other; Slaney is linear below 1 kHz", () => {
  for (const scale of ["htk", "slaney"] as const) {
    for (const f of [0, 100, 999, 1000, 1001, 4000, 11025])
      assert.ok(Math.abs(melToHz(hzToMel(f, scale), scale) - f) < 1e-9 * Math.max(1, f));
  }
  assert.equal(hzToMel(600, "slaney"), 9);
  assert.equal(hzToMel(1000, "slaney"), 15);
  assert.ok(Math.abs(hzToMel(1000, "htk") - 1000) < 0.1); // the HTK scale's anchor: 1000 Hz ≈ 1000 mel
});

test("Griffin-Lim reaches a signal whose magnitude is close to the target; more iterations get closer", () => {
  const n = 4000,
    sr = 8000;
  const x = Float64Array.from(
    { length: n },
    (_, i) => Math.sin(2 * Math.PI * 440 * (i / sr)) + 0.5 * Math.sin(2 * Math.PI * 1320 * (i / sr)),
  );
  const o = { nFft: 256, hopLength: 64 };
  const X = stft(x, o);
  const S = magnitude(X, 1);
  const sc = (nIter: number) =>
    spectralConvergence(griffinLim(S, X.nFreq, X.nFrames, { ...o, power: 1, nIter, length: n }), S, o);
  const [few, many] = [sc(2), sc(40)];
  assert.ok(many < few, `40 iterations (${many}) should beat 2 (${few})`);
  assert.ok(many < 0.1, `spectral convergence after 40 iterations: ${many}`);
});

test("inverseMel: a linear spectrogram whose mel projection matches the given mels", () => {
  const x = Float64Array.from({ length: 3200 }, (_, i) => Math.sin(0.05 * i) * Math.sin((0.0011 * i * i) / 100));
  const X = stft(x, { nFft: 256, hopLength: 64 });
  const S = magnitude(X, 1);
  const fb = melFilterBank(X.nFreq, { sampleRate: 16000, nMels: 40, norm: "slaney", scale: "slaney" });
  const mel = applyFilterBank(S, X.nFreq, X.nFrames, fb, 40);
  const back = applyFilterBank(inverseMel(mel, 40, X.nFrames, fb, X.nFreq, 300), X.nFreq, X.nFrames, fb, 40);
  let num = 0,
    den = 0;
  for (let i = 0; i < mel.length; i++) {
    num += (back[i]! - mel[i]!) ** 2;
    den += mel[i]! ** 2;
  }
  assert.ok(Math.sqrt(num / den) < 0.05, `relative error of the re-projected mels: ${Math.sqrt(num / den)}`);
});

test("logMelSpectrogram: (nMels, frames), floored before the log", () => {
  const { mel, nMels, nFrames } = logMelSpectrogram(new Float64Array(1600), {
    nFft: 400,
    hopLength: 160,
    sampleRate: 16000,
    nMels: 80,
  });
  assert.equal(nMels, 80);
  assert.equal(nFrames, 11);
  assert.ok(mel.every((v) => v === Math.log(1e-5)));
});

test("bad arguments are refused with ArgumentError naming the function", () => {
  assertThrowsWith(() => stft(new Float64Array(4), { nFft: 16 }), ArgumentError, /stft: reflection padding/);
  assertThrowsWith(() => stft(new Float64Array(100), { nFft: 16, winLength: 17 }), ArgumentError, /winLength/);
  assertThrowsWith(() => stft(new Float64Array(100), { nFft: 0 }), ArgumentError, /nFft/);
  assertThrowsWith(() => stft(new Float64Array(100), { nFft: 16, hopLength: 0 }), ArgumentError, /hopLength/);
  assertThrowsWith(() => melFilterBank(201, { sampleRate: 16000, nMels: 80, fMax: 9000 }), ArgumentError, /fMax/);
  assertThrowsWith(
    () => istft({ re: new Float64Array(10), im: new Float64Array(10), nFreq: 5, nFrames: 2 }, { nFft: 16 }),
    ArgumentError,
    /9 bins/,
  );
  assertThrowsWith(() => griffinLim(new Float64Array(9), 9, 1, { nFft: 16, momentum: 1 }), ArgumentError, /momentum/);
  assertClose(hannWindow(4), [0, 0.5, 1, 0.5], { rtol: 0, atol: 1e-15 }, "periodic Hann of 4");
});
