// The audio front end of text-to-speech: STFT and its inverse, mel filter banks, log-mel spectrograms,
// Griffin-Lim. Plain numeric arrays in and out (float64), browser-safe; WAV files are in src/io/wav.ts.
export {
  stft,
  istft,
  magnitude,
  hannWindow,
  Fft,
  type StftOptions,
  type IstftOptions,
  type Spectrogram,
} from "./stft.js";
export {
  hzToMel,
  melToHz,
  melFilterBank,
  applyFilterBank,
  logMelSpectrogram,
  type MelScale,
  type MelOptions,
  type LogMelOptions,
} from "./mel.js";
export { griffinLim, spectralConvergence, inverseMel, type GriffinLimOptions } from "./griffin-lim.js";
export {
  frameEnergy,
  yinPitch,
  monotonicAlignment,
  averageByDuration,
  flatStartDurations,
  type PitchOptions,
  type AlignUtterance,
} from "./features.js";
export { LogMelTransform, type MelTensorOptions } from "./mel-tensor.js";
export { melCepstra, dtwPath, melCepstralDistortion, attentionScores } from "./tts-metrics.js";
