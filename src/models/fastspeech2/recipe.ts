// `wnn train fastspeech2`: FastSpeech 2 on the synthesized speech corpus (docs/audio.md). Needs data.speech (the
// teacher's WAVs and their sentences; the CLI builds the corpus once and caches it). The sentences are turned
// into log-mels, pitch and energy (src/recipes/tts-data.ts), aligned by flat-start Viterbi training, and the
// model is trained with Adam on padded batches; the first `heldOut` sentences are never trained on. Reported:
// the held-out mel L1 with the true durations, the ratio of predicted to teacher duration, and the held-out
// sentence through Griffin-Lim as a WAV.

import type { Generator } from "../../engine/rng.js";
import { ArgumentError } from "../../engine/errors.js";
import { noGrad } from "../../engine/autograd.js";
import { Adam } from "../../optim/adam.js";
import { decodeWav, encodeWav } from "../../io/wav.js";
import { lineChartPng } from "../../io/chart.js";
import { charFrontEnd, phonemeFrontEnd, type TextFrontEnd } from "../../data/speech.js";
import { griffinLim, inverseMel, melFilterBank } from "../../audio/index.js";
import type { Recipe, RecipeData, RecipeHooks, RecipeResult } from "../../recipes/recipe.js";
import { runLoopSync, type TrainingJob } from "../../recipes/loop.js";
import {
  alignCorpus,
  prepareUtterance,
  symbolProsody,
  melPng,
  ttsBatch,
  TTS_AUDIO,
  type TtsUtterance,
} from "../../recipes/tts-data.js";
import { FastSpeech2, fastSpeech2Config, PRESETS } from "./model.js";

export interface FastSpeech2RecipeOptions extends Record<string, number | string | boolean> {
  /** the corpus: this many Moby Dick sentences and a tenth as many short prompts (read by the CLI) */
  sentences: number;
  steps: number;
  batchSize: number;
  lr: number;
  /** sentences kept out of training, evaluated every evalEvery steps */
  heldOut: number;
  evalEvery: number;
  /** "phonemes" (CMUdict, letters for unknown words) or "chars" */
  frontEnd: string;
  /** a preset of model.ts: "small" (default) or "tiny" */
  preset: string;
  /** flat-start alignment iterations */
  alignIterations: number;
  /** Griffin-Lim iterations for the held-out WAV */
  griffinLimIterations: number;
}

