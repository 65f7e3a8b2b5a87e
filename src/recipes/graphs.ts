// What the node-classification recipes (gcn, gat, and their comparison `graphs`) share: the graphs, the
// full-batch training loop with model selection on the validation nodes, a features-only MLP baseline,
// the accuracy table and the karate-club picture. Browser-safe: everything is generated, numbers and
// PNG bytes come out.
//
// The protocol (the same for every model, seed and graph):
//   - the graph and its split are fixed (seed `graphSeed`); the model's seed changes its initial weights
//     and its dropout masks: seeds 0 … seeds−1, each a fresh Generator;
//   - full batch: every epoch is one forward pass over all N nodes, the loss is the cross-entropy on the
//     labelled (train) nodes only, one Adam step (each model with its paper's lr, weight decay, dropout);
//   - `epochs` epochs for every model; the reported test accuracy is the one at the epoch of best
//     validation accuracy (ties: lower validation loss), or at the last epoch when there are no
//     validation nodes (the karate club).
//
// Vocabulary (shape comments): N nodes, F features, K classes.

import { noGrad } from "../engine/autograd.js";
import { ArgumentError } from "../engine/errors.js";
import { Generator } from "../engine/rng.js";
import type { Tensor } from "../engine/tensor.js";
import * as F from "../nn/functional.js";
import { Module } from "../nn/module.js";
import { Dropout, Linear } from "../nn/index.js";
import { Adam } from "../optim/adam.js";
import { Canvas, PALETTE, type Rgb } from "../io/chart.js";
import { encodePng } from "../io/png.js";
import {
  adjacency,
  karateClub,
  maskIndices,
  stochasticBlockModel,
  KARATE_FACTIONS,
  type Graph,
} from "../data/graphs.js";
import { GCN, gcnConfig } from "../models/gcn/model.js";
import { GAT, gatConfig } from "../models/gat/model.js";
import type { Recipe, RecipeData, RecipeHooks, RecipeResult } from "./recipe.js";
import { runLoopSync, type TrainingJob } from "./loop.js";

// =====================================================================================================
// The models and their training settings

/** A model of node features and the adjacency: x (N, F), adj (N, N) → logits (N, K). */
export interface NodeClassifier extends Module {
  forward(x: Tensor, adj: Tensor): Tensor;
}

/** A two-layer perceptron that ignores the graph: the baseline that shows what the edges are worth. */
export class FeatureMLP extends Module {
  drop1: Dropout;
  fc1: Linear;
  drop2: Dropout;
  fc2: Linear;

  constructor(inFeatures: number, hidden: number, numClasses: number, dropout: number, generator: Generator) {
    super();
    this.drop1 = new Dropout(dropout, { generator });
    this.fc1 = new Linear(inFeatures, hidden, { generator });
    this.drop2 = new Dropout(dropout, { generator });
    this.fc2 = new Linear(hidden, numClasses, { generator });
  }

  /** z = W₂·ReLU(W₁x + b₁) + b₂ for every node on its own; adj is not read. */
  forward(x: Tensor, _adj: Tensor): Tensor {
    const h = F.relu(this.fc1.forward(this.drop1.forward(x))); // (N, H)
    return this.fc2.forward(this.drop2.forward(h)); //            (N, K)
  }
}

export type ModelName = "gcn" | "gat" | "mlp";

/** A model and its optimizer, as its paper trains it. */
export interface Setup {
  model: NodeClassifier;
  optimizer: Adam;
}

/**
 * The paper's settings of each model (the widths of the Cora models, scaled to the graph's F and K):
 *   GCN (Kipf & Welling §5.2): 16 hidden, dropout 0.5, Adam lr 0.01, L2 5·10⁻⁴ on the first layer only;
 *   GAT (Veličković et al. §3.3): 8 heads × 8 hidden, 1 output head, dropout 0.6 on inputs and α,
 *       Adam lr 0.005, L2 5·10⁻⁴ on every parameter;
 *   MLP: GCN's settings without the graph (16 hidden, dropout 0.5, lr 0.01, L2 5·10⁻⁴ on the first layer).
 */
