// The model zoo as data: every model folder of src/models, its presets (each described by the model's own
// `describe(config)`, src/models/architecture.ts), its paper and recipes, and — for the presets that share a
// task with their siblings — how `wnn compare --train` builds them for that task (src/recipes/compare.ts).
// `wnn list`, `wnn compare` and the generated docs (tools/gen-docs.mjs) read this table. Each model folder
// declares its entry in its own zoo.ts (the shape: src/models/zoo-entry.ts); a new model adds one import and
// one line to ZOO below. Browser-safe.

import { ArgumentError } from "../engine/errors.js";
import type { TaskName, ZooModel, ZooPreset } from "./zoo-entry.js";
import { zooEntry as gpt2 } from "./gpt2/zoo.js";
import { zooEntry as bengioMlp } from "./bengio-mlp/zoo.js";
import { zooEntry as charRnn } from "./char-rnn/zoo.js";
import { zooEntry as mlp } from "./mlp/zoo.js";
import { zooEntry as lenet5 } from "./lenet5/zoo.js";
import { zooEntry as resnet } from "./resnet/zoo.js";
import { zooEntry as senet } from "./senet/zoo.js";
import { zooEntry as cbam } from "./cbam/zoo.js";
import { zooEntry as nonLocal } from "./non-local/zoo.js";
import { zooEntry as vit } from "./vit/zoo.js";
import { zooEntry as gcn } from "./gcn/zoo.js";
import { zooEntry as gat } from "./gat/zoo.js";
import { zooEntry as seq2seqAttention } from "./seq2seq-attention/zoo.js";
import { zooEntry as convs2s } from "./convs2s/zoo.js";
import { zooEntry as transformer } from "./transformer/zoo.js";
import { zooEntry as llama } from "./llama/zoo.js";
import { zooEntry as mixtral } from "./mixtral/zoo.js";
import { zooEntry as switchGpt } from "./switch/zoo.js";
import { zooEntry as bloom } from "./bloom/zoo.js";
import { zooEntry as falcon } from "./falcon/zoo.js";
import { zooEntry as bert } from "./bert/zoo.js";
import { zooEntry as roberta } from "./roberta/zoo.js";
import { zooEntry as deberta } from "./deberta/zoo.js";
import { zooEntry as t5 } from "./t5/zoo.js";
import { zooEntry as bart } from "./bart/zoo.js";
import { zooEntry as ddpm } from "./ddpm/zoo.js";
import { zooEntry as latentDiffusion } from "./latent-diffusion/zoo.js";
import { zooEntry as tacotron2 } from "./tacotron2/zoo.js";
import { zooEntry as fastspeech2 } from "./fastspeech2/zoo.js";
import { zooEntry as hifigan } from "./hifigan/zoo.js";

export type { TaskName, TaskBuilder, ZooPreset, ZooModel } from "./zoo-entry.js";

// The Transformer families each list their tiny preset first (as GPT-2's and the Transformer's, so that
// `wnn compare gpt2 llama` sets models of one size side by side) and then the released checkpoints'. Every
// preset is described from its config alone (countParameters, formulas), and built shape-only by `wnn list`
// (meta(), src/engine/meta.ts), so the 7B presets cost nothing to list.
export const ZOO: readonly ZooModel[] = [
  gpt2,
  bengioMlp,
  charRnn,
  mlp,
  lenet5,
  resnet,
  senet,
  cbam,
  nonLocal,
  vit,
  gcn,
  gat,
  seq2seqAttention,
  convs2s,
  transformer,
  llama,
  mixtral,
  switchGpt,
  bloom,
  falcon,
  bert,
  roberta,
  deberta,
  t5,
  bart,
  ddpm,
  latentDiffusion,
  tacotron2,
  fastspeech2,
  hifigan,
];

/**
 * Siblings that share no task but one architecture family: the generated docs set their released presets side
 * by side (docs/compare/<family>-architecture.md), "model:preset" each, the first model the family's ancestor.
 */
export const FAMILIES = {
  "decoder-only": {
    title: "decoder-only language models (GPT-2, LLaMA, BLOOM, Falcon, Mixtral)",
    presets: ["gpt2:gpt2", "llama:llama-2-7b", "bloom:bloom-560m", "falcon:falcon-7b", "mixtral:mixtral-8x7b"],
  },
  "encoder-only": {
    title: "bidirectional encoders (BERT and its successors)",
    presets: ["bert:bert-base-uncased", "roberta:roberta-base", "deberta:deberta-v3-base"],
  },
  "encoder-decoder": {
    title: "encoder-decoder Transformers",
    presets: ["transformer:base", "t5:t5-small", "t5:t5-v1_1-small", "bart:bart-base"],
  },
} as const satisfies Record<string, { readonly title: string; readonly presets: readonly string[] }>;

export type FamilyName = keyof typeof FAMILIES;

/** A model of the zoo with one of its presets: what `wnn compare` compares. */
export interface ZooEntry {
  readonly model: ZooModel;
  readonly preset: ZooPreset;
}

/** "model:preset" */
export const entryName = (e: ZooEntry): string => `${e.model.name}:${e.preset.name}`;

/**
 * A model of the zoo by name: "gpt2" (its default preset, or with `task` its first preset that trains on
 * the task), "gpt2:names", or a preset's name alone when only one model has it ("gru", "resnet20-mnist").
 */
export function findModel(spec: string, task?: TaskName): ZooEntry {
  const [name, presetName, extra] = spec.split(":");
  const model = ZOO.find((m) => m.name === name);
  if (model && extra === undefined) {
    if (presetName === undefined) {
      const preset = (task && model.presets.find((p) => p.train?.task === task)) || model.presets[0]!;
      return { model, preset };
    }
    const preset = model.presets.find((p) => p.name === presetName);
    if (preset) return { model, preset };
    throw new ArgumentError(
      `unknown preset "${presetName}" of ${model.name}; its presets are ${model.presets.map((p) => p.name).join(", ")}`,
    );
  }
  if (presetName === undefined) {
    const owners = ZOO.flatMap((m) => m.presets.filter((p) => p.name === name).map((preset) => ({ model: m, preset })));
    if (owners.length === 1) return owners[0]!;
    if (owners.length > 1)
      throw new ArgumentError(`"${spec}" is a preset of ${owners.map(entryName).join(" and ")}: say which`);
  }
  throw new ArgumentError(
    `unknown model "${spec}"; the zoo: ${ZOO.map((m) => m.name).join(", ")} (model:preset picks a preset)`,
  );
}

/** The tasks a model (any of its presets) can be trained on. */
export function tasksOf(model: ZooModel): TaskName[] {
  return [...new Set(model.presets.flatMap((p) => (p.train ? [p.train.task] : [])))];
}
