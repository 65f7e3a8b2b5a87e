// tokenizer.json's post_processor: the special tokens around one text, for each kind Hugging Face writes.

import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { PipelineTokenizer } from "../../src/data/hf-pipeline.js";
import { addedTokens, postProcessorFromJSON } from "../../src/data/post-processor.js";
import { tokenizerFromJSON } from "../../src/data/tokenizer-json.js";
import { LoadError } from "../../src/engine/errors.js";

const ids = [7, 8, 9];

test("post_processor: none and ByteLevel add nothing; Bert/RobertaProcessing put cls before and sep after", () => {
  assert.deepEqual(postProcessorFromJSON({ post_processor: null })(ids), ids);
  assert.deepEqual(postProcessorFromJSON({})(ids), ids);
  assert.deepEqual(postProcessorFromJSON({ post_processor: { type: "ByteLevel", trim_offsets: false } })(ids), ids);
  assert.deepEqual(
    postProcessorFromJSON({ post_processor: { type: "BertProcessing", sep: ["[SEP]", 102], cls: ["[CLS]", 101] } })(
      ids,
    ),
    [101, 7, 8, 9, 102],
  );
  assert.deepEqual(
    postProcessorFromJSON(
      JSON.stringify({ post_processor: { type: "RobertaProcessing", sep: ["</s>", 2], cls: ["<s>", 0] } }),
    )(ids),
    [0, 7, 8, 9, 2],
  );
});

test("post_processor: TemplateProcessing's single template, and a Sequence of processors in order", () => {
  const template = {
    type: "TemplateProcessing",
    single: [
      { SpecialToken: { id: "<s>", type_id: 0 } },
      { Sequence: { id: "A", type_id: 0 } },
      { SpecialToken: { id: "</s>", type_id: 0 } },
    ],
    special_tokens: {
      "<s>": { id: "<s>", ids: [1], tokens: ["<s>"] },
      "</s>": { id: "</s>", ids: [2], tokens: ["</s>"] },
    },
  };
  assert.deepEqual(postProcessorFromJSON({ post_processor: template })(ids), [1, 7, 8, 9, 2]);
  assert.deepEqual(
    postProcessorFromJSON({
      post_processor: { type: "Sequence", processors: [{ type: "ByteLevel" }, template, template] },
    })(ids),
    [1, 1, 7, 8, 9, 2, 2],
  );
});

test("post_processor: malformed or unknown ones are LoadErrors naming the problem", () => {
  const bad = (p: unknown, re: RegExp): void =>
    assert.throws(
      () => postProcessorFromJSON({ post_processor: p }),
      (e: unknown) => e instanceof LoadError && re.test(e.message),
    );
  bad({ type: "Whatever" }, /post_processor type "Whatever" is not supported/);
  bad({ type: "BertProcessing", sep: ["[SEP]"], cls: ["[CLS]", 101] }, /BertProcessing\.sep must be \[token, id\]/);
  bad(
    { type: "TemplateProcessing", single: [{ SpecialToken: { id: "<x>" } }], special_tokens: {} },
    /special token "<x>", which special_tokens does not give ids/,
  );
  bad({ type: "TemplateProcessing", single: [{ Sequence: { id: "B" } }] }, /refers to sequence "B"/);
  assert.throws(() => postProcessorFromJSON("{"), LoadError);
});

// The sentencepiece-style tokenizers (hf-pipeline.ts) read TemplateProcessing with the same reader: the same
// file gives the same ids either way, and the same malformed template the same LoadError.
const fixture = (name: string): Record<string, any> =>
  JSON.parse(readFileSync(new URL(`../../../test/fixtures/data/${name}`, import.meta.url), "utf8")).tokenizer;
const t5 = fixture("sp_unigram.json"),
  llama = fixture("sp_bpe.json");