export function setup(name: ModelName, graph: Graph, generator: Generator): Setup {
  const Fin = graph.features.shape[1]!,
    K = graph.numClasses;
  if (name === "gcn") {
    const model = new GCN(gcnConfig("kipf", { inFeatures: Fin, numClasses: K }), { generator });
    const [first, ...rest] = [...model.layers];
    const optimizer = new Adam(
      [
        { params: first!.parameters(), weightDecay: 5e-4 },
        { params: rest.flatMap((l) => l.parameters()), weightDecay: 0 },
      ],
      { lr: 0.01 },
    );
    return { model, optimizer };
  }
  if (name === "gat") {
    const model = new GAT(gatConfig("cora", { inFeatures: Fin, numClasses: K }), { generator });
    return { model, optimizer: new Adam(model.parameters(), { lr: 0.005, weightDecay: 5e-4 }) };
  }
  if (name === "mlp") {
    const model = new FeatureMLP(Fin, 16, K, 0.5, generator);
    const optimizer = new Adam(
      [
        { params: model.fc1.parameters(), weightDecay: 5e-4 },
        { params: model.fc2.parameters(), weightDecay: 0 },
      ],
      { lr: 0.01 },
    );
    return { model, optimizer };
  }
  throw new ArgumentError(`graphs: unknown model "${String(name)}"; the models are gcn, gat, mlp`);
}

// =====================================================================================================
// The graphs

export interface GraphOptions {
  /** the seed of the stochastic block model's edges, features and split */
  graphSeed: number;
  /** labelled karate-club members per faction (1: the instructor and the president) */
  karateTrainPerClass: number;
}

/** The two graphs of the comparison: the default stochastic block model (SBM_DEFAULTS) and the karate club. */
export function graphs(o: GraphOptions): Graph[] {
  return [
    stochasticBlockModel({ generator: o.graphSeed }),
    karateClub({ trainPerClass: o.karateTrainPerClass, generator: o.graphSeed }),
  ];
}

// =====================================================================================================
// Training

export interface RunResult {
  model: string;
  graph: string;
  seed: number;
  parameters: number;
  /** the test accuracy at the chosen epoch */
  testAccuracy: number;
  /** the validation accuracy at the chosen epoch (NaN without validation nodes) */
  valAccuracy: number;
  trainAccuracy: number;
  /** the chosen epoch (1-based) */
  epoch: number;
  seconds: number;
  /** predicted class of every node at the chosen epoch */
  predictions: Int32Array;
}

/** Accuracy and mean cross-entropy of logits (N, K) on the nodes `idx`. */
function score(logits: Tensor, labels: Tensor, idx: Tensor): { accuracy: number; loss: number } {
  if (idx.numel() === 0) return { accuracy: NaN, loss: NaN };
  const z = logits.indexSelect(0, idx),
    y = labels.indexSelect(0, idx); // (n, K), (n)
  const right = z.argmax(1).eq(y).sum().item(); // nodes predicted right
  return { accuracy: right / idx.numel(), loss: F.crossEntropy(z, y).item() };
}

/** Train one model on one graph from one seed, as the protocol at the top of this file says. */
export function trainOnGraph(name: ModelName, graph: Graph, seed: number, epochs: number): RunResult {
  const { model, optimizer } = setup(name, graph, new Generator(seed));
  const adj = adjacency(graph); // (N, N)
  const x = graph.features,
    y = graph.labels; // (N, F), (N)
  const train = maskIndices(graph.trainMask),
    val = maskIndices(graph.valMask),
    test = maskIndices(graph.testMask);
  const start = performance.now();
  let best: Omit<RunResult, "model" | "graph" | "seed" | "parameters" | "seconds"> | null = null;
  let bestValLoss = Infinity;
  // the job the shared loop (loop.ts) runs: a full-batch step per epoch, then the evaluation that keeps the best epoch
  let epoch = 0,
    evaluated = 0;
  const job: TrainingJob<{ loss: number }, { valAccuracy: number }> = {
    get step() {
      return epoch;
    },
    totalSteps: epochs,
    trainStep() {
      model.train();
      model.zeroGrad();
      const logits = model.forward(x, adj); // (N, K)
      // loss = −(1/|train|)·Σ_{i ∈ train} log softmax(z_i)[y_i]: only the labelled nodes are seen
      const loss = F.crossEntropy(logits.indexSelect(0, train), y.indexSelect(0, train));
      loss.backward();
      optimizer.step();
      epoch++;
      return { loss: loss.item() };
    },
    evalDue: () => epoch > evaluated,
    *evaluate() {
      model.eval();
      const v = noGrad(() => {
        const z = model.forward(x, adj); // (N, K)
        const v = score(z, y, val);
        const better =
          val.numel() === 0 ||
          best === null ||
          v.accuracy > best.valAccuracy ||
          (v.accuracy === best.valAccuracy && v.loss < bestValLoss);
        if (better) {
          best = {
            epoch,
            valAccuracy: v.accuracy,
            trainAccuracy: score(z, y, train).accuracy,
            testAccuracy: score(z, y, test).accuracy,
            predictions: Int32Array.from(z.argmax(1).storage),
          };
          bestValLoss = v.loss;
        }
        return v;
      });
      evaluated = epoch;
      yield;
      return { valAccuracy: v.accuracy };
    },
  };
  runLoopSync(job, {});
  const seconds = (performance.now() - start) / 1000;
  return { model: name, graph: graph.name, seed, parameters: model.numParameters(), seconds, ...best! };
}

