// wnn train moe-compare: dense against sparse (mixture-of-experts) GPT decoders on character-level Moby Dick
// (the tokenizer and 90/10 split of `wnn train gpt`), one shape (depth, width, heads, context), one budget:
//   dense         GPT-2 (src/models/gpt2), its MLP 4C wide
//   switch        Switch GPT (src/models/switch): 8 experts each GPT-2's 4C MLP, top-1, capacity factor 1.25,
//                 load-balancing α = 10⁻², z-loss β = 10⁻³ — the same active parameters per token as dense
//                 (+ the routers' E·C per block)
//   dense-wide    one expert 8·4C wide: a dense MLP holding as many parameters as switch's 8 experts (a one-
//                 expert MoE is exactly the MLP, its gate is 1), 8× the MLP compute
//   switch-nolb   switch without the load-balancing loss (α = 0)
//   switch-cf1.0, switch-cf2.0   switch with capacity factors 1.0 and 2.0 (the fraction of dropped tokens)
//   switch-top2   top-2 routing (gates renormalised over the two), capacity factor 1.25
// Every model starts from the same initial-weight seed (a fresh Generator(seed) each), reads the same batches
// in the same order (a fresh Generator(seed + 1) each; a checksum is reported), is estimated on the same fixed
// batches (drawn once from Generator(seed + 2)), and trains with the same AdamW (β 0.9/0.99, weight decay on
// the ≥ 2-dim parameters), cosine schedule with warmup and gradient clipping. The models take their steps in
// turn (step s of each before step s + 1 of any) so that the load of a shared machine falls on all alike; each
// model's time is measured around its own step only. On N data-parallel workers (--workers N) each model trains
// on its rows of every batch, its routers synchronized (the whole batch's load balance and capacity: forwardOnRows),
// so that the losses, the dropped fractions and the estimates are one process's, with every strategy (an expert
// no token chose is skipped by the optimizer as one process skips it: src/distributed/shards.ts).
//
// Output: the table (parameters total and active, ms/step, train and validation loss, dropped fraction, the
// busiest expert's share), the validation curves, the expert load over training with and without the load-
// balancing loss (block 0's tokens per expert at every estimate), and the dropped fraction per capacity factor.

import { isProbing, probeFirstStep } from "./memory-probe.js";
import {
  driverFor,
  forwardOnRows,
  rowsOf,
  type DataParallelHook,
  type Part,
  type StepDriver,
} from "./data-parallel-job.js";
import { noGrad } from "../engine/autograd.js";
import { ArgumentError } from "../engine/errors.js";
import { Generator } from "../engine/rng.js";
import type { Tensor } from "../engine/tensor.js";
import { charTokens } from "../data/char.js";
import { getBatch, trainValSplit } from "../data/batch.js";
import { lineChartPng } from "../io/chart.js";
import { crossEntropy } from "../ops/nn.js";
import type { Module } from "../nn/module.js";
import { AdamW } from "../optim/adam.js";
import { CosineWithWarmupLR } from "../optim/schedulers.js";
import type { Recipe, RecipeData, RecipeHooks, RecipeResult } from "./recipe.js";
import { GPT, gptConfig, countParameters as gptCount } from "../models/gpt2/model.js";
import {
  SwitchGPT,
  switchConfig,
  countParameters as switchCount,
  type SwitchGPTConfig,
} from "../models/switch/model.js";

export type MoECompareOptions = {
  /** optimizer steps per model */
  steps: number;
  batchSize: number;
  blockSize: number;
  nLayer: number;
  nHead: number;
  nEmbd: number;
  /** E, the experts of the sparse models */
  nExperts: number;
  lr: number;
  minLr: number;
  warmupSteps: number;
  weightDecay: number;
  gradClip: number;
  evalEvery: number;
  evalBatches: number;
  seed: number;
  /** only the contenders whose keys are listed (comma-separated), or "all" */
  only: string;
};

/** What the comparison reads of a model's forward. */
interface Forward {
  logits: Tensor; // (B, T, V)
  loss: Tensor | null;
  tokensPerExpert?: number[][];
  droppedFraction?: number;
}