export const fastspeech2Recipe: Recipe<FastSpeech2RecipeOptions> = {
  name: "fastspeech2",
  paper:
    "Ren, Hu, Tan, Qin, Zhao, Zhao, Liu 2021, FastSpeech 2: Fast and High-Quality End-to-End Text to Speech, https://arxiv.org/abs/2006.04558",
  trainsOn: "the synthesized speech corpus (Moby Dick sentences read by the flite teacher voice)",
  needs: ["speech"],
  defaults: Object.freeze({
    sentences: 1000,
    steps: 3000,
    batchSize: 16,
    lr: 1e-3,
    heldOut: 20,
    evalEvery: 250,
    frontEnd: "phonemes",
    preset: "small",
    alignIterations: 8,
    griffinLimIterations: 60,
  }),

  run(options: FastSpeech2RecipeOptions, data: RecipeData, hooks: RecipeHooks, generator: Generator): RecipeResult {
    const o = { ...this.defaults, ...options };
    if (!data.speech)
      throw new ArgumentError(
        "fastspeech2: needs data.speech (buildSpeechCorpus and loadSpeechCorpus from writtingnns/node)",
      );
    if (!(o.preset in PRESETS))
      throw new ArgumentError(`fastspeech2: preset must be one of ${Object.keys(PRESETS).join(", ")}, got ${o.preset}`);
    const fe = frontEndOf(o.frontEnd, data);
    const t0 = globalThis.performance.now();
    const prepared = data.speech.items.map((it) => {
      const wav = decodeWav(it.wav);
      if (wav.sampleRate !== TTS_AUDIO.sampleRate)
        throw new ArgumentError(
          `fastspeech2: "${it.text}" is at ${wav.sampleRate} Hz, the recipe reads ${TTS_AUDIO.sampleRate} Hz`,
        );
      return prepareUtterance(it.text, fe.encode(it.text), wav.channels[0]!);
    });
    const utts = alignCorpus(prepared, fe.symbols.length, o.alignIterations);
    if (utts.length <= o.heldOut)
      throw new ArgumentError(`fastspeech2: ${utts.length} usable sentences, not more than heldOut ${o.heldOut}`);
    const held = utts.slice(0, o.heldOut),
      train = utts.slice(o.heldOut);
    const prepSeconds = (globalThis.performance.now() - t0) / 1000;

    const preset = PRESETS[o.preset as keyof typeof PRESETS];
    const maxLen = Math.max(preset.maxLen, ...utts.map((u) => 2 * u.nFrames)); // room for predicted durations longer than the teacher's
    const model = new FastSpeech2(
      fastSpeech2Config(preset, { nSymbols: fe.symbols.length, nMels: TTS_AUDIO.nMels, maxLen }),
      { generator },
    );
    model.setBins(...prosodyRange(train));
    const optimizer = new Adam(model.parameters(), { lr: o.lr });
    hooks.log(
      `fastspeech2: ${model.numParameters()} parameters; ${train.length} training and ${held.length} held-out sentences (${fe.kind}); features and alignment in ${prepSeconds.toFixed(1)} s`,
    );

    const trainLoss: [number, number][] = [],
      valLoss: [number, number][] = [];
    const job: TrainingJob<{ loss: number }, { val: number }> & { step: number } = {
      step: 0,
      totalSteps: o.steps,
      trainStep() {
        const idx = Array.from({ length: o.batchSize }, () => generator.randint(0, train.length));
        const b = ttsBatch(train, idx);
        const { loss } = model.forward(b.text, b.textLengths, {
          durations: b.durations,
          pitch: b.pitch,
          energy: b.energy,
          mel: b.mel,
        });
        optimizer.zeroGrad();
        loss!.backward();
        optimizer.step();
        this.step++;
        trainLoss.push([this.step, loss!.item()]);
        return { loss: loss!.item() };
      },
      evalDue() {
        return this.step % o.evalEvery === 0 || this.step === o.steps;
      },
      *evaluate() {
        const v = heldOutLoss(model, held);
        valLoss.push([this.step, v]);
        yield;
        return { val: v };
      },
    };
    const t1 = globalThis.performance.now();
    runLoopSync(job, {
      onStep: (step, m) => hooks.progress?.(step, o.steps, m),
      onEval: (step, m) => hooks.log(`step ${step}: held-out loss ${m.val.toFixed(4)}`),
    });
    const trainSeconds = (globalThis.performance.now() - t1) / 1000;

    // the held-out sentences with the model's own durations: the ratio of predicted to teacher frames
    model.eval();
    let predFrames = 0,
      teacherFrames = 0;
    for (const u of held) {
      const out = noGrad(() => model.forward(ttsBatch([u], [0]).text, [u.ids.length]));
      predFrames += out.melLengths[0]!;
      teacherFrames += u.nFrames;
    }
    const first = held[0]!;
    const out = noGrad(() => model.forward(ttsBatch([first!], [0]).text, [first.ids.length]));
    const wav = melToWav(Float64Array.from(out.mel.dataSync()), out.mel.shape[2]!, o.griffinLimIterations);
    const T = out.mel.shape[2];
    return {
      metrics: {
        heldOutLoss: valLoss[valLoss.length - 1]![1],
        trainLoss: trainLoss[trainLoss.length - 1]![1],
        durationRatio: predFrames / teacherFrames,
        trainSeconds,
        prepSeconds,
        steps: o.steps,
        parameters: model.numParameters(),
        trainSentences: train.length,
        heldOutSentences: held.length,
      },
      images: {
        "loss.png": lineChartPng({
          series: [
            { name: "train", points: trainLoss },
            { name: "held-out", points: valLoss },
          ],
          title: "FastSpeech 2: L1(mel) + MSE(log d, pitch, energy)",
          xLabel: "step",
          yLabel: "loss",
        }),
        "mel-teacher.png": melPng(first.mel, first.nFrames, `teacher: ${first.text}`),
        "mel-predicted.png": melPng(out.mel.dataSync(), T!, `FastSpeech 2: ${first.text}`),
      },
      audio: { "held-out-0.wav": wav },
      samples: [first.text],
    };
  },
};