export interface CompareOptions extends GraphOptions {
  seeds: number;
  epochs: number;
}

/** Every model on every graph from seeds 0 … seeds−1. */
export function compare(
  models: readonly ModelName[],
  o: CompareOptions,
  hooks: RecipeHooks,
): { graphs: Graph[]; runs: RunResult[] } {
  if (!(Number.isInteger(o.seeds) && o.seeds >= 1))
    throw new ArgumentError(`graphs: seeds must be a positive integer, got ${o.seeds}`);
  if (!(Number.isInteger(o.epochs) && o.epochs >= 1))
    throw new ArgumentError(`graphs: epochs must be a positive integer, got ${o.epochs}`);
  const gs = graphs(o);
  const runs: RunResult[] = [];
  const total = models.length * gs.length * o.seeds;
  for (const graph of gs) {
    for (const name of models) {
      for (let seed = 0; seed < o.seeds; seed++) {
        const r = trainOnGraph(name, graph, seed, o.epochs);
        runs.push(r);
        hooks.log(
          `${name} on ${graph.name}, seed ${seed}: test accuracy ${(100 * r.testAccuracy).toFixed(1)}% (epoch ${r.epoch}${Number.isNaN(r.valAccuracy) ? "" : `, val ${(100 * r.valAccuracy).toFixed(1)}%`}, train ${(100 * r.trainAccuracy).toFixed(1)}%), ${r.seconds.toFixed(1)} s`,
        );
        hooks.progress?.(runs.length, total, { testAccuracy: r.testAccuracy });
      }
    }
  }
  return { graphs: gs, runs };
}

// =====================================================================================================
// Reporting

const mean = (v: number[]): number => v.reduce((s, x) => s + x, 0) / v.length;
/** the sample standard deviation (n − 1), 0 for a single value */
const std = (v: number[]): number =>
  v.length < 2 ? 0 : Math.sqrt(v.reduce((s, x) => s + (x - mean(v)) ** 2, 0) / (v.length - 1));

/** Mean and standard deviation of the test accuracy of one model on one graph, in %. */
export function summary(
  runs: RunResult[],
  model: string,
  graph: string,
): { mean: number; std: number; seconds: number; parameters: number } {
  const rs = runs.filter((r) => r.model === model && r.graph === graph);
  const acc = rs.map((r) => 100 * r.testAccuracy);
  return {
    mean: mean(acc),
    std: std(acc),
    seconds: mean(rs.map((r) => r.seconds)),
    parameters: rs[0]?.parameters ?? 0,
  };
}

const DISPLAY: Record<string, string> = {
  gcn: "GCN (Kipf & Welling 2017)",
  gat: "GAT (Veličković et al. 2018)",
  mlp: "MLP (features only, no graph)",
};

