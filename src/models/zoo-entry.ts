// The shape of a zoo entry (what a model folder's zoo.ts declares: its presets, paper, recipes and the task it
// shares with its siblings) and the descriptions of the shared tasks. The zoo itself, the list of entries, is
// src/models/zoo.ts. Browser-safe.

import type { Generator } from "../engine/rng.js";
import type { Architecture } from "./architecture.js";
import type { Module } from "../nn/module.js";
import type { Recipe } from "../recipes/recipe.js";
import type { NamesTask } from "../data/tasks/names.js";
import type { NameModel } from "../recipes/names.js";
import type { ImageClassifier } from "../recipes/mnist.js";
import type { ModelName as GraphModelName } from "../recipes/graphs.js";
import type { AttentionKind } from "./seq2seq-attention/model.js";
import { SBM_DEFAULTS } from "../data/graphs.js";

/** The tasks that siblings share, on which `wnn compare --train` runs them side by side. */
export type TaskName = "names" | "mnist" | "graphs" | "dates";

/** How a preset is built and trained for its task (the settings shared by the task live in compare.ts). */
export type TaskBuilder =
  | { readonly task: "names"; build(task: NamesTask, generator: Generator): NameModel }
  | {
      readonly task: "mnist";
      build(generator: Generator): ImageClassifier;
      /** Adam's lr, the model's recipe's */ readonly lr: number;
    }
  | {
      readonly task: "graphs";
      /** the model of src/recipes/graphs.ts, trained with its paper's settings */ readonly model: GraphModelName;
    }
  | { readonly task: "dates"; readonly model: "seq2seq"; readonly attention: AttentionKind }
  | { readonly task: "dates"; readonly model: "transformer" }
  | { readonly task: "dates"; readonly model: "convs2s" };

export interface ZooPreset {
  /** the preset's name; `wnn compare <model>:<preset>` */
  readonly name: string;
  /** the model's describe() on the preset's config */
  describe(): Architecture;
  /**
   * The model of the preset's config (the class describe() describes). Call it inside meta() to count or
   * inspect a preset without allocating its weights: `wnn list` counts every preset so, and
   * src/models/presets.test.ts checks that the count equals describe()'s formula.
   */
  build(): Module;
  /** the task it trains on in `wnn compare --train`, if it shares one with siblings */
  readonly train?: TaskBuilder;
}

export interface ZooModel {
  /** the folder under src/models, and the name `wnn compare` takes */
  readonly name: string;
  /** the paper(s), with a link */
  readonly paper: string;
  /** what its recipe trains on */
  readonly trainsOn: string;
  /** the recipes that train it (`wnn train <recipe.name>`) */
  readonly recipes: readonly Recipe<any>[];
  /** its presets; the first is the default */
  readonly presets: readonly ZooPreset[];
}

export const NAMES = "English first names, character by character (seeded 90/10 split)";
export const MNIST = "MNIST digits (the mnist package: 8,000 train / 2,000 test)";
export const GRAPHS = "a seeded stochastic block model (160 nodes, 4 communities) and Zachary's karate club";
/** the SBM's features and classes: the graph models' presets scaled to it, as src/recipes/graphs.ts's setup() does */
export const SBM = { inFeatures: SBM_DEFAULTS.featureDim, numClasses: SBM_DEFAULTS.numClasses };
export const SBM_NODES = SBM_DEFAULTS.numClasses * SBM_DEFAULTS.nodesPerClass;
export const DATES = "human-written dates → ISO 8601, characters (seeded, data/tasks/dates.ts)";
/** the FLOPs of the seq2seq models are per example: a date of about 20 characters → 10 characters + EOS */
export const DATES_SRC = 20,
  DATES_TGT = 11;
/** the encoders' FLOPs are per token of a sequence of this many (BERT's pretraining length for 90% of its steps) */
export const ENCODER_SEQ = 128;
/** the larger encoder-decoders' FLOPs are per example of 25 source and 25 target tokens, as the Transformer base's */
export const SEQ2SEQ_LEN = 25;
/** Cora (Sen et al. 2008, as Kipf & Welling and Veličković et al. use it): 2,708 nodes; PubMed: 19,717 */
export const CORA_NODES = 2708,
  PUBMED_NODES = 19717;
/** the decoders' names presets: the size of names-compare's GPT (gpt2:names), 2 blocks of width 32, context 16 */
export const NAMES_DECODER = Object.freeze({ vocabSize: 28, blockSize: 16, nLayer: 2, nHead: 4, nEmbd: 32 });
