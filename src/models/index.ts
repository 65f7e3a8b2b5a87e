// The model zoo: one namespace per paper (wnn.models.gpt2.GPT, ...).
export * as gpt2 from "./gpt2/model.js";
export * as seq2seqAttention from "./seq2seq-attention/model.js";
export * as transformer from "./transformer/model.js";
