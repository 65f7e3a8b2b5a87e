// Synthesis with a trained TTS model (`wnn say`) and its measurement on the held-out sentences (`wnn eval` of a
// TTS run, docs/compare/tts.md): text → log-mel (Tacotron 2 greedy until its stop token; FastSpeech 2 with its own
// durations) → waveform (Griffin-Lim, or a trained vocoder's generator). The numbers, each against the teacher's
// audio of the same sentence (src/audio/tts-metrics.ts):
//
//   MCD        mel cepstral distortion (dB), DTW-aligned, of the synthesized waveform's log-mel against the teacher's
//   duration   predicted frames / teacher frames, summed over the sentences
//   focus, diagonality   Tacotron 2's attention during synthesis
//   RTF        synthesis seconds (model and vocoder, this machine) / seconds of audio made
//   floor      the teacher's own log-mel through the same vocoder: what the vocoder alone costs
//
// Browser-safe.

import { noGrad } from "../engine/autograd.js";
import { ArgumentError } from "../engine/errors.js";
import { tensor } from "../engine/creation.js";
import { attentionScores, logMelSpectrogram, melCepstralDistortion } from "../audio/index.js";
import { Tacotron2 } from "../models/tacotron2/model.js";
import { FastSpeech2 } from "../models/fastspeech2/model.js";
import type { Generator as HiFiGenerator } from "../models/hifigan/model.js";
import { melToSamples } from "../models/fastspeech2/recipe.js";
import { TTS_AUDIO, type TtsUtterance } from "./tts-data.js";

/** A waveform maker: Griffin-Lim with so many iterations, or a trained HiFi-GAN generator. */
export type Vocoder = { kind: "griffin-lim"; iterations: number } | { kind: "neural"; generator: HiFiGenerator };

export interface Synthesis {
  /** log-mel (nMels, T) row-major */
  mel: Float64Array;
  T: number;
  /** Tacotron 2's alignment (N steps, S symbols), and whether the stop token fired before maxFrames */
  alignment?: { weights: Float64Array; N: number; S: number };
  stopped?: boolean;
}

/** text ids → log-mel with a trained acoustic model; Tacotron 2 stops at its stop token or after maxFrames frames. */
export function synthesizeMel(model: Tacotron2 | FastSpeech2, ids: number[], maxFrames: number): Synthesis {
  if (ids.length === 0) throw new ArgumentError("synthesize: the text holds no symbol to speak");
  const text = tensor(ids, { shape: [1, ids.length], dtype: "int32" });
  return noGrad(() => {
    if (model instanceof Tacotron2) {
      const r = model.config.framesPerStep;
      const maxSteps = Math.max(1, Math.ceil(maxFrames / r));
      const out = model.infer(text, maxSteps);
      const T = out.melPost.shape[2]!;
      const [, N, S] = out.alignments.shape as [number, number, number];
      return {
        mel: Float64Array.from(out.melPost.dataSync()),
        T,
        alignment: { weights: Float64Array.from(out.alignments.dataSync()), N, S },
        stopped: out.steps < maxSteps,
      };
    }
    const out = model.forward(text, [ids.length]);
    return { mel: Float64Array.from(out.mel.dataSync()), T: out.mel.shape[2]! };
  });
}

/** log-mel (nMels, T) → samples at 16 kHz. */
export function vocode(mel: Float64Array, T: number, vocoder: Vocoder): Float32Array {
  if (vocoder.kind === "griffin-lim") return melToSamples(mel, T, vocoder.iterations);
  const M = TTS_AUDIO.nMels;
  return noGrad(() =>
    Float32Array.from(vocoder.generator.forward(tensor(Float32Array.from(mel), { shape: [1, M, T] })).dataSync()),
  );
}

export interface TtsEvalRow {
  text: string;
  mcd: number;
  floorMcd: number;
  predFrames: number;
  teacherFrames: number;
  focusRate?: number;
  diagonality?: number;
  seconds: number;
  audioSeconds: number;
}

/** The log-mel of samples, as the recipes compute the teacher's. */
function melOf(samples: Float32Array): { mel: Float64Array; T: number } {
  const c = TTS_AUDIO;
  const { mel, nFrames } = logMelSpectrogram(samples, {
    nFft: c.nFft,
    hopLength: c.hopLength,
    winLength: c.winLength,
    sampleRate: c.sampleRate,
    nMels: c.nMels,
    fMin: c.fMin,
    fMax: c.fMax,
    scale: "slaney",
    norm: "slaney",
  });
  return { mel: Float64Array.from(mel), T: nFrames };
}

/** MCD (dB) of a waveform's log-mel against the teacher's log-mel of the same sentence. */
export function teacherMcd(u: TtsUtterance, wave: Float32Array): number {
  const heard = melOf(wave);
  return melCepstralDistortion(u.mel, u.nFrames, heard.mel, heard.T, TTS_AUDIO.nMels);
}

/** A vocoder on the teacher's own log-mels: its MCD against the teacher and its real-time factor. */
export function evaluateTeacherMels(
  held: TtsUtterance[],
  vocoder: Vocoder,
  now: () => number,
): { mcd: number; rtf: number } {
  let mcd = 0,
    secs = 0,
    audio = 0;
  for (const u of held) {
    const t0 = now();
    const wave = vocode(Float64Array.from(u.mel), u.nFrames, vocoder);
    secs += now() - t0;
    audio += wave.length / TTS_AUDIO.sampleRate;
    mcd += teacherMcd(u, wave);
  }
  return { mcd: mcd / held.length, rtf: secs / audio };
}

/**
 * Each held-out sentence synthesized and measured against the teacher (`now` reads a clock in seconds).
 * Tacotron 2 may run to 3 × the teacher's frames before it is cut.
 */
export function evaluateTts(
  model: Tacotron2 | FastSpeech2,
  held: TtsUtterance[],
  vocoder: Vocoder,
  now: () => number,
): TtsEvalRow[] {
  return held.map((u) => {
    const t0 = now();
    const s = synthesizeMel(model, u.ids, 3 * u.nFrames);
    const wave = vocode(s.mel, s.T, vocoder);
    const seconds = now() - t0;
    const row: TtsEvalRow = {
      text: u.text,
      mcd: teacherMcd(u, wave),
      floorMcd: teacherMcd(u, vocode(Float64Array.from(u.mel), u.nFrames, vocoder)),
      predFrames: s.T,
      teacherFrames: u.nFrames,
      seconds,
      audioSeconds: wave.length / TTS_AUDIO.sampleRate,
    };
    if (s.alignment) Object.assign(row, attentionScores(s.alignment.weights, s.alignment.N, s.alignment.S));
    return row;
  });
}

/** The rows summed up: mean MCD and floor, the duration ratio, mean focus and diagonality, the real-time factor. */
export function summarizeTts(rows: TtsEvalRow[]): Record<string, number> {
  const mean = (f: (r: TtsEvalRow) => number) => rows.reduce((a, r) => a + f(r), 0) / rows.length;
  const out: Record<string, number> = {
    sentences: rows.length,
    mcd: mean((r) => r.mcd),
    floorMcd: mean((r) => r.floorMcd),
    durationRatio: rows.reduce((a, r) => a + r.predFrames, 0) / rows.reduce((a, r) => a + r.teacherFrames, 0),
    realTimeFactor: rows.reduce((a, r) => a + r.seconds, 0) / rows.reduce((a, r) => a + r.audioSeconds, 0),
  };
  if (rows[0]?.focusRate !== undefined) {
    out.focusRate = mean((r) => r.focusRate!);
    out.diagonality = mean((r) => r.diagonality!);
  }
  return out;
}
