// Reading and writing tokenizer.json files. Node only: it uses the file system (in a browser, fetch the
// text and call BPETokenizer.fromJSON).

import { renameSync, writeFileSync } from "node:fs";
import { DEFAULT_MAX_JSON_BYTES, readCheckedText } from "../../io/checked-file-node.js";
import { BPETokenizer } from "../bpe.js";

/** Read a Hugging Face tokenizer.json (GPT-2 style byte-level BPE). */
export function loadTokenizerFile(path: string): BPETokenizer {
  const text = readCheckedText(path, { maxBytes: DEFAULT_MAX_JSON_BYTES }); // a regular file, its size capped
  return BPETokenizer.fromJSON(text);
}

/** Write a tokenizer.json (through a temporary file and a rename, so a crash leaves the old one). */
export function saveTokenizerFile(tokenizer: BPETokenizer, path: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(tokenizer, null, 2) + "\n");
  renameSync(tmp, path);
}
