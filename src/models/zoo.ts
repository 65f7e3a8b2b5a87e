// The model zoo as data: every model folder of src/models, its presets (each described by the model's own
// `describe(config)`, src/models/architecture.ts), its paper and recipes, and — for the presets that share a
// task with their siblings — how `wnn compare --train` builds them for that task (src/models/compare.ts).
// `wnn list`, `wnn compare` and the generated docs (tools/gen-docs.mjs) read this table; a new model adds
// one entry here. Browser-safe.

import { ArgumentError } from "../engine/errors.js";
import type { Generator } from "../engine/rng.js";
import type { Architecture } from "./architecture.js";
import type { Module } from "../nn/module.js";
import type { Recipe } from "./recipe.js";
import type { NameModel, NamesTask } from "./tasks/names.js";
import type { ImageClassifier } from "./mnist.js";
import type { ModelName as GraphModelName } from "./graphs.js";
import { SBM_DEFAULTS } from "../data/graphs.js";
import * as gpt2 from "./gpt2/model.js";
import * as bengio from "./bengio-mlp/model.js";
import * as charRnn from "./char-rnn/model.js";
import * as mlp from "./mlp/model.js";
import * as lenet5 from "./lenet5/model.js";
import * as resnet from "./resnet/model.js";
import * as senet from "./senet/model.js";
import * as cbam from "./cbam/model.js";
import * as nonLocal from "./non-local/model.js";
import * as vit from "./vit/model.js";
import * as gcn from "./gcn/model.js";
import * as gat from "./gat/model.js";
import * as seq2seq from "./seq2seq-attention/model.js";
import * as transformer from "./transformer/model.js";
import * as llama from "./llama/model.js";
import * as bloom from "./bloom/model.js";
import * as falcon from "./falcon/model.js";
import * as bert from "./bert/model.js";
import * as roberta from "./roberta/model.js";
import * as deberta from "./deberta/model.js";
import * as t5 from "./t5/model.js";
import * as bart from "./bart/model.js";
import { bengioMlpRecipe } from "./bengio-mlp/recipe.js";
import { charRnnRecipe } from "./char-rnn/recipe.js";
import { lenet5Recipe } from "./lenet5/recipe.js";
import { resnetRecipe } from "./resnet/recipe.js";
import { visionAttentionCompareRecipe } from "./vision-attention-compare/recipe.js";
import { gcnRecipe } from "./gcn/recipe.js";
import { gatRecipe } from "./gat/recipe.js";
import { recipe as seq2seqRecipe } from "./seq2seq-attention/recipe.js";
import { recipe as transformerRecipe } from "./transformer/recipe.js";

/** The tasks that siblings share, on which `wnn compare --train` runs them side by side. */
export type TaskName = "names" | "mnist" | "graphs" | "dates";

/** How a preset is built and trained for its task (the settings shared by the task live in compare.ts). */
export type TaskBuilder =
  | { readonly task: "names"; build(task: NamesTask, generator: Generator): NameModel }
  | { readonly task: "mnist"; build(generator: Generator): ImageClassifier; /** Adam's lr, the model's recipe's */ readonly lr: number }
  | { readonly task: "graphs"; /** the model of ../graphs.ts, trained with its paper's settings */ readonly model: GraphModelName }
  | { readonly task: "dates"; readonly model: "seq2seq"; readonly attention: seq2seq.AttentionKind }
  | { readonly task: "dates"; readonly model: "transformer" };

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