test("TemplateProcessing: postProcessorFromJSON and the pipeline tokenizers add the same special tokens to one text", () => {
  const both = {
    type: "TemplateProcessing",
    single: [
      { SpecialToken: { id: "<s>", type_id: 0 } },
      { Sequence: { id: "A", type_id: 0 } },
      { SpecialToken: { id: "</s>", type_id: 0 } },
      { SpecialToken: { id: "</s></s>", type_id: 0 } },
    ],
    pair: [{ Sequence: { id: "A", type_id: 0 } }, { Sequence: { id: "B", type_id: 1 } }],
    special_tokens: {
      "<s>": { id: "<s>", ids: [1], tokens: ["<s>"] },
      "</s>": { id: "</s>", ids: [2], tokens: ["</s>"] },
      "</s></s>": { id: "</s></s>", ids: [2, 2], tokens: ["</s>", "</s>"] },
    },
  };
  const files = [t5, llama, { ...t5, post_processor: both }, { ...llama, post_processor: both }];
  for (const file of files) {
    const tok = tokenizerFromJSON(file),
      post = postProcessorFromJSON(file);
    assert.ok(tok instanceof PipelineTokenizer);
    for (const text of ["Call me Ishmael.", "", "γ 京 👍"]) {
      const bare = tok.encode(text, { addSpecialTokens: false });
      assert.deepEqual(
        post(bare),
        tok.encode(text),
        `${JSON.stringify(file.post_processor.single)} on ${JSON.stringify(text)}`,
      );
    }
  }
  const ids = tokenizerFromJSON(files[2]!).encode("a");
  assert.deepEqual([ids[0], ...ids.slice(-3)], [1, 2, 2, 2]); // <s> … </s> and the two ids of "</s></s>"
});

test("TemplateProcessing: a malformed template is the same LoadError from postProcessorFromJSON and the pipeline", () => {
  const A = { Sequence: { id: "A", type_id: 0 } };
  const cases: [unknown, RegExp][] = [
    // "</s>" is in the vocabulary, but Hugging Face takes a special token's ids from special_tokens only
    [
      {
        type: "TemplateProcessing",
        single: [A, { SpecialToken: { id: "</s>", type_id: 0 } }],
        pair: [],
        special_tokens: {},
      },
      /special token "<\/s>", which special_tokens does not give ids \(found no entry\)/,
    ],
    [
      { type: "TemplateProcessing", single: [{ Sequence: { id: "B", type_id: 0 } }], pair: [] },
      /TemplateProcessing\.single refers to sequence "B"; one text is "A"/,
    ],
    [
      { type: "TemplateProcessing", single: [A], pair: [A, { Sequence: { id: "C", type_id: 1 } }] },
      /TemplateProcessing\.pair refers to sequence "C"; the two texts are "A" and "B"/,
    ],
    [
      { type: "TemplateProcessing", single: "$A </s>", pair: [] },
      /TemplateProcessing\.single must be an array, got string/,
    ],
    [
      { type: "TemplateProcessing", single: [A, "</s>"], pair: [] },
      /TemplateProcessing\.single has an entry "<\/s>" that is neither a SpecialToken nor a Sequence/,
    ],
  ];
  for (const [p, re] of cases) {
    const messages = [
      () => postProcessorFromJSON({ post_processor: p }),
      () => tokenizerFromJSON({ ...t5, post_processor: p }),
    ].map((f) => {
      try {
        f();
        return "";
      } catch (e) {
        assert.ok(e instanceof LoadError, String(e));
        return e.message;
      }
    });
    assert.equal(messages[0], messages[1]);
    assert.match(messages[0]!, re);
  }
});

test("addedTokens: content, id, special and lstrip of each entry", () => {
  const j = {
    added_tokens: [
      { id: 4, content: "<mask>", special: true, lstrip: true },
      { id: 5, content: "x" },
      { content: "no id" },
    ],
  };
  assert.deepEqual(addedTokens(j), [
    { id: 4, content: "<mask>", special: true, lstrip: true },
    { id: 5, content: "x", special: false, lstrip: false },
  ]);
});
