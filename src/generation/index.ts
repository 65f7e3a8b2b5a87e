// `wnn.generation`: decoding shared by every language model of the zoo — sampling (greedy, temperature,
// top-k, top-p), the repetition penalty, the KV-cache decoding loop of the decoders, beam search and sampling
// for the encoder-decoders.
export {
  sampleTokens,
  samplingOptions,
  penalizeRepetition,
  type GenerateOptions,
  type SamplingOptions,
} from "./sampling.js";
export { generateWithCache, type CachedDecoder } from "./decode.js";
export {
  searchBeams,
  sampleSeq2Seq,
  type BeamDecoder,
  type BeamSearchable,
  type BeamChoices,
  type BeamSearchOptions,
  type Hypothesis,
  type BeamResult,
  type SampleSeq2SeqOptions,
} from "./beam.js";