const NAMES = "English first names, character by character (seeded 90/10 split)";
const MNIST = "MNIST digits (the mnist package: 8,000 train / 2,000 test)";
const GRAPHS = "a seeded stochastic block model (160 nodes, 4 communities) and Zachary's karate club";
/** the SBM's features and classes: the graph models' presets scaled to it, as ../graphs.ts's setup() does */
const SBM = { inFeatures: SBM_DEFAULTS.featureDim, numClasses: SBM_DEFAULTS.numClasses };
const SBM_NODES = SBM_DEFAULTS.numClasses * SBM_DEFAULTS.nodesPerClass;
const DATES = "human-written dates → ISO 8601, characters (seeded, data/tasks/dates.ts)";
/** the FLOPs of the seq2seq models are per example: a date of about 20 characters → 10 characters + EOS */
const DATES_SRC = 20, DATES_TGT = 11;
/** the encoders' FLOPs are per token of a sequence of this many (BERT's pretraining length for 90% of its steps) */
const ENCODER_SEQ = 128;
/** the larger encoder-decoders' FLOPs are per example of 25 source and 25 target tokens, as the Transformer base's */
const SEQ2SEQ_LEN = 25;
/** Cora (Sen et al. 2008, as Kipf & Welling and Veličković et al. use it): 2,708 nodes; PubMed: 19,717 */
const CORA_NODES = 2708, PUBMED_NODES = 19717;

