// tokenizer.json's post_processor: the special tokens around one text, for each kind Hugging Face writes.

import { strict as assert } from "node:assert";
import { test } from "node:test";
import { addedTokens, postProcessorFromJSON } from "../../src/data/post-processor.js";
import { LoadError } from "../../src/engine/errors.js";

const ids = [7, 8, 9];

test("post_processor: none and ByteLevel add nothing; Bert/RobertaProcessing put cls before and sep after", () => {
  assert.deepEqual(postProcessorFromJSON({ post_processor: null })(ids), ids);
  assert.deepEqual(postProcessorFromJSON({})(ids), ids);
  assert.deepEqual(postProcessorFromJSON({ post_processor: { type: "ByteLevel", trim_offsets: false } })(ids), ids);
  assert.deepEqual(postProcessorFromJSON({ post_processor: { type: "BertProcessing", sep: ["[SEP]", 102], cls: ["[CLS]", 101] } })(ids), [101, 7, 8, 9, 102]);
  assert.deepEqual(postProcessorFromJSON(JSON.stringify({ post_processor: { type: "RobertaProcessing", sep: ["</s>", 2], cls: ["<s>", 0] } }))(ids), [0, 7, 8, 9, 2]);
});

test("post_processor: TemplateProcessing's single template, and a Sequence of processors in order", () => {
  const template = {
    type: "TemplateProcessing",
    single: [{ SpecialToken: { id: "<s>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: "</s>", type_id: 0 } }],
    special_tokens: { "<s>": { id: "<s>", ids: [1], tokens: ["<s>"] }, "</s>": { id: "</s>", ids: [2], tokens: ["</s>"] } },
  };
  assert.deepEqual(postProcessorFromJSON({ post_processor: template })(ids), [1, 7, 8, 9, 2]);
  assert.deepEqual(postProcessorFromJSON({ post_processor: { type: "Sequence", processors: [{ type: "ByteLevel" }, template, template] } })(ids), [1, 1, 7, 8, 9, 2, 2]);
});

test("post_processor: malformed or unknown ones are LoadErrors naming the problem", () => {
  const bad = (p: unknown, re: RegExp): void => assert.throws(() => postProcessorFromJSON({ post_processor: p }), (e: unknown) => e instanceof LoadError && re.test(e.message));
  bad({ type: "Whatever" }, /post_processor type "Whatever" is not supported/);
  bad({ type: "BertProcessing", sep: ["[SEP]"], cls: ["[CLS]", 101] }, /BertProcessing\.sep must be \[token, id\]/);
  bad({ type: "TemplateProcessing", single: [{ SpecialToken: { id: "<x>" } }], special_tokens: {} }, /special token "<x>", which special_tokens does not give ids/);
  bad({ type: "TemplateProcessing", single: [{ Sequence: { id: "B" } }] }, /refers to sequence "B"/);
  assert.throws(() => postProcessorFromJSON("{"), LoadError);
});

test("addedTokens: content, id, special and lstrip of each entry", () => {
  const j = { added_tokens: [{ id: 4, content: "<mask>", special: true, lstrip: true }, { id: 5, content: "x" }, { content: "no id" }] };
  assert.deepEqual(addedTokens(j), [{ id: 4, content: "<mask>", special: true, lstrip: true }, { id: 5, content: "x", special: false, lstrip: false }]);
});