/** The markdown table: one row per model, per graph its test accuracy (mean ± std over the seeds), parameters and seconds per run. */
export function accuracyTable(runs: RunResult[], models: readonly string[], gs: Graph[], seeds: number): string {
  const head = `| model | ${gs.map((g) => `${g.name}: test accuracy (%) | parameters | s / run`).join(" | ")} |`;
  const rule = `|---|${gs.map(() => "---|---|---").join("|")}|`;
  const rows = models.map(
    (m) =>
      `| ${DISPLAY[m] ?? m} | ${gs
        .map((g) => {
          const s = summary(runs, m, g.name);
          return `${s.mean.toFixed(1)} ± ${s.std.toFixed(1)} | ${s.parameters.toLocaleString("en-US")} | ${s.seconds.toFixed(2)}`;
        })
        .join(" | ")} |`,
  );
  return [
    head,
    rule,
    ...rows,
    "",
    `Mean ± sample standard deviation over ${seeds} seed${seeds === 1 ? "" : "s"}.`,
  ].join("\n");
}

/** The flat metrics: <model>_<graph>_test_acc_mean/_std (%), per graph "sbm" and "karate". */
export function metricsOf(runs: RunResult[], models: readonly string[], gs: Graph[]): Record<string, number> {
  const out: Record<string, number> = {};
  gs.forEach((g, k) => {
    const key = k === 0 ? "sbm" : "karate";
    for (const m of models) {
      const s = summary(runs, m, g.name);
      out[`${m}_${key}_test_acc_mean`] = s.mean;
      out[`${m}_${key}_test_acc_std`] = s.std;
      out[`${m}_${key}_seconds_per_run`] = s.seconds;
      out[`${m}_${key}_parameters`] = s.parameters;
    }
  });
  return out;
}

// =====================================================================================================
// The karate club, coloured by prediction

/**
 * A force-directed layout (Fruchterman & Reingold 1991), seeded: nodes repel with k²/d, edges attract with
 * d²/k, the step shrinks linearly ("cooling"). Positions in [0, 1]².
 */
export function springLayout(graph: Pick<Graph, "numNodes" | "edges">, seed = 0, iterations = 300): [number, number][] {
  const N = graph.numNodes,
    g = new Generator(seed);
  const pos = Array.from({ length: N }, () => [g.random(), g.random()] as [number, number]);
  const k = Math.sqrt(1 / N);
  for (let it = 0; it < iterations; it++) {
    const t = 0.1 * (1 - it / iterations); // the largest move this iteration
    const disp = Array.from({ length: N }, () => [0, 0]);
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < N; j++) {
        if (i === j) continue;
        const dx = pos[i]![0] - pos[j]![0],
          dy = pos[i]![1] - pos[j]![1];
        const d = Math.max(Math.hypot(dx, dy), 1e-4);
        const f = (k * k) / d; // repulsion
        disp[i]![0]! += (dx / d) * f;
        disp[i]![1]! += (dy / d) * f;
      }
    }
    for (const [i, j] of graph.edges) {
      const dx = pos[i]![0] - pos[j]![0],
        dy = pos[i]![1] - pos[j]![1];
      const d = Math.max(Math.hypot(dx, dy), 1e-4);
      const f = (d * d) / k; // attraction
      disp[i]![0]! -= (dx / d) * f;
      disp[i]![1]! -= (dy / d) * f;
      disp[j]![0]! += (dx / d) * f;
      disp[j]![1]! += (dy / d) * f;
    }
    for (let i = 0; i < N; i++) {
      const len = Math.max(Math.hypot(disp[i]![0]!, disp[i]![1]!), 1e-9);
      const step = Math.min(len, t);
      pos[i]![0] += (disp[i]![0]! / len) * step;
      pos[i]![1] += (disp[i]![1]! / len) * step;
    }
  }
  // scale into [0, 1]²
  const xs = pos.map((p) => p[0]),
    ys = pos.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  return pos.map(([x, y]) => [(x - x0) / (x1 - x0 || 1), (y - y0) / (y1 - y0 || 1)]);
}

function disc(c: Canvas, cx: number, cy: number, r: number, color: Rgb): void {
  for (let y = Math.floor(cy - r); y <= Math.ceil(cy + r); y++) {
    for (let x = Math.floor(cx - r); x <= Math.ceil(cx + r); x++)
      if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) c.set(x, y, color);
  }
}

/**
 * The graph with every node filled in the colour of its predicted faction; a red ring marks a wrong
 * prediction, a black ring a labelled (training) node. One panel per model, side by side.
 */
