// Test helper (speech-corpus.test.ts): build a corpus, saving after every file and printing "done i",
// until the parent kills it.
import { buildSpeechCorpus } from "./speech-corpus.js";

const [dir, texts] = process.argv.slice(2);
buildSpeechCorpus({
  dir: dir!,
  texts: JSON.parse(texts!) as string[],
  saveEvery: 1,
  onProgress: (d) => process.stdout.write(`done ${d}\n`),
});