interface Contender {
  key: string;
  note: string;
  build(generator: Generator): Module & { forward(idx: Tensor, targets?: Tensor | null): Forward };
  /** total and active parameters, from the configs' formulas */
  total: number;
  active: number;
}

/** The seven contenders at one shape. */
export function contenders(o: MoECompareOptions, vocabSize: number): Contender[] {
  const base = {
    vocabSize,
    blockSize: o.blockSize,
    nLayer: o.nLayer,
    nHead: o.nHead,
    nEmbd: o.nEmbd,
    dropout: 0,
    bias: true,
  };
  const C = o.nEmbd,
    E = o.nExperts;
  const sw = (over: Partial<SwitchGPTConfig>): SwitchGPTConfig =>
    switchConfig({
      ...base,
      nExperts: E,
      topK: 1,
      expertHidden: 4 * C,
      capacityFactor: 1.25,
      normalizeGates: false,
      auxLossCoef: 0.01,
      zLossCoef: 0.001,
      ...over,
    });
  const sparse = (key: string, note: string, c: SwitchGPTConfig): Contender => ({
    key,
    note,
    build: (generator) => new SwitchGPT(c, { generator }),
    total: switchCount(c),
    active: switchCount(c, { active: true }),
  });
  const dense = gptConfig(base);
  const all: Contender[] = [
    {
      key: "dense",
      note: "GPT-2, MLP 4C",
      build: (generator: Generator) => new GPT(dense, { generator }),
      total: gptCount(dense),
      active: gptCount(dense),
    },
    sparse("switch", `top-1 of ${E} experts × 4C, capacity 1.25, α 0.01`, sw({})),
    // one expert, no capacity, no router losses (z-loss would only shrink its single, inert logit)
    sparse(
      "dense-wide",
      `one MLP ${E}·4C wide (= switch's total)`,
      sw({ nExperts: 1, expertHidden: E * 4 * C, capacityFactor: null, auxLossCoef: 0, zLossCoef: 0 }),
    ),
    sparse("switch-nolb", "switch without the load-balancing loss (α 0)", sw({ auxLossCoef: 0 })),
    sparse("switch-cf1.0", "switch, capacity factor 1.0", sw({ capacityFactor: 1.0 })),
    sparse("switch-cf2.0", "switch, capacity factor 2.0", sw({ capacityFactor: 2.0 })),
    sparse("switch-top2", "top-2, gates renormalised, capacity 1.25", sw({ topK: 2, normalizeGates: true })),
  ];
  return all.filter(
    (c) =>
      o.only === "all" ||
      o.only
        .split(",")
        .map((s) => s.trim())
        .includes(c.key),
  );
}

type Batch = { x: Tensor; y: Tensor };

/** The busiest expert's share of a block's choices, times E: 1 when balanced, E when one expert takes all. */
export function imbalance(counts: readonly number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  return total === 0 ? 0 : (Math.max(...counts) / total) * counts.length;
}

class Run {
  readonly model: ReturnType<Contender["build"]>;
  private readonly optimizer: AdamW;
  private readonly scheduler: CosineWithWarmupLR;
  private readonly batches: Generator;
  /** one process, or this worker's of N, and its rows of every batch */
  private readonly driver: StepDriver;
  private readonly part: Part;
  trainMs = 0;
  checksum = 0;
  droppedSum = 0;
  steps = 0;
  readonly valCurve: [number, number][] = [];
  readonly trainCurve: [number, number][] = [];
  /** block 0's share of the choices per expert at each estimate, and every block's imbalance */
  readonly load: { step: number; shares: number[]; imbalance: number[]; dropped: number }[] = [];

