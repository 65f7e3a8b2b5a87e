// The text-to-speech data the TTS recipes share (Tacotron 2, FastSpeech 2, HiFi-GAN): each sentence of the
// synthesized corpus as symbol ids and a log-mel spectrogram, with the frame-level pitch and energy; the
// durations that align symbols with frames for the whole corpus; and padded batches as tensors.
// Browser-safe: the caller decodes the WAV files (src/io/wav.ts) and picks the text front end.

import { tensor } from "../engine/creation.js";
import { ArgumentError } from "../engine/errors.js";
import type { Tensor } from "../engine/tensor.js";
import {
  attentionScores,
  averageByDuration,
  flatStartDurations,
  frameEnergy,
  logMelSpectrogram,
  yinPitch,
} from "../audio/index.js";
import { heatmapPng } from "../io/chart.js";

/** The audio front end of the TTS recipes: 16 kHz (the teacher's rate), 12.5 ms frames, 80 mel bins. */
export interface TtsAudioConfig {
  readonly sampleRate: number;
  readonly nFft: number;
  readonly hopLength: number;
  readonly winLength: number;
  readonly nMels: number;
  readonly fMin: number;
  readonly fMax: number;
}

export const TTS_AUDIO: TtsAudioConfig = Object.freeze({
  sampleRate: 16000,
  nFft: 1024,
  hopLength: 200,
  winLength: 800,
  nMels: 80,
  fMin: 55,
  fMax: 7600,
});

const melOptions = (c: TtsAudioConfig) => ({
  nFft: c.nFft,
  hopLength: c.hopLength,
  winLength: c.winLength,
  sampleRate: c.sampleRate,
  nMels: c.nMels,
  fMin: c.fMin,
  fMax: c.fMax,
  scale: "slaney" as const,
  norm: "slaney" as const,
});

export interface TtsUtterance {
  text: string;
  ids: number[];
  /** log-mel, (nMels, nFrames) row-major */
  mel: Float32Array;
  nFrames: number;
  /** frame-level f0 (Hz, 0 unvoiced) and energy */
  pitch: Float64Array;
  energy: Float64Array;
  /** frames per symbol, once the corpus is aligned */
  durations?: number[];
  /** the trimmed waveform (the vocoder's target) */
  samples: Float32Array;
}

/**
 * Leading and trailing silence cut (frames more than `db` below the loudest, keeping `margin` frames), then
 * the features. The samples must be at the config's rate. `withPitch` false leaves the pitch at 0 (YIN is the
 * slowest feature, and only FastSpeech 2 reads it).
 */
export function prepareUtterance(
  text: string,
  ids: number[],
  samples: Float32Array,
  c: TtsAudioConfig = TTS_AUDIO,
  db = 40,
  margin = 2,
  withPitch = true,
): TtsUtterance {
  if (samples.length < c.nFft)
    throw new ArgumentError(`prepareUtterance: "${text}" has ${samples.length} samples, fewer than nFft ${c.nFft}`);
  const e = frameEnergy(samples, { nFft: c.nFft, hopLength: c.hopLength, winLength: c.winLength });
  const peak = Math.max(...e),
    floor = peak * 10 ** (-db / 20);
  let first = e.findIndex((v) => v > floor),
    last = e.length - 1;
  while (last > first && e[last]! <= floor) last--;
  first = Math.max(0, first - margin);
  last = Math.min(e.length - 1, last + margin);
  const trimmed = samples.slice(first * c.hopLength, Math.min(samples.length, last * c.hopLength + 1));
  const x = trimmed.length > c.nFft ? trimmed : samples;
  const { mel, nFrames } = logMelSpectrogram(x, melOptions(c));
  const energy = frameEnergy(x, { nFft: c.nFft, hopLength: c.hopLength, winLength: c.winLength });
  const pitch = withPitch
    ? yinPitch(x, { sampleRate: c.sampleRate, hopLength: c.hopLength, nFrames })
    : new Float64Array(nFrames);
  return { text, ids, mel: Float32Array.from(mel), nFrames, pitch, energy, samples: Float32Array.from(x) };
}

