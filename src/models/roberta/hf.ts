// RoBERTa's Hugging Face family: config.json ↔ our config, the model to build, the weight map of model.ts,
// the extra tensors its files carry and the other spellings of its tensor names. src/models/hf.ts lists it.

import { type HFFamily, MASK_HEAD, mlmDecoderCopies } from "../hf-family.js";
import { RobertaForMaskedLM, RobertaModel, robertaConfig, ROBERTA_NAMING, type RobertaConfig } from "./model.js";
import { readBertFields, writeBertFields } from "../bert/hf.js";
import {
  countParameters as bertCount,
  fromBertCheckpoint as fromBert,
  toBertCheckpoint as toBert,
} from "../bert/model.js";

export const hfFamily: HFFamily<"roberta", RobertaConfig, RobertaForMaskedLM | RobertaModel> = {
  kind: "roberta",
  modelTypes: ["roberta"],
  role: "encoder",
  tiedHead: true,
  extras: [
    ...mlmDecoderCopies("lm_head", "roberta"),
    { pattern: /^roberta\.embeddings\.position_ids$/, why: "a buffer" },
    { pattern: /^roberta\.pooler\./, why: "the pooler, which the masked-LM model has none of" },
  ],
  alias: (name) => (/^(embeddings|encoder|pooler)\./.test(name) ? `roberta.${name}` : name),
  readConfig: (r) => r.build(() => robertaConfig(readBertFields(r))),
  writeConfig: (c, m) => ({
    model_type: "roberta",
    architectures: [m instanceof RobertaForMaskedLM ? "RobertaForMaskedLM" : "RobertaModel"],
    ...writeBertFields(c),
  }),
  count: (c) => bertCount(c, { pooler: true, mlmHead: true }),
  build: (c, names) =>
    [...names].some((n) => MASK_HEAD.test(n))
      ? new RobertaForMaskedLM(c)
      : new RobertaModel(c, { pooler: names.has("roberta.pooler.dense.weight") }),
  toHF: (m) => toBert(m.stateDict(), m, ROBERTA_NAMING),
  fromHF: (s, m) => fromBert(s, m, ROBERTA_NAMING),
};
