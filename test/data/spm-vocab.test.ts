// SentencePiece-style vocabularies in GGUF files (tokenizer.ggml.model "llama"): a LLaMA-like tokenizer.json
// (BPE with byte fallback, trained by sentencepiece: tools/fixtures/tokenizers_sp.py) written as tokens,
// scores, token types and special ids, read back from the file, and tokenizing as sentencepiece did for the
// recorded strings and as the tokenizer.json does (llama.cpp's algorithm over the scores); decoding back.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { ggufTextTokenizer, ggufTokenizerFromJSON } from "../../cli/gguf.js";
import { ByteFallbackBPETokenizer } from "../../src/data/bpe-fallback.js";
import { SpmTokenizer, TOKEN_TYPE } from "../../src/data/spm-vocab.js";
import { Generator } from "../../src/engine/rng.js";
import { metaArray, metaNumber, metaString, parseGguf } from "../../src/io/ggml/gguf.js";
import { fromGguf, toGguf } from "../../src/io/ggml/convert.js";
import { Llama, intermediateSize, llamaConfig } from "../../src/models/llama/model.js";

interface Fixture {
  tokenizer: Record<string, unknown>;
  cases: { text: string; ids: number[]; decoded: string }[];
}
const fx = JSON.parse(
  readFileSync(new URL("../../../test/fixtures/data/sp_bpe.json", import.meta.url), "utf8"),
) as Fixture;
const V = (fx.tokenizer.model as { vocab: Record<string, number> }).vocab
  ? Object.keys((fx.tokenizer.model as { vocab: Record<string, number> }).vocab).length
  : 0;
// the strings both sides read the same way (see test/data/sp_tokenizers.test.ts): no added tokens' text, no literal "▁"
const comparable = (s: string): boolean =>
  !["<pad>", "</s>", "<unk>", "<s>"].some((t) => s.includes(t)) && !s.includes("▁");

/** The fixture's tokenizer written into a tiny LLaMA's GGUF file and read back. */
function roundTrip(): {
  file: Uint8Array;
  tok: ReturnType<typeof ggufTokenizerFromJSON>;
  back: ReturnType<typeof fromGguf>["tokenizer"];
} {
  const tok = ggufTokenizerFromJSON(fx.tokenizer, { bos_token_id: 1, eos_token_id: 2 }, V);
  const c = llamaConfig({
    vocabSize: V,
    blockSize: 16,
    nLayer: 1,
    nHead: 2,
    nKvHeads: 1,
    nEmbd: 64,
    intermediateSize: 96,
    multipleOf: 8,
    normEps: 1e-5,
    ropeTheta: 10000,
    dropout: 0,
  });
  const model = new Llama(c, { generator: new Generator(5) });
  const file = toGguf(
    model.stateDict(),
    {
      arch: "llama",
      vocabSize: V,
      blockSize: 16,
      nLayer: 1,
      nHead: 2,
      nKvHeads: 1,
      nEmbd: 64,
      intermediateSize: intermediateSize(c),
      normEps: 1e-5,
      ropeTheta: 10000,
    },
    "Q8_0",
    tok,
  );
  return { file, tok, back: fromGguf(file).tokenizer };
}

test('a LLaMA tokenizer.json is written as a "llama" vocabulary: tokens, scores, token types, special ids, BOS', () => {
  const { file, tok } = roundTrip();
  const g = parseGguf(file);
  assert.equal(metaString(g, "tokenizer.ggml.model"), "llama");
  assert.equal(metaArray(g, "tokenizer.ggml.tokens")!.items.length, V);
  assert.equal(metaArray(g, "tokenizer.ggml.scores")!.itemType, "f32");
  assert.equal(metaArray(g, "tokenizer.ggml.token_type")!.items.length, V);
  assert.equal(metaArray(g, "tokenizer.ggml.merges"), undefined); // SentencePiece-style: the scores order the merges
  assert.equal(metaNumber(g, "tokenizer.ggml.bos_token_id"), 1);
  assert.equal(metaNumber(g, "tokenizer.ggml.eos_token_id"), 2);
  assert.equal(metaNumber(g, "tokenizer.ggml.unknown_token_id"), 0);
  assert.equal(g.metadata.get("tokenizer.ggml.add_bos_token")?.value, true);
  const types = tok.tokenTypes!;
  assert.equal(types[0], TOKEN_TYPE.unknown);
  assert.equal(types[1], TOKEN_TYPE.control);
  assert.equal(types[2], TOKEN_TYPE.control);
  assert.equal(types.filter((t) => t === TOKEN_TYPE.byte).length, 256);
  // a token made by the merge of rank r scores −1 − r: the first rule's token scores −1
  const merges = (fx.tokenizer.model as { merges: (string | string[])[] }).merges;
  const first = Array.isArray(merges[0]) ? merges[0].join("") : merges[0]!.replace(" ", "");
  assert.equal(tok.scores![tok.tokens.indexOf(first)], -1);
});

test("read back from the file, the vocabulary tokenizes as sentencepiece did and as the tokenizer.json does; decode inverts it", () => {
  const { back } = roundTrip();
  const spm = new SpmTokenizer({
    tokens: back.tokens,
    scores: back.scores!,
    tokenTypes: back.tokenTypes!,
    bosId: back.bosId,
    eosId: back.eosId,
    unkId: back.unkId,
    addBos: back.addBos,
  });
  const hf = ByteFallbackBPETokenizer.fromJSON(JSON.stringify(fx.tokenizer));
  let checked = 0,
    withBytes = 0,
    decoded = 0;
  for (const c of fx.cases) {
    if (!comparable(c.text)) continue;
    const ids = spm.encode(c.text, { addSpecialTokens: false });
    assert.deepEqual(ids, c.ids, `sentencepiece's ids of ${JSON.stringify(c.text)}`);
    assert.deepEqual(
      ids,
      hf.encode(c.text, { addSpecialTokens: false }),
      `tokenizer.json's ids of ${JSON.stringify(c.text)}`,
    );
    assert.deepEqual(spm.encode(c.text), [1, ...c.ids]); // BOS, as the file asks
    checked++;
    if (ids.some((i) => back.tokenTypes![i] === TOKEN_TYPE.byte)) withBytes++;
    if (!ids.includes(0)) {
      assert.equal(spm.decode(ids), c.decoded, `decode of ${JSON.stringify(c.text)}`);
      decoded++;
    }
  }
  assert.ok(checked >= 400, `only ${checked} strings compared`);
  assert.ok(withBytes >= 20, `only ${withBytes} strings fell back to bytes`);
  assert.ok(decoded >= 300, `only ${decoded} strings decoded`);
  // what `wnn sample --model` uses: BOS in front; a continuation keeps its leading space
  const cli = ggufTextTokenizer(back);
  const ids = cli.encode("Call me Ishmael.");
  assert.equal(ids[0], 1);
  assert.equal(cli.decode(ids.slice(1)), " Call me Ishmael.");
});

test("SpmTokenizer: mismatched arrays and ids outside the vocabulary are rejected", () => {
  assert.throws(() => new SpmTokenizer({ tokens: ["a", "b"], scores: [0], tokenTypes: [1, 1] }), /2 tokens, 1 scores/);
  const t = new SpmTokenizer({ tokens: ["▁a", "a", "▁"], scores: [-1, 0, 0], tokenTypes: [1, 1, 1] });
  assert.deepEqual(t.encode("a a", { addSpecialTokens: false }), [0, 0]);
  assert.throws(() => t.decode([3]), /outside the vocabulary/);
});
