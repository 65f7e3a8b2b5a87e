// GCN: the graph convolutional network for semi-supervised node classification.
//   Kipf & Welling 2017, "Semi-Supervised Classification with Graph Convolutional Networks" (ICLR 2017),
//   https://arxiv.org/abs/1609.02907
//
// Each layer mixes every node's features with its neighbours' by a fixed, symmetric-normalised adjacency
// (a first-order approximation of spectral graph convolutions, Kipf & Welling §2.2, eq. 8):
//   H' = σ(D̃^{-1/2} Ã D̃^{-1/2} H W),   Ã = A + I,   D̃_ii = Σ_j Ã_ij
// The two-layer model of the paper (eq. 9):  Z = softmax(Â · ReLU(Â X W⁽⁰⁾) · W⁽¹⁾),  Â = D̃^{-1/2} Ã D̃^{-1/2}.
// The neighbours' weights Â_ij = 1/√(d̃_i d̃_j) come from the degrees alone; GAT (../gat/model.ts) learns them.
//
// Read top to bottom: config → layers (the normalised adjacency, the graph convolution) → model → init.
// No weight map: there are no released GCN checkpoints to load; the parameter names follow PyTorch
// Geometric's GCNConv (`lin.weight` stored (out, in), `bias`).
//
// The graph is dense: A (N, N) as a float tensor, Â·(HW) one matmul. For the graphs here (N ≤ a few
// hundred) that is simpler and faster than an edge list with gather/scatterAdd; a sparse graph of 10⁵
// nodes would need the edge list (see ../gat/README.md, "Dense adjacency").
//
// Vocabulary (shape comments): N nodes, F input features, H hidden features, K classes.

import { noGrad } from "../../engine/autograd.js";
import { eye } from "../../engine/creation.js";
import { ShapeError } from "../../engine/errors.js";
import { configOf } from "../presets.js";
import { defaultGenerator, Generator } from "../../engine/rng.js";
import { fmt } from "../../engine/shape.js";
import type { Tensor } from "../../engine/tensor.js";
import * as F from "../../nn/functional.js";
import { Module, ModuleList, Parameter } from "../../nn/module.js";
import { Dropout, Linear } from "../../nn/index.js";
import { param } from "../../nn/linear.js";
import { uniform_, zeros_ } from "../../nn/init.js";
import { linearFlops, matmulFlops, sortedKinds, type Architecture } from "../architecture.js";

// =====================================================================================================
// Config

export interface GCNConfig {
  /** features per node (F) */
  readonly inFeatures: number;
  /** features of every hidden layer (H) */
  readonly hidden: number;
  /** classes (K): the last layer's width */
  readonly numClasses: number;
  /** graph convolutions (the paper: 2) */
  readonly nLayer: number;
  /** dropout on the input of every layer (the paper: 0.5) */
  readonly dropout: number;
  /** a bias added after the aggregation (PyG's GCNConv: true; Kipf's code: false) */
  readonly bias: boolean;
}

/** A checked, frozen config: `gcnConfig("kipf", { inFeatures: 34, numClasses: 2 })`. */
export function gcnConfig(base: GCNConfig | keyof typeof PRESETS, overrides: Partial<GCNConfig> = {}): GCNConfig {
  return configOf("GCNConfig", PRESETS, base, overrides, {
    positive: ["inFeatures", "hidden", "numClasses", "nLayer"],
    probabilities: ["dropout"],
    flags: ["bias"],
  });
}

export const PRESETS = Object.freeze({
  /** the paper's Cora model (§5.2): 1433 bag-of-words features, 16 hidden units, 7 classes, dropout 0.5 */
  kipf: Object.freeze({ inFeatures: 1433, hidden: 16, numClasses: 7, nLayer: 2, dropout: 0.5, bias: true }),
} satisfies Record<string, GCNConfig>);

/** The widths of the layers: F → H → … → H → K. */
function widths(c: GCNConfig): number[] {
  return [c.inFeatures, ...Array<number>(c.nLayer - 1).fill(c.hidden), c.numClasses];
}

/** The number of parameters, counted from the equations (nothing allocated). */
export function countParameters(c: GCNConfig): number {
  const w = widths(c);
  let n = 0;
  for (let l = 0; l < c.nLayer; l++) n += w[l]! * w[l + 1]! + (c.bias ? w[l + 1]! : 0); // W (in, out), b (out)
  return n;
}

/**
 * The architecture in one row (src/models/architecture.ts), on a graph of `nodes` nodes (default 160, the
 * stochastic block model of src/recipes/graphs.ts). FLOPs per node: each layer's H·W, 2·in·out, and its share of the
 * dense aggregation Â·(HW) (N, N)·(N, out), 2·N·out — dense, so it grows with the graph, not the degree.
 */
export function describe(c: GCNConfig, nodes = 160): Architecture {
  const w = widths(c);
  let flops = 0;
  for (let l = 0; l < c.nLayer; l++)
    flops += linearFlops(w[l]!, w[l + 1]!) + matmulFlops(nodes, nodes, w[l + 1]!) / nodes;
  return {
    title: "GCN",
    config: `${c.nLayer} layers, ${w.join(" → ")}${c.bias ? "" : ", no bias"}`,
    parameters: countParameters(c),
    // GraphConv owns its bias (added after the aggregation) and holds the Linear W
    layers: sortedKinds({ [GraphConv.name]: c.bias ? c.nLayer : 0, [Linear.name]: c.nLayer }),
    normalization: "none in the layers; the adjacency is renormalised, Â = D̃^-1/2 (A + I) D̃^-1/2",
    positions: "none: permutation-equivariant; a node knows its neighbours through Â",
    attention: "none: fixed neighbour weights Â_ij = 1/√(d̃_i d̃_j)",
    activation: "ReLU",
    flops: { value: flops, per: "node", at: `${nodes.toLocaleString("en-US")} nodes, dense Â` },
  };
}

