// The zoo entry of tacotron2: the CPU-sized preset that `wnn train tacotron2` trains on the synthesized speech
// corpus, and the paper's configuration (src/models/zoo.ts lists it).

import type { ZooModel } from "../zoo-entry.js";
import * as tacotron2 from "./model.js";

/** what the speech corpus is (docs/audio.md) */
export const SPEECH =
  "Moby Dick sentences and short prompts read by the flite teacher voice (16 kHz, 80-bin log-mels, 12.5 ms hop)";

/**
 * The symbols of the phoneme front end the TTS runs train with: <pad>, <eos>, 35 characters and CMUdict's 39
 * phonemes (src/data/speech.ts phonemeFrontEnd; test/cli/tts.test.ts checks the count against the dictionary).
 * The `small` presets are listed at this size, the size `wnn train` builds.
 */
export const PHONEME_SYMBOLS = 76;

export const zooEntry: ZooModel = {
  name: "tacotron2",
  paper:
    "Shen et al. 2018, Natural TTS Synthesis by Conditioning WaveNet on Mel Spectrogram Predictions, https://arxiv.org/abs/1712.05884; Chorowski et al. 2015, Attention-Based Models for Speech Recognition, https://arxiv.org/abs/1506.07503",
  trainsOn: SPEECH,
  recipes: [],
  presets: (["small", "paper"] as const).map((name) => {
    const c = () => tacotron2.tacotron2Config(name, name === "small" ? { nSymbols: PHONEME_SYMBOLS } : {});
    return {
      name,
      describe: () => tacotron2.describe(c(), 60, 240, `Tacotron 2 (${name})`),
      build: () => new tacotron2.Tacotron2(c()),
    };
  }),
};
