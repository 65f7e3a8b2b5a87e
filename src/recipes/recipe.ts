// A training recipe: how a model of the zoo is trained to its documented result. Recipes live beside
// their model (src/models/<paper>/recipe.ts) and stay browser-safe: they receive their data (a corpus,
// MNIST arrays) from the caller, report progress through hooks, and return their metrics, tables and
// pictures (PNG bytes) instead of writing files. The CLI (`wnn train <name>`) loads data, shows progress
// and writes the outputs under runs/<name>/.

import type { DataParallelHook } from "./data-parallel-job.js";
import type { Generator } from "../engine/rng.js";

export interface RecipeHooks {
  /** one human-readable line (progress, evaluation results) */
  log(line: string): void;
  /** machine-readable progress: step of total, with the current metrics (loss, accuracy, ...) */
  progress?(step: number, total: number, metrics: Record<string, number>): void;
  /** the process's CPU seconds so far (user + system, all threads), where the host can tell (Node: process.cpuUsage) */
  cpuTime?(): number;
  /** run as worker comm.rank of N data-parallel workers (only a recipe with `dataParallel: true` reads it) */
  dataParallel?: DataParallelHook;
}

/** What a recipe may be given by the caller; each recipe documents which of these it needs. */
export interface RecipeData {
  /** a text corpus (Moby Dick) */
  text?: string;
  /** a list of words (first names) */
  words?: string[];
  /** MNIST as flat arrays: images N·784 in [0, 1], labels 0..9 */
  mnist?: {
    train: { images: Float32Array; labels: Int32Array; count: number };
    test: { images: Float32Array; labels: Int32Array; count: number };
  };
  /** labelled e-mails (SpamAssassin: loadSpamAssassin), label 1 = spam */
  emails?: { text: string; label: number }[];
  /** the synthesized speech corpus: sentences and their WAV files' bytes (buildSpeechCorpus, loadSpeechCorpus) */
  speech?: { items: { text: string; wav: Uint8Array }[] };
  /** a pronouncing dictionary, word → phonemes (loadCmudict) */
  pronunciations?: ReadonlyMap<string, readonly string[]>;
  /** the checkpoint file of a run folder the recipe was pointed at (option `base`), as bytes */
  checkpoint?: Uint8Array;
}

export interface RecipeResult {
  /** the numbers the README reports (validation loss, accuracy, exact match, BLEU, seconds, parameters) */
  metrics: Record<string, number>;
  /** markdown tables (comparisons, per-length accuracy) */
  tables?: Record<string, string>;
  /** pictures as PNG bytes, by file name ("loss.png", "attention.png") */
  images?: Record<string, Uint8Array>;
  /** generated samples (text) */
  samples?: string[];
  /** sounds as WAV bytes, by file name */
  audio?: Record<string, Uint8Array>;
}

export interface Recipe<Options extends Record<string, number | string | boolean>> {
  /** the name after `wnn train` */
  readonly name: string;
  /** the paper, with its link */
  readonly paper: string;
  /** what it trains on, in a few words */
  readonly trainsOn: string;
  /** which RecipeData fields it needs */
  readonly needs: readonly (keyof RecipeData)[];
  /** every option with its default (the CLI turns them into --flags) */
  readonly defaults: Readonly<Options>;
  /** what an option means, for the help (default: "the recipe's <name>"); say what a special default (0) means */
  readonly help?: { readonly [K in keyof Options]?: string };
  /** the range of a numeric option where the command line's rule (cli/recipes.ts optionBounds) does not fit it */
  readonly bounds?: { readonly [K in keyof Options]?: { readonly min: number; readonly max: number } };
  /**
   * true: the recipe trains on N workers when hooks.dataParallel is given (`wnn train <recipe> --workers N`), each
   * on its rows of every batch, with one process's losses; a string: why it cannot (said when --workers is given)
   */
  readonly dataParallel?: true | string;
  run(options: Options, data: RecipeData, hooks: RecipeHooks, generator: Generator): RecipeResult;
}