export const ZOO: readonly ZooModel[] = [
  {
    name: "gpt2",
    paper: "Radford et al. 2019, Language Models are Unsupervised Multitask Learners, https://cdn.openai.com/better-language-models/language_models_are_unsupervised_multitask_learners.pdf",
    trainsOn: "Moby Dick, characters (wnn train gpt); English first names (names preset)",
    recipes: [],
    presets: [
      { name: "tiny", describe: () => gpt2.describe(gpt2.gptConfig("tiny"), "GPT-2 (tiny)"), build: () => new gpt2.GPT(gpt2.gptConfig("tiny")) },
      { name: "gpt2", describe: () => gpt2.describe(gpt2.gptConfig("gpt2"), "GPT-2 small"), build: () => new gpt2.GPT(gpt2.gptConfig("gpt2")) },
      {
        name: "names",
        describe: () => gpt2.describe(gpt2.gptConfig("names"), "GPT-2 (2 blocks)"),
        build: () => new gpt2.GPT(gpt2.gptConfig("names")),
        train: { task: "names", build: (t, g) => new gpt2.GPT(gpt2.gptConfig("names", { vocabSize: t.tokenizer.vocabSize, blockSize: t.maxLen + 1 }), { generator: g }) },
      },
    ],
  },
  {
    name: "bengio-mlp",
    paper: bengioMlpRecipe.paper,
    trainsOn: NAMES,
    recipes: [bengioMlpRecipe],
    presets: [
      {
        name: "names",
        describe: () => bengio.describe(bengio.bengioConfig("names")),
        build: () => new bengio.BengioMLP(bengio.bengioConfig("names")),
        train: { task: "names", build: (t, g) => new bengio.BengioMLP(bengio.bengioConfig("names", { vocabSize: t.tokenizer.vocabSize }), { generator: g }) },
      },
    ],
  },
  {
    name: "char-rnn",
    paper: charRnnRecipe.paper,
    trainsOn: NAMES,
    recipes: [charRnnRecipe],
    presets: (["lstm", "gru", "rnn"] as const).map((cell) => ({
      name: cell,
      describe: () => charRnn.describe(charRnn.charRnnConfig(cell)),
      build: () => new charRnn.CharRNN(charRnn.charRnnConfig(cell)),
      train: { task: "names", build: (t: NamesTask, g: Generator) => new charRnn.CharRNN(charRnn.charRnnConfig(cell, { vocabSize: t.tokenizer.vocabSize }), { generator: g }) },
    })),
  },
  {
    name: "mlp",
    paper: "Rumelhart, Hinton, Williams 1986, Learning representations by back-propagating errors, https://www.nature.com/articles/323533a0",
    trainsOn: MNIST,
    recipes: [],
    presets: [{ name: "mnist", describe: () => mlp.describe(mlp.MNIST_MLP), build: () => new mlp.MLP(mlp.MNIST_MLP), train: { task: "mnist", build: (g) => new mlp.MLP(mlp.MNIST_MLP, { generator: g }), lr: 1e-3 } }],
  },
  {
    name: "lenet5",
    paper: lenet5Recipe.paper,
    trainsOn: MNIST,
    recipes: [lenet5Recipe],
    presets: [
      {
        name: "lenet5",
        describe: () => lenet5.describe(lenet5.lenetConfig("lenet5")),
        build: () => new lenet5.LeNet5(lenet5.lenetConfig("lenet5")),
        train: { task: "mnist", build: (g) => new lenet5.LeNet5(lenet5.lenetConfig("lenet5"), { generator: g }), lr: lenet5Recipe.defaults.lr },
      },
      { name: "lenet5-32", describe: () => lenet5.describe(lenet5.lenetConfig("lenet5-32")), build: () => new lenet5.LeNet5(lenet5.lenetConfig("lenet5-32")) },
    ],
  },
  {
    name: "resnet",
    paper: resnetRecipe.paper,
    trainsOn: MNIST,
    recipes: [resnetRecipe],
    presets: (["resnet-mnist-small", "resnet20-mnist"] as const).map((preset) => ({
      name: preset,
      describe: () => resnet.describe(resnet.resnetConfig(preset)),
      build: () => new resnet.ResNet(resnet.resnetConfig(preset)),
      train: { task: "mnist" as const, build: (g: Generator) => new resnet.ResNet(resnet.resnetConfig(preset), { generator: g }), lr: resnetRecipe.defaults.lr },
    })),
  },
  // attention in convolutional networks, and attention instead of them (wnn train vision-attention-compare)
  {
    name: "senet",
    paper: "Hu, Shen, Albanie, Sun, Wu 2018, Squeeze-and-Excitation Networks, https://arxiv.org/abs/1709.01507",
    trainsOn: MNIST,
    recipes: [visionAttentionCompareRecipe],
    presets: [{
      name: "se-resnet",
      describe: () => senet.describe(senet.seResNetConfig("se-resnet")),
      build: () => new senet.SEResNet(senet.seResNetConfig("se-resnet")),
      train: { task: "mnist", build: (g) => new senet.SEResNet(senet.seResNetConfig("se-resnet"), { generator: g }), lr: resnetRecipe.defaults.lr },
    }],
  },
  {
    name: "cbam",
    paper: "Woo, Park, Lee, Kweon 2018, CBAM: Convolutional Block Attention Module, https://arxiv.org/abs/1807.06521",
    trainsOn: MNIST,
    recipes: [visionAttentionCompareRecipe],
    presets: [{
      name: "cbam-resnet",
      describe: () => cbam.describe(cbam.cbamResNetConfig("cbam-resnet")),
      build: () => new cbam.CBAMResNet(cbam.cbamResNetConfig("cbam-resnet")),
      train: { task: "mnist", build: (g) => new cbam.CBAMResNet(cbam.cbamResNetConfig("cbam-resnet"), { generator: g }), lr: resnetRecipe.defaults.lr },
    }],
  },
  {
    name: "non-local",
    paper: "Wang, Girshick, Gupta, He 2018, Non-local Neural Networks, https://arxiv.org/abs/1711.07971; Zhang, Goodfellow, Metaxas, Odena 2019, Self-Attention Generative Adversarial Networks, https://arxiv.org/abs/1805.08318",
    trainsOn: MNIST,
    recipes: [visionAttentionCompareRecipe],
    presets: [{
      name: "nonlocal-resnet",
      describe: () => nonLocal.describe(nonLocal.nonLocalResNetConfig("nonlocal-resnet")),
      build: () => new nonLocal.NonLocalResNet(nonLocal.nonLocalResNetConfig("nonlocal-resnet")),
      train: { task: "mnist", build: (g) => new nonLocal.NonLocalResNet(nonLocal.nonLocalResNetConfig("nonlocal-resnet"), { generator: g }), lr: resnetRecipe.defaults.lr },
    }],
  },
  {
    name: "vit",
    paper: "Dosovitskiy et al. 2021, An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale, https://arxiv.org/abs/2010.11929",
    trainsOn: MNIST,
    recipes: [visionAttentionCompareRecipe],
    presets: (["vit-mnist", "vit-mnist-p7"] as const).map((preset) => ({
      name: preset,
      describe: () => vit.describe(vit.vitConfig(preset)),
      build: () => new vit.ViT(vit.vitConfig(preset)),
      train: { task: "mnist" as const, build: (g: Generator) => new vit.ViT(vit.vitConfig(preset), { generator: g }), lr: 3e-3 }, // vision-attention-compare's
    })),
  },
  {
    name: "gcn",
    paper: gcnRecipe.paper,
    trainsOn: GRAPHS,
    recipes: [gcnRecipe],
    presets: [
      { name: "sbm", describe: () => gcn.describe(gcn.gcnConfig("kipf", SBM), SBM_NODES), build: () => new gcn.GCN(gcn.gcnConfig("kipf", SBM)), train: { task: "graphs", model: "gcn" } },
      { name: "kipf", describe: () => gcn.describe(gcn.gcnConfig("kipf"), CORA_NODES), build: () => new gcn.GCN(gcn.gcnConfig("kipf")) },
    ],
  },
  {
    name: "gat",
    paper: gatRecipe.paper,
    trainsOn: GRAPHS,
    recipes: [gatRecipe],
    presets: [
      { name: "sbm", describe: () => gat.describe(gat.gatConfig("cora", SBM), SBM_NODES), build: () => new gat.GAT(gat.gatConfig("cora", SBM)), train: { task: "graphs", model: "gat" } },
      { name: "cora", describe: () => gat.describe(gat.gatConfig("cora"), CORA_NODES), build: () => new gat.GAT(gat.gatConfig("cora")) },
      { name: "pubmed", describe: () => gat.describe(gat.gatConfig("pubmed"), PUBMED_NODES), build: () => new gat.GAT(gat.gatConfig("pubmed")) },
    ],
  },
  {
    name: "seq2seq-attention",
    paper: "Bahdanau, Cho, Bengio 2015, Neural Machine Translation by Jointly Learning to Align and Translate, https://arxiv.org/abs/1409.0473",
    trainsOn: DATES,
    recipes: [seq2seqRecipe],
    presets: (["bahdanau", "none", "luong-dot", "luong-general"] as const).map((attention) => ({
      name: attention,
      describe: () => seq2seq.describe(seq2seq.seq2seqConfig("dates", { attention }), DATES_SRC, DATES_TGT),
      build: () => new seq2seq.Seq2Seq(seq2seq.seq2seqConfig("dates", { attention })),
      train: { task: "dates" as const, model: "seq2seq" as const, attention },
    })),
  },
  {
    name: "transformer",
    paper: "Vaswani et al. 2017, Attention Is All You Need, https://arxiv.org/abs/1706.03762",
    trainsOn: `${DATES}; a seeded translation between two invented languages`,
    recipes: [transformerRecipe],
    presets: [
      { name: "tiny", describe: () => transformer.describe(transformer.transformerConfig("tiny"), DATES_SRC, DATES_TGT, "Transformer (tiny)"), build: () => new transformer.Transformer(transformer.transformerConfig("tiny")), train: { task: "dates", model: "transformer" } },
      { name: "base", describe: () => transformer.describe(transformer.transformerConfig("base"), SEQ2SEQ_LEN, SEQ2SEQ_LEN, "Transformer (base)"), build: () => new transformer.Transformer(transformer.transformerConfig("base")) },
    ],
  },
  // The Transformer family of issue 6, each with its tiny preset first (as GPT-2's and the Transformer's, so
  // that `wnn compare gpt2 llama` sets models of one size side by side) and then the released checkpoints'.
  // Every preset is described from its config alone (countParameters, formulas), and built shape-only by
  // `wnn list` (meta(), src/engine/meta.ts), so the 7B presets cost nothing to list.
  {
    name: "llama",
    paper: "Touvron et al. 2023, Llama 2: Open Foundation and Fine-Tuned Chat Models, https://arxiv.org/abs/2307.09288",
    trainsOn: "nothing yet (no recipe); the tiny preset is GPT-2's tiny as a LLaMA",
    recipes: [],
    presets: [
      { name: "tiny", describe: () => llama.describe(llama.llamaConfig("tiny"), "LLaMA (tiny)"), build: () => new llama.Llama(llama.llamaConfig("tiny")) },
      { name: "llama-2-7b", describe: () => llama.describe(llama.llamaConfig("llama-2-7b"), "Llama 2 7B"), build: () => new llama.Llama(llama.llamaConfig("llama-2-7b")) },
    ],
  },
  {
    name: "bloom",
    paper: "BigScience Workshop 2022, BLOOM: A 176B-Parameter Open-Access Multilingual Language Model, https://arxiv.org/abs/2211.05100",
    trainsOn: "nothing yet (no recipe); the tiny preset is GPT-2's tiny as a BLOOM",
    recipes: [],
    presets: [
      { name: "tiny", describe: () => bloom.describe(bloom.bloomConfig("tiny"), "BLOOM (tiny)"), build: () => new bloom.Bloom(bloom.bloomConfig("tiny")) },
      { name: "bloom-560m", describe: () => bloom.describe(bloom.bloomConfig("bloom-560m"), "BLOOM-560m"), build: () => new bloom.Bloom(bloom.bloomConfig("bloom-560m")) },
    ],
  },
  {
    name: "falcon",
    paper: "Almazrouei et al. 2023, The Falcon Series of Open Language Models, https://arxiv.org/abs/2311.16867",
    trainsOn: "nothing yet (no recipe); the tiny preset is GPT-2's tiny as a Falcon",
    recipes: [],
    presets: [
      { name: "tiny", describe: () => falcon.describe(falcon.falconConfig("tiny"), "Falcon (tiny)"), build: () => new falcon.Falcon(falcon.falconConfig("tiny")) },
      { name: "falcon-7b", describe: () => falcon.describe(falcon.falconConfig("falcon-7b"), "Falcon-7B"), build: () => new falcon.Falcon(falcon.falconConfig("falcon-7b")) },
    ],
  },
  {
    name: "bert",
    paper: "Devlin et al. 2019, BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding, https://arxiv.org/abs/1810.04805",
    trainsOn: "nothing yet (no recipe)",
    recipes: [],
    presets: [
      { name: "tiny", describe: () => bert.describe(bert.bertConfig("tiny"), ENCODER_SEQ, "BERT (tiny)"), build: () => new bert.BertModel(bert.bertConfig("tiny")) },
      { name: "bert-base-uncased", describe: () => bert.describe(bert.bertConfig("bert-base-uncased"), ENCODER_SEQ, "BERT-base (uncased)"), build: () => new bert.BertModel(bert.bertConfig("bert-base-uncased")) },
    ],
  },
  {
    name: "roberta",
    paper: "Liu et al. 2019, RoBERTa: A Robustly Optimized BERT Pretraining Approach, https://arxiv.org/abs/1907.11692",
    trainsOn: "nothing yet (no recipe)",
    recipes: [],
    presets: [
      { name: "tiny", describe: () => roberta.describe(roberta.robertaConfig("tiny"), ENCODER_SEQ, "RoBERTa (tiny)"), build: () => new roberta.RobertaModel(roberta.robertaConfig("tiny")) },
      { name: "roberta-base", describe: () => roberta.describe(roberta.robertaConfig("roberta-base"), ENCODER_SEQ, "RoBERTa-base"), build: () => new roberta.RobertaModel(roberta.robertaConfig("roberta-base")) },
    ],
  },
  {
    name: "deberta",
    paper: "He, Gao, Chen 2021, DeBERTaV3: Improving DeBERTa using ELECTRA-Style Pre-Training with Gradient-Disentangled Embedding Sharing, https://arxiv.org/abs/2111.09543",
    trainsOn: "nothing yet (no recipe)",
    recipes: [],
    presets: [
      { name: "tiny", describe: () => deberta.describe(deberta.debertaConfig("tiny"), ENCODER_SEQ, "DeBERTa-v3 (tiny)"), build: () => new deberta.DebertaModel(deberta.debertaConfig("tiny")) },
      { name: "deberta-v3-base", describe: () => deberta.describe(deberta.debertaConfig("deberta-v3-base"), ENCODER_SEQ, "DeBERTa-v3-base"), build: () => new deberta.DebertaModel(deberta.debertaConfig("deberta-v3-base")) },
    ],
  },
  {
    name: "t5",
    paper: "Raffel et al. 2020, Exploring the Limits of Transfer Learning with a Unified Text-to-Text Transformer, https://arxiv.org/abs/1910.10683",
    trainsOn: "nothing yet (no recipe)",
    recipes: [],
    presets: [
      { name: "tiny", describe: () => t5.describe(t5.t5Config("tiny"), DATES_SRC, DATES_TGT, "T5 v1.1 (tiny)"), build: () => new t5.T5(t5.t5Config("tiny")) },
      { name: "t5-small", describe: () => t5.describe(t5.t5Config("t5-small"), SEQ2SEQ_LEN, SEQ2SEQ_LEN, "T5-small (v1.0)"), build: () => new t5.T5(t5.t5Config("t5-small")) },
      { name: "t5-v1_1-small", describe: () => t5.describe(t5.t5Config("t5-v1_1-small"), SEQ2SEQ_LEN, SEQ2SEQ_LEN, "T5-small (v1.1)"), build: () => new t5.T5(t5.t5Config("t5-v1_1-small")) },
    ],
  },
  {
    name: "bart",
    paper: "Lewis et al. 2020, BART: Denoising Sequence-to-Sequence Pre-training for Natural Language Generation, Translation, and Comprehension, https://arxiv.org/abs/1910.13461",
    trainsOn: "nothing yet (no recipe)",
    recipes: [],
    presets: [
      { name: "tiny", describe: () => bart.describe(bart.bartConfig("tiny"), DATES_SRC, DATES_TGT, "BART (tiny)"), build: () => new bart.Bart(bart.bartConfig("tiny")) },
      { name: "bart-base", describe: () => bart.describe(bart.bartConfig("bart-base"), SEQ2SEQ_LEN, SEQ2SEQ_LEN, "BART-base"), build: () => new bart.Bart(bart.bartConfig("bart-base")) },
    ],
  },
];