  constructor(
    readonly c: Contender,
    private readonly o: MoECompareOptions,
    private readonly trainTokens: Int32Array,
    dataParallel?: DataParallelHook,
    log?: (line: string) => void,
  ) {
    this.model = c.build(new Generator(o.seed));
    this.batches = new Generator(o.seed + 1);
    const params = this.model.parameters();
    const decay = params.filter((p) => p.ndim >= 2),
      noDecay = params.filter((p) => p.ndim < 2);
    this.optimizer = new AdamW(
      [{ params: decay, weightDecay: o.weightDecay }, ...(noDecay.length ? [{ params: noDecay, weightDecay: 0 }] : [])],
      { lr: o.lr, betas: [0.9, 0.99] },
    );
    this.scheduler = new CosineWithWarmupLR(this.optimizer, {
      warmupIters: Math.min(o.warmupSteps, o.steps),
      lrDecayIters: o.steps,
      maxLr: o.lr,
      minLr: o.minLr,
    });
    // (FSDP: each model one unit; its blocks return the routing besides x)
    ({ driver: this.driver, part: this.part } = driverFor(
      this.model,
      this.optimizer,
      dataParallel,
      log ? { log } : {},
    ));
    rowsOf(o.batchSize, this.part); // splits evenly, or says so
  }

  trainStep(): number {
    const { x, y } = getBatch(this.trainTokens, this.o.blockSize, this.o.batchSize, this.batches); // (B, T) each
    const ids = x.storage as Int32Array;
    for (let i = 0; i < ids.length; i++) this.checksum = (this.checksum + (i + 1) * ids[i]!) % 2147483647;
    const t0 = performance.now();
    // with N workers, this one's rows of the batch, routed with the whole batch's load balance and capacity
    const { start, count } = rowsOf(this.o.batchSize, this.part);
    const [xr, yr] = [x.narrow(0, start, count), y.narrow(0, start, count)]; // (B/N, T), (B/N, T)
    const out = forwardOnRows(this.driver, this.part, () => this.model.forward(xr, yr)); // loss = CE (+ α·L_aux + β·L_z)
    const l = this.driver.mean(out.loss!.item()); // the mean of the workers' losses: the batch's
    out.loss!.backward();
    this.driver.reduceGradients(this.o.gradClip); // the averaged gradient, its norm clipped (0: not)
    this.driver.step(); // the optimizer, then zeroGrad (sharded: with the lr the scheduler set)
    this.scheduler.step();
    this.trainMs += performance.now() - t0;
    this.steps++;
    this.droppedSum += out.droppedFraction === undefined ? 0 : this.driver.mean(out.droppedFraction); // the batch's
    return l;
  }

  /**
   * Mean cross-entropy on the fixed batches (eval mode, no gradients; the sparse models' loss minus the
   * router terms, so every model reports the same quantity), and the routers' load on the val batches.
   */
  evaluate(sets: { train: readonly Batch[]; val: readonly Batch[] }, step: number): { train: number; val: number } {
    let counts: number[][] | null = null,
      dropped = 0;
    const mean = (batches: readonly Batch[], keepLoad: boolean): number => {
      let s = 0;
      for (const { x, y } of batches) {
        const out = this.model.forward(x, y);
        const [B, T, V] = out.logits.shape as [number, number, number];
        s += crossEntropy(out.logits.view(B * T, V), y.view(B * T)).item(); // the CE alone, without router terms
        if (keepLoad && out.tokensPerExpert) {
          counts = counts
            ? counts.map((row, l) => row.map((n, e) => n + out.tokensPerExpert![l]![e]!))
            : out.tokensPerExpert.map((r) => r.slice());
          dropped += out.droppedFraction! / batches.length;
        }
      }
      return s / batches.length;
    };
    this.model.eval();
    let r: { train: number; val: number };
    try {
      // whole on every worker (FSDP: gathered, then freed)
      r = this.driver.within(() => noGrad(() => ({ train: mean(sets.train, false), val: mean(sets.val, true) })));
    } finally {
      this.driver.endEvaluation();
    }
    this.model.train();
    this.trainCurve.push([step, r.train]);
    this.valCurve.push([step, r.val]);
    if (counts) {
      const c = counts as number[][];
      const total0 = c[0]!.reduce((a, b) => a + b, 0);
      this.load.push({ step, shares: c[0]!.map((n) => n / total0), imbalance: c.map(imbalance), dropped });
    }
    return r;
  }
}