/** Durations for every utterance by flat-start alignment on the log-mels (utterances with more symbols than frames are dropped). */
export function alignCorpus(utts: TtsUtterance[], nSymbols: number, iterations = 8): TtsUtterance[] {
  const kept = utts.filter((u) => u.ids.length <= u.nFrames);
  if (kept.length === 0) throw new ArgumentError("alignCorpus: no utterance has at least as many frames as symbols");
  const nMels = kept[0]!.mel.length / kept[0]!.nFrames;
  const durations = flatStartDurations(
    kept.map((u) => ({ ids: u.ids, features: Float64Array.from(u.mel), nFrames: u.nFrames })),
    nSymbols,
    nMels,
    iterations,
  );
  kept.forEach((u, i) => (u.durations = durations[i]));
  return kept;
}

/** Per-symbol log f0 (log Hz over voiced frames, 0 if none) and log(1 + energy), from an aligned utterance. */
export function symbolProsody(u: TtsUtterance): { pitch: Float64Array; energy: Float64Array } {
  if (!u.durations) throw new ArgumentError(`symbolProsody: "${u.text}" is not aligned (alignCorpus first)`);
  const logF0 = u.pitch.map((f) => (f > 0 ? Math.log(f) : 0));
  return {
    pitch: averageByDuration(logF0, u.durations, true),
    energy: averageByDuration(u.energy, u.durations).map((e) => Math.log1p(e)),
  };
}

export interface TtsBatch {
  text: Tensor; //       (B, S) int32, 0-padded
  textLengths: number[];
  mel: Tensor; //        (B, nMels, T), T rounded up to a multiple of `multiple`, padded with the silence floor
  melLengths: number[];
  durations: number[][];
  pitch: Tensor; //      (B, S) log Hz
  energy: Tensor; //     (B, S)
}

/** A padded batch of the utterances at `indices`. */
export function ttsBatch(utts: TtsUtterance[], indices: number[], multiple = 1): TtsBatch {
  const rows = indices.map((i) => utts[i]);
  const S = Math.max(...rows.map((u) => u!.ids.length));
  const nMels = rows[0]!.mel.length / rows[0]!.nFrames;
  const T = Math.ceil(Math.max(...rows.map((u) => u!.nFrames)) / multiple) * multiple;
  const text = new Int32Array(rows.length * S);
  const mel = new Float32Array(rows.length * nMels * T).fill(Math.log(1e-5));
  const pitch = new Float32Array(rows.length * S),
    energy = new Float32Array(rows.length * S);
  const durations: number[][] = [];
  rows.forEach((u, b) => {
    text.set(u!.ids, b * S);
    for (let d = 0; d < nMels; d++) mel.set(u!.mel.subarray(d * u!.nFrames, (d + 1) * u!.nFrames), (b * nMels + d) * T);
    if (u!.durations) {
      const p = symbolProsody(u!);
      pitch.set(p.pitch, b * S);
      energy.set(p.energy, b * S);
      durations.push([...u!.durations, ...new Array<number>(S - u!.ids.length).fill(0)]);
    }
  });
  return {
    text: tensor(text, { shape: [rows.length, S], dtype: "int32" }),
    textLengths: rows.map((u) => u!.ids.length),
    mel: tensor(mel, { shape: [rows.length, nMels, T] }),
    melLengths: rows.map((u) => u!.nFrames),
    durations,
    pitch: tensor(pitch, { shape: [rows.length, S] }),
    energy: tensor(energy, { shape: [rows.length, S] }),
  };
}

/** A log-mel (nMels, T), bin-major, as a PNG picture: low bins at the bottom, 2 pixels a cell, −11.5 to 2 (log units). */
export function melPng(mel: ArrayLike<number>, T: number, title: string): Uint8Array {
  const M = TTS_AUDIO.nMels;
  return heatmapPng({
    values: Array.from({ length: M }, (_, d) => Array.from({ length: T }, (_, t) => mel[(M - 1 - d) * T + t]!)),
    title,
    cell: 2,
    range: [-11.5, 2],
  });
}

/**
 * Tacotron 2's attention weights (N decoder steps, S symbols), row-major by step, as a PNG picture: symbols up,
 * steps right, titled with its focus rate and diagonality (src/audio/tts-metrics.ts) after `prefix`.
 */
export function alignmentPng(a: { weights: Float64Array; N: number; S: number }, prefix: string, cell = 2): Uint8Array {
  const { focusRate, diagonality } = attentionScores(a.weights, a.N, a.S);
  return heatmapPng({
    values: Array.from({ length: a.S }, (_, s) =>
      Array.from({ length: a.N }, (_, n) => a.weights[n * a.S + a.S - 1 - s]!),
    ),
    title: `${prefix}focus ${focusRate.toFixed(2)}, diagonality ${diagonality.toFixed(2)}`,
    cell,
    range: [0, 1],
  });
}