/**
 * Siblings that share no task but one architecture family: the generated docs set their released presets side
 * by side (docs/compare/<family>-architecture.md), "model:preset" each, the first model the family's ancestor.
 */
export const FAMILIES = {
  "decoder-only": { title: "decoder-only language models (GPT-2 and the Transformer family of issue 6)", presets: ["gpt2:gpt2", "llama:llama-2-7b", "bloom:bloom-560m", "falcon:falcon-7b"] },
  "encoder-only": { title: "bidirectional encoders (BERT and its successors)", presets: ["bert:bert-base-uncased", "roberta:roberta-base", "deberta:deberta-v3-base"] },
  "encoder-decoder": { title: "encoder-decoder Transformers", presets: ["transformer:base", "t5:t5-small", "t5:t5-v1_1-small", "bart:bart-base"] },
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
    throw new ArgumentError(`unknown preset "${presetName}" of ${model.name}; its presets are ${model.presets.map((p) => p.name).join(", ")}`);
  }
  if (presetName === undefined) {
    const owners = ZOO.flatMap((m) => m.presets.filter((p) => p.name === name).map((preset) => ({ model: m, preset })));
    if (owners.length === 1) return owners[0]!;
    if (owners.length > 1) throw new ArgumentError(`"${spec}" is a preset of ${owners.map(entryName).join(" and ")}: say which`);
  }
  throw new ArgumentError(`unknown model "${spec}"; the zoo: ${ZOO.map((m) => m.name).join(", ")} (model:preset picks a preset)`);
}

/** The tasks a model (any of its presets) can be trained on. */
export function tasksOf(model: ZooModel): TaskName[] {
  return [...new Set(model.presets.flatMap((p) => (p.train ? [p.train.task] : [])))];
}