/** The text front end a recipe option names; phonemes need data.pronunciations (CMUdict). */
export function frontEndOf(name: string, data: RecipeData): TextFrontEnd {
  if (name === "chars") return charFrontEnd();
  if (name === "phonemes") {
    if (!data.pronunciations)
      throw new ArgumentError("the phoneme front end needs data.pronunciations (loadCmudict from writtingnns/node)");
    return phonemeFrontEnd(data.pronunciations);
  }
  throw new ArgumentError(`frontEnd must be "phonemes" or "chars", got ${name}`);
}

/** The corpus's range of per-symbol log f0 (voiced) and log energy, for the bins. */
export function prosodyRange(utts: TtsUtterance[]): [[number, number], [number, number]] {
  let pLo = Infinity,
    pHi = -Infinity,
    eLo = Infinity,
    eHi = -Infinity;
  for (const u of utts) {
    const p = symbolProsody(u);
    for (const v of p.pitch)
      if (v > 0) {
        pLo = Math.min(pLo, v);
        pHi = Math.max(pHi, v);
      }
    for (const v of p.energy) {
      eLo = Math.min(eLo, v);
      eHi = Math.max(eHi, v);
    }
  }
  if (!(pHi > pLo)) {
    pLo = Math.log(60);
    pHi = Math.log(500);
  }
  if (!(eHi > eLo)) {
    eLo = 0;
    eHi = 1;
  }
  return [
    [pLo, pHi],
    [eLo, eHi],
  ];
}

/** The held-out loss with the true durations, pitch and energy, in batches of 8. */
export function heldOutLoss(model: FastSpeech2, held: TtsUtterance[]): number {
  model.eval();
  let sum = 0;
  for (let i = 0; i < held.length; i += 8) {
    const idx = Array.from({ length: Math.min(8, held.length - i) }, (_, k) => i + k);
    const b = ttsBatch(held, idx);
    sum +=
      idx.length *
      noGrad(() =>
        model
          .forward(b.text, b.textLengths, { durations: b.durations, pitch: b.pitch, energy: b.energy, mel: b.mel })
          .loss!.item(),
      );
  }
  model.train();
  return sum / held.length;
}

/** A log-mel (nMels, T) → 16-bit WAV through NNLS mel inversion and Griffin-Lim, peak-normalised to 0.9. */
export function melToWav(logMel: Float64Array, T: number, nIter: number): Uint8Array {
  return encodeWav({ sampleRate: TTS_AUDIO.sampleRate, channels: [melToSamples(logMel, T, nIter)] });
}

/** A log-mel (nMels, T) → samples through NNLS mel inversion and Griffin-Lim, peak-normalised to 0.9. */
export function melToSamples(logMel: Float64Array, T: number, nIter: number): Float32Array {
  const c = TTS_AUDIO,
    nFreq = c.nFft / 2 + 1;
  // fewer frames than one window spans (an untrained model's durations) are padded with silence
  const minFrames = Math.ceil(c.nFft / c.hopLength) + 1;
  if (T < minFrames) {
    const padded = new Float64Array(c.nMels * minFrames).fill(Math.log(1e-5));
    for (let d = 0; d < c.nMels; d++) padded.set(logMel.subarray(d * T, (d + 1) * T), d * minFrames);
    return melToSamples(padded, minFrames, nIter);
  }
  const fb = melFilterBank(nFreq, {
    sampleRate: c.sampleRate,
    nMels: c.nMels,
    fMin: c.fMin,
    fMax: c.fMax,
    scale: "slaney",
    norm: "slaney",
  });
  // log-mels clamped to the corpus's range (−11.5 is the silence floor) so that an untrained model stays finite
  const lin = inverseMel(
    logMel.map((v) => Math.exp(Math.min(5, Math.max(-11.6, Number.isFinite(v) ? v : -11.6)))),
    c.nMels,
    T,
    fb,
    nFreq,
    100,
  );
  const y = griffinLim(lin, nFreq, T, {
    nFft: c.nFft,
    hopLength: c.hopLength,
    winLength: c.winLength,
    power: 1,
    nIter,
  });
  let peak = 1e-9;
  for (const v of y) peak = Math.max(peak, Math.abs(v));
  return Float32Array.from(y, (v) => (0.9 * v) / peak);
}