// =====================================================================================================
// Layers

/**
 * The renormalised adjacency of Kipf & Welling §2.2 (the "renormalization trick"):
 *   Â = D̃^{-1/2} Ã D̃^{-1/2},  Ã = A + I_N,  D̃_ii = Σ_j Ã_ij
 * adj (N, N): symmetric, 0/1, no self-loops → Â (N, N), a constant (no gradient flows into the graph).
 */
export function normalizedAdjacency(adj: Tensor): Tensor {
  if (adj.ndim !== 2 || adj.shape[0] !== adj.shape[1])
    throw new ShapeError(`GCN: the adjacency must be (N, N), got ${fmt(adj.shape)}`);
  const N = adj.shape[0]!;
  return noGrad(() => {
    // Ã = A + I
    const aTilde = adj.add(eye(N, N, { dtype: adj.dtype })); // (N, N)
    // d̃_i^{-1/2} = (Σ_j Ã_ij)^{-1/2}  (≥ 1 thanks to the self-loop, so never a division by 0)
    const dInvSqrt = aTilde.sum(1).rsqrt(); // (N)
    // Â_ij = d̃_i^{-1/2} · Ã_ij · d̃_j^{-1/2}
    return dInvSqrt.unsqueeze(1).mul(aTilde).mul(dInvSqrt.unsqueeze(0)); // (N, N)
  });
}

/** One graph convolution (Kipf & Welling eq. 8 without σ): H' = Â · (H W) + b. */
export class GraphConv extends Module {
  lin: Linear; //               W stored (out, in), no bias of its own
  bias: Parameter | null; //    (out), added after the aggregation
  drop: Dropout;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    c: GCNConfig,
    generator: Generator,
  ) {
    super();
    this.lin = new Linear(inFeatures, outFeatures, { bias: false, generator });
    this.bias = c.bias ? param([outFeatures]) : null;
    this.drop = new Dropout(c.dropout, { generator });
  }

  /** h (N, in), aHat (N, N) → (N, out) */
  forward(h: Tensor, aHat: Tensor): Tensor {
    h = this.drop.forward(h); // dropout on the layer's input (Kipf & Welling §5.2)
    // H W first, then Â·(HW): multiplying by Â after the projection is cheaper when out < in
    const hw = this.lin.forward(h); // (N, out)
    // H' = Â H W + b
    const y = aHat.matmul(hw); // (N, out)
    return this.bias ? y.add(this.bias) : y;
  }
}

// =====================================================================================================
// Model

export interface GCNOptions {
  /** the source of the initial weights and of the dropout masks (default: the library's default generator) */
  generator?: Generator;
}

export class GCN extends Module {
  readonly config: GCNConfig;
  layers: ModuleList<GraphConv>;

  constructor(config: GCNConfig, opts: GCNOptions = {}) {
    super();
    const c = (this.config = gcnConfig(config));
    const generator = opts.generator ?? defaultGenerator;
    const w = widths(c);
    this.layers = new ModuleList(
      Array.from({ length: c.nLayer }, (_, l) => new GraphConv(w[l]!, w[l + 1]!, c, generator)),
    );
    this.initWeights(generator);
  }

  /**
   * x (N, F) node features, adj (N, N) the plain adjacency (0/1, symmetric, no self-loops) → logits (N, K).
   *   Z = Â · ReLU(Â X W⁽⁰⁾ + b⁽⁰⁾) · W⁽¹⁾ + b⁽¹⁾   (eq. 9; the softmax is in the loss, F.crossEntropy)
   */
  forward(x: Tensor, adj: Tensor): Tensor {
    checkInputs(x, adj, this.config.inFeatures);
    const aHat = normalizedAdjacency(adj.dtype === x.dtype ? adj : adj.to(x.dtype)); // (N, N)
    let h = x; // (N, F)
    const L = this.layers.length;
    for (let l = 0; l < L; l++) {
      h = this.layers.at(l).forward(h, aHat); // (N, H), the last (N, K)
      // H⁽ˡ⁺¹⁾ = ReLU(Â H⁽ˡ⁾ W⁽ˡ⁾) for the hidden layers; the last layer's outputs are the logits
      if (l < L - 1) h = F.relu(h);
    }
    return h; // (N, K)
  }

  // ===================================================================================================
  // Init

  /** Kipf & Welling's code: W ~ Glorot uniform U(±√(6/(in + out))), b = 0. */
  private initWeights(generator: Generator): void {
    noGrad(() => {
      for (const layer of this.layers) {
        const a = Math.sqrt(6 / (layer.inFeatures + layer.outFeatures));
        uniform_(layer.lin.weight, -a, a, { generator });
        if (layer.bias) zeros_(layer.bias);
      }
    });
  }
}

/** x (N, F) and adj (N, N), N matching, F as configured. */
function checkInputs(x: Tensor, adj: Tensor, inFeatures: number): void {
  if (x.ndim !== 2 || x.shape[1] !== inFeatures)
    throw new ShapeError(`GCN: x must be (N, ${inFeatures}), got ${fmt(x.shape)}`);
  const N = x.shape[0]!;
  if (adj.ndim !== 2 || adj.shape[0] !== N || adj.shape[1] !== N) {
    throw new ShapeError(`GCN: adj must be (N, N) = (${N}, ${N}) for x ${fmt(x.shape)}, got ${fmt(adj.shape)}`);
  }
}
