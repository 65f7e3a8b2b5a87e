// The names of the text-to-speech models that `wnn train` trains (./tts-train.ts), in a module of their own so
// that a command can tell them from the zoo's without loading the models.

export const TTS_MODELS = ["tacotron2", "fastspeech2", "vocoder"] as const;
export type TtsModelName = (typeof TTS_MODELS)[number];

export const isTtsModel = (name: string): name is TtsModelName => (TTS_MODELS as readonly string[]).includes(name);