export function karatePng(graph: Graph, panels: { title: string; predictions: Int32Array }[], seed = 0): Uint8Array {
  const size = 360,
    margin = 30,
    top = 24;
  const layout = springLayout(graph, seed);
  const canvas = new Canvas(size * panels.length, size + top + 26);
  const colors = [PALETTE[0]!, PALETTE[1]!];
  panels.forEach((panel, p) => {
    const ox = p * size;
    const at = (i: number): [number, number] => [
      ox + margin + layout[i]![0] * (size - 2 * margin),
      top + margin + layout[i]![1] * (size - 2 * margin),
    ];
    canvas.text(ox + 10, 6, panel.title, [0, 0, 0], 2);
    for (const [i, j] of graph.edges) canvas.line(...at(i), ...at(j), [190, 190, 190]);
    for (let i = 0; i < graph.numNodes; i++) {
      const [x, y] = at(i);
      const wrong = panel.predictions[i] !== graph.labels.storage[i];
      if (wrong) disc(canvas, x, y, 11, [214, 39, 40]);
      else if (graph.trainMask.storage[i]) disc(canvas, x, y, 11, [0, 0, 0]);
      disc(canvas, x, y, 8, colors[panel.predictions[i]!]!);
      const label = String(i);
      canvas.text(x - (label.length * 6) / 2 + 1, y - 3, label, [255, 255, 255]);
    }
  });
  canvas.text(
    10,
    size + top,
    `fill: predicted faction (blue ${KARATE_FACTIONS[0]}, orange ${KARATE_FACTIONS[1]})`,
    [0, 0, 0],
  );
  canvas.text(10, size + top + 10, "black ring: labelled; red ring: wrong", [0, 0, 0]);
  return encodePng(canvas.toImage());
}

// =====================================================================================================
// The recipes

export interface GraphRecipeOptions extends Record<string, number | string | boolean> {
  /** seeds per model and graph (the table reports mean ± std over them) */
  seeds: number;
  /** full-batch epochs (Adam steps) for every model */
  epochs: number;
  /** the seed of the stochastic block model */
  graphSeed: number;
  /** labelled karate-club members per faction */
  karateTrainPerClass: number;
}

export const GRAPH_DEFAULTS: Readonly<GraphRecipeOptions> = Object.freeze({
  seeds: 5,
  epochs: 300,
  graphSeed: 0,
  karateTrainPerClass: 1,
});

/** A recipe that trains `models` on both graphs and returns the accuracy table and the karate picture. */
export function graphRecipe(name: string, paper: string, models: readonly ModelName[]): Recipe<GraphRecipeOptions> {
  return {
    name,
    paper,
    trainsOn:
      "a seeded stochastic block model (4 communities of 40 nodes, noisy Gaussian features) and Zachary's karate club (34 members, 78 ties, 2 factions)",
    needs: [],
    dataParallel:
      "it trains full-batch on one graph: every step's forward passes messages over all the nodes at once, so there is no batch of independent examples to split over workers",
    defaults: GRAPH_DEFAULTS,
    run(options: GraphRecipeOptions, _data: RecipeData, hooks: RecipeHooks, _generator: Generator): RecipeResult {
      // the seeds are explicit (0 … seeds−1, the same for every model), so the caller's generator is not drawn from
      const o = { ...GRAPH_DEFAULTS, ...options };
      const start = performance.now();
      const { graphs: gs, runs } = compare(models, o, hooks);
      const karate = gs[1]!;
      const seed0 = runs.filter((r) => r.graph === karate.name && r.seed === 0);
      const panels = models.map((m) => {
        const r = seed0.find((x) => x.model === m)!;
        return {
          title: `${m.toUpperCase()}: ${(100 * r.testAccuracy).toFixed(0)}% of the test members`,
          predictions: r.predictions,
        };
      });
      return {
        metrics: {
          ...metricsOf(runs, models, gs),
          seconds: (performance.now() - start) / 1000,
          seeds: o.seeds,
          epochs: o.epochs,
        },
        tables: { accuracy: accuracyTable(runs, models, gs, o.seeds) },
        images: { "karate.png": karatePng(karate, panels) },
      };
    },
  };
}

/** `wnn train graphs`: GCN, GAT and the features-only MLP side by side on both graphs. */
export const graphsRecipe = graphRecipe(
  "graphs",
  "Kipf & Welling 2017, https://arxiv.org/abs/1609.02907 and Veličković et al. 2018, https://arxiv.org/abs/1710.10903",
  ["mlp", "gcn", "gat"],
);