function checkOptions(o: MoECompareOptions): void {
  for (const k of [
    "steps",
    "batchSize",
    "blockSize",
    "nLayer",
    "nHead",
    "nEmbd",
    "nExperts",
    "evalEvery",
    "evalBatches",
  ] as const) {
    if (!Number.isInteger(o[k]) || o[k] < 1)
      throw new ArgumentError(`moe-compare: ${k} must be a positive integer, got ${o[k]}`);
  }
  for (const k of ["warmupSteps", "seed"] as const) {
    if (!Number.isInteger(o[k]) || o[k] < 0)
      throw new ArgumentError(`moe-compare: ${k} must be an integer ≥ 0, got ${o[k]}`);
  }
  for (const k of ["lr", "minLr", "weightDecay", "gradClip"] as const) {
    if (!(Number.isFinite(o[k]) && o[k] >= 0))
      throw new ArgumentError(`moe-compare: ${k} must be a finite number ≥ 0, got ${o[k]}`);
  }
  if (o.nExperts < 2)
    throw new ArgumentError(`moe-compare: nExperts must be at least 2 to compare routing, got ${o.nExperts}`);
}

const fmtN = (n: number): string => n.toLocaleString("en-US");

export const moeCompareRecipe: Recipe<MoECompareOptions> = {
  name: "moe-compare",
  paper:
    "Fedus, Zoph & Shazeer 2021 (Switch Transformers), https://arxiv.org/abs/2101.03961; Radford et al. 2019 (GPT-2)",
  trainsOn:
    "Moby Dick, character by character (the first 90% for training); dense vs Switch mixture-of-experts GPTs, one shape, one budget",
  needs: ["text"],
  dataParallel: true, // each model on N workers, each on its rows of every batch (routers synchronized)
  defaults: {
    // the budget of the documented run (docs/compare/moe.md)
    steps: 200,
    batchSize: 8,
    blockSize: 64,
    nLayer: 2,
    nHead: 4,
    nEmbd: 48,
    nExperts: 8,
    lr: 2e-3,
    minLr: 2e-4,
    warmupSteps: 15,
    weightDecay: 0.1,
    gradClip: 1,
    evalEvery: 25,
    evalBatches: 4,
    seed: 1337,
    only: "all",
  },
  run(o: MoECompareOptions, data: RecipeData, hooks: RecipeHooks, _generator: Generator): RecipeResult {
    checkOptions(o);
    const text = data.text ?? "";
    const { tok, ids } = charTokens(text); // (the book's ids, kept for the next build)
    const splits = trainValSplit(ids, 0.9);
    for (const split of ["train", "val"] as const) {
      if (splits[split].length <= o.blockSize)
        throw new ArgumentError(
          `moe-compare: the ${split} split has ${splits[split].length} characters, too few for blocks of ${o.blockSize}`,
        );
    }
    const list = contenders(o, tok.vocabSize);
    if (list.length === 0)
      throw new ArgumentError(
        `moe-compare: "only" (${o.only}) names none of dense, switch, dense-wide, switch-nolb, switch-cf1.0, switch-cf2.0, switch-top2`,
      );
    hooks.log(
      `moby dick: ${splits.train.length} train, ${splits.val.length} val characters, vocabulary ${tok.vocabSize}`,
    );
    hooks.log(
      `shape: ${o.nLayer} layers, ${o.nHead} heads, C ${o.nEmbd}, context ${o.blockSize}; ${o.steps} steps × ${o.batchSize} × ${o.blockSize} characters`,
    );
    const g = new Generator(o.seed + 2);
    const draw = (split: "train" | "val"): Batch[] =>
      Array.from({ length: o.evalBatches }, () => getBatch(splits[split], o.blockSize, o.batchSize, g));
    const sets = { train: draw("train"), val: draw("val") };

    const runs = list.map((c) => {
      const run = new Run(c, o, splits.train, hooks.dataParallel, hooks.log);
      if (run.model.numParameters() !== c.total)
        throw new ArgumentError(
          `moe-compare: ${c.key} has ${run.model.numParameters()} parameters, its formula ${c.total}`,
        );
      hooks.log(`${c.key}: ${fmtN(c.total)} parameters, ${fmtN(c.active)} active per token; ${c.note}`);
      return run;
    });
    const evaluate = (step: number): void => {
      hooks.log(
        `step ${step} train/val: ${runs
          .map((r) => {
            const e = r.evaluate(sets, step);
            return `${r.c.key} ${e.train.toFixed(3)}/${e.val.toFixed(3)}`;
          })
          .join(", ")}`,
      );
    };
    // a memory estimate (memory-probe.ts) measures the first model's first step and stops there
    if (isProbing()) probeFirstStep(() => runs[0]!.trainStep());
    evaluate(0);
    for (let step = 1; step <= o.steps; step++) {
      const losses: Record<string, number> = {};
      for (const run of runs) losses[run.c.key] = run.trainStep();
      hooks.progress?.(step, o.steps, losses);
      if (step % o.evalEvery === 0 || step === o.steps) evaluate(step);
    }

    const metrics: Record<string, number> = {};
    const rows: string[] = [
      "| model | parameters | active per token | ms/step | train loss | val loss | dropped (train) | busiest expert ×E | what it is |",
      "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ];
    for (const r of runs) {
      const last = r.load[r.load.length - 1];
      const k = r.c.key;
      metrics[`${k}.parameters`] = r.c.total;
      metrics[`${k}.activeParameters`] = r.c.active;
      metrics[`${k}.msPerStep`] = r.trainMs / o.steps;
      metrics[`${k}.initialValLoss`] = r.valCurve[0]![1];
      metrics[`${k}.trainLoss`] = r.trainCurve[r.trainCurve.length - 1]![1];
      metrics[`${k}.valLoss`] = r.valCurve[r.valCurve.length - 1]![1];
      metrics[`${k}.batchChecksum`] = r.checksum;
      const moe = last !== undefined && r.c.key !== "dense-wide";
      if (moe) {
        metrics[`${k}.droppedFraction`] = r.droppedSum / o.steps;
        metrics[`${k}.imbalance`] = Math.max(...last.imbalance);
      }
      rows.push(
        `| ${k} | ${fmtN(r.c.total)} | ${fmtN(r.c.active)} | ${(r.trainMs / o.steps).toFixed(0)} | ${metrics[`${k}.trainLoss`]!.toFixed(4)} | ${metrics[`${k}.valLoss`]!.toFixed(4)} | ${moe ? `${(100 * metrics[`${k}.droppedFraction`]!).toFixed(1)}%` : "—"} | ${moe ? metrics[`${k}.imbalance`]!.toFixed(2) : "—"} | ${r.c.note} |`,
      );
    }
    // the expert load over training: block 0's share of the val tokens per expert, at every estimate
    const loadTable: string[] = [
      "| model | step | block-0 share per expert (%) | busiest expert ×E per block | dropped (val) |",
      "|---|---:|---|---|---:|",
    ];
    const images: Record<string, Uint8Array> = {
      "val-loss.png": lineChartPng({
        series: runs.map((r) => ({ name: r.c.key, points: r.valCurve })),
        title: `Moby Dick: validation loss, ${o.steps} steps of ${o.batchSize}x${o.blockSize} characters`,
        xLabel: "step",
        yLabel: "val nats/char",
      }),
    };
    for (const r of runs) {
      if (r.c.key === "dense-wide" || r.load.length === 0) continue;
      for (const l of r.load)
        loadTable.push(
          `| ${r.c.key} | ${l.step} | ${l.shares.map((s) => (100 * s).toFixed(0)).join(" ")} | ${l.imbalance.map((x) => x.toFixed(2)).join(" ")} | ${(100 * l.dropped).toFixed(1)}% |`,
        );
      if (r.c.key === "switch" || r.c.key === "switch-nolb") {
        images[`expert-load-${r.c.key}.png`] = lineChartPng({
          series: Array.from({ length: o.nExperts }, (_, e) => ({
            name: `expert ${e}`,
            points: r.load.map((l) => [l.step, 100 * l.shares[e]!] as [number, number]),
          })),
          title: `${r.c.key}: block 0, % of val tokens per expert`,
          xLabel: "step",
          yLabel: `% of tokens (${(100 / o.nExperts).toFixed(1)} = balanced)`,
          yRange: [0, 100],
        });
      }
    }
    return { metrics, tables: { "moe-compare.md": rows.join("\n"), "expert-load.md": loadTable.join("\n") }, images };
  },
};
