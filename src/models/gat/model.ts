// GAT: graph attention networks for node classification.
//   Veličković, Cucurull, Casanova, Romero, Liò, Bengio 2018, "Graph Attention Networks" (ICLR 2018),
//   https://arxiv.org/abs/1710.10903
//
// Each node attends over its neighbours (and itself) only, with scores computed from the two nodes'
// projected features (§2.1):
//   e_ij = LeakyReLU(aᵀ [W h_i ‖ W h_j])                      (eq. 1 and 3, slope 0.2)
//   α_ij = softmax_j(e_ij) = exp(e_ij) / Σ_{k ∈ N(i) ∪ {i}} exp(e_ik)   (eq. 2): zero outside the neighbourhood
//   h'_i = σ(Σ_{j ∈ N(i) ∪ {i}} α_ij W h_j)                  (eq. 4)
// with K independent heads, concatenated in the hidden layers (eq. 5) and averaged in the output layer
// (eq. 6). Dropout (p = 0.6) on every layer's input and on the normalised coefficients α.
//
// Differences from GCN (../gcn/model.ts) — written out whole so that a diff shows them:
//   - the weight of neighbour j in node i's sum is learned (α_ij, from the features) instead of fixed by
//     the degrees (Â_ij = 1/√(d̃_i d̃_j)); it is a softmax, so each row sums to 1 (a weighted mean, not a sum);
//   - K heads per layer, concatenated (hidden) or averaged (output); ELU instead of ReLU;
//   - dropout also on the attention coefficients.
//
// Read top to bottom: config → layer (the attention) → model → init. No weight map: there are no
// released GAT checkpoints to load; the parameter names follow PyTorch Geometric's GATConv
// (`lin.weight` (nh·F', F), `attSrc`/`attDst` (nh, F'), `bias`).
//
// The graph is dense: the scores of all N² pairs are computed and the non-neighbours are set to −∞
// before the softmax (maskedFill), so their α is exactly 0. That costs O(nh·N²) memory, fine for the few
// hundred nodes here; an edge list with gather/scatterAdd would cost O(nh·E) (README, "Dense adjacency").
//
// Vocabulary (shape comments): N nodes, F input features, nh heads, Fo = F' features per head,
// K classes.

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

export interface GATConfig {
  /** features per node (F) */
  readonly inFeatures: number;
  /** features per head in the hidden layers (F') */
  readonly hidden: number;
  /** heads of every hidden layer, concatenated: a hidden layer outputs heads·hidden features */
  readonly heads: number;
  /** classes (K): the output layer's width */
  readonly numClasses: number;
  /** heads of the output layer, averaged (the paper: 1 for Cora and Citeseer, 8 for PubMed) */
  readonly outHeads: number;
  /** attention layers (the paper: 2 for the transductive tasks) */
  readonly nLayer: number;
  /** dropout on the input of every layer (the paper: 0.6) */
  readonly dropout: number;
  /** dropout on the normalised attention coefficients α (the paper: 0.6) */
  readonly attnDropout: number;
  /** the LeakyReLU slope of the scores for negative inputs (the paper: 0.2) */
  readonly negativeSlope: number;
  /** a bias added after the aggregation (the paper's code: yes) */
  readonly bias: boolean;
}

/** A checked, frozen config: `gatConfig("cora", { inFeatures: 34, numClasses: 2 })`. */
export function gatConfig(base: GATConfig | keyof typeof PRESETS, overrides: Partial<GATConfig> = {}): GATConfig {
  return configOf("GATConfig", PRESETS, base, overrides, {
    positive: ["inFeatures", "hidden", "heads", "numClasses", "outHeads", "nLayer"],
    probabilities: ["dropout", "attnDropout"],
    nonNegative: ["negativeSlope"],
    flags: ["bias"],
  });
}

export const PRESETS = Object.freeze({
  /** the paper's Cora model (§3.3): 8 heads × 8 features, ELU, one output head over 7 classes, dropout 0.6 */
  cora: Object.freeze({
    inFeatures: 1433,
    hidden: 8,
    heads: 8,
    numClasses: 7,
    outHeads: 1,
    nLayer: 2,
    dropout: 0.6,
    attnDropout: 0.6,
    negativeSlope: 0.2,
    bias: true,
  }),
  /** the paper's PubMed model (§3.3): as Cora but 8 output heads, averaged, over 3 classes */
  pubmed: Object.freeze({
    inFeatures: 500,
    hidden: 8,
    heads: 8,
    numClasses: 3,
    outHeads: 8,
    nLayer: 2,
    dropout: 0.6,
    attnDropout: 0.6,
    negativeSlope: 0.2,
    bias: true,
  }),
} satisfies Record<string, GATConfig>);

/** Each layer's input width, heads, features per head, and whether its heads are concatenated. */
function layerShapes(c: GATConfig): { inF: number; heads: number; outF: number; concat: boolean }[] {
  return Array.from({ length: c.nLayer }, (_, l) => {
    const inF = l === 0 ? c.inFeatures : c.heads * c.hidden;
    return l < c.nLayer - 1
      ? { inF, heads: c.heads, outF: c.hidden, concat: true }
      : { inF, heads: c.outHeads, outF: c.numClasses, concat: false };
  });
}

/** The number of parameters, counted from the equations (nothing allocated). */
export function countParameters(c: GATConfig): number {
  let n = 0;
  for (const { inF, heads, outF, concat } of layerShapes(c)) {
    // W (nh·F', F), a₁ and a₂ (nh, F') each, b (nh·F' when concatenated, F' when averaged)
    n += heads * outF * inF + 2 * heads * outF + (c.bias ? (concat ? heads * outF : outF) : 0);
  }
  return n;
}

/**
 * The architecture in one row (src/models/architecture.ts), on a graph of `nodes` nodes (default 160, the
 * stochastic block model of src/recipes/graphs.ts). FLOPs per node: each layer's W h for every head, 2·in·nh·F', and
 * its share of the dense aggregation α·(W h) (nh, N, N)·(nh, N, F'), 2·nh·N·F'. The scores aᵀ[W h_i ‖ W h_j]
 * are two dot products per node and head (elementwise work, not counted).
 */
export function describe(c: GATConfig, nodes = 160): Architecture {
  let flops = 0;
  for (const { inF, heads, outF } of layerShapes(c))
    flops += linearFlops(inF, heads * outF) + (heads * matmulFlops(nodes, nodes, outF)) / nodes;
  return {
    title: "GAT",
    config: `${c.nLayer} layers, ${c.heads} heads × ${c.hidden} hidden, ${c.outHeads} output head${c.outHeads === 1 ? "" : "s"}, ${c.inFeatures} → ${c.numClasses}`,
    parameters: countParameters(c),
    // GraphAttention owns a₁, a₂ (and the bias) and holds the Linear W of its heads
    layers: sortedKinds({ [GraphAttention.name]: c.nLayer, [Linear.name]: c.nLayer }),
    normalization: "none (softmax over each neighbourhood)",
    positions: "none: permutation-equivariant; a node sees only its neighbours (masked scores)",
    attention: `graph attention: additive scores LeakyReLU(aᵀ[W h_i ‖ W h_j]), softmax over N(i) ∪ {i}, ${c.heads} heads (concatenated; output ${c.outHeads}, averaged)`,
    activation: `ELU; LeakyReLU (slope ${c.negativeSlope}) in the scores`,
    flops: { value: flops, per: "node", at: `${nodes.toLocaleString("en-US")} nodes, dense α` },
  };
}

// =====================================================================================================
// Layer

/** One graph attention layer with nh heads (§2.1–2.2). */
export class GraphAttention extends Module {
  drop: Dropout;
  lin: Linear; //               W of every head, stacked: (nh·F', F), no bias
  attSrc: Parameter; //         a₂, the half of a that reads the neighbour j: (nh, F')
  attDst: Parameter; //         a₁, the half of a that reads the centre node i: (nh, F')
  attnDrop: Dropout;
  bias: Parameter | null; //    (nh·F') when the heads are concatenated, (F') when averaged
  readonly negativeSlope: number;

  constructor(
    readonly inFeatures: number,
    readonly heads: number,
    readonly outFeatures: number,
    /** concatenate the heads (hidden layers, eq. 5) or average them (output layer, eq. 6) */
    readonly concat: boolean,
    c: GATConfig,
    generator: Generator,
  ) {
    super();
    this.drop = new Dropout(c.dropout, { generator });
    this.lin = new Linear(inFeatures, heads * outFeatures, { bias: false, generator });
    this.attSrc = param([heads, outFeatures]);
    this.attDst = param([heads, outFeatures]);
    this.attnDrop = new Dropout(c.attnDropout, { generator });
    this.bias = c.bias ? param([concat ? heads * outFeatures : outFeatures]) : null;
    this.negativeSlope = c.negativeSlope;
  }

  /**
   * h (N, F), nonEdge (N, N) bool: true where j ∉ N(i) ∪ {i} → (N, nh·F') concatenated or (N, F')
   * averaged. With `attentions`, the coefficients α (nh, N, N) (before their dropout) are pushed into it.
   */
  forward(h: Tensor, nonEdge: Tensor, attentions?: Tensor[]): Tensor {
    const N = h.shape[0]!,
      nh = this.heads,
      Fo = this.outFeatures;
    h = this.drop.forward(h); // dropout on the layer's input
    // W h_j for every node and head (eq. 1's shared linear transformation, one W per head)
    const wh = this.lin.forward(h).view(N, nh, Fo).transpose(0, 1); // (nh, N, F')
    // a = [a₁ ‖ a₂] splits aᵀ[W h_i ‖ W h_j] into a₁ᵀ W h_i + a₂ᵀ W h_j: two scores per node, not N² products
    const sDst = wh.mul(this.attDst.unsqueeze(1)).sum(2); // (nh, N): a₁ᵀ W h_i
    const sSrc = wh.mul(this.attSrc.unsqueeze(1)).sum(2); // (nh, N): a₂ᵀ W h_j
    // e_ij = LeakyReLU(a₁ᵀ W h_i + a₂ᵀ W h_j)   (eq. 3, slope 0.2)
    const e = F.leakyRelu(sDst.unsqueeze(2).add(sSrc.unsqueeze(1)), this.negativeSlope); // (nh, N, N)
    // masked attention: only j ∈ N(i) ∪ {i} compete; e_ij = −∞ elsewhere, so exp(e_ij) = 0 exactly
    const masked = e.maskedFill(nonEdge, -Infinity); // (nh, N, N)
    // α_ij = exp(e_ij) / Σ_k exp(e_ik)   (eq. 2; the self-loop keeps every row finite)
    const alpha = F.softmax(masked, -1); // (nh, N, N)
    attentions?.push(alpha);
    // h'^k_i = Σ_j α^k_ij W^k h_j   (eq. 4 before σ), with dropout on α (§3.3)
    const heads = this.attnDrop.forward(alpha).matmul(wh); // (nh, N, F')
    // concatenate (eq. 5) or average (eq. 6) the heads
    const y = this.concat ? heads.transpose(0, 1).reshape(N, nh * Fo) : heads.mean(0); // (N, nh·F') or (N, F')
    return this.bias ? y.add(this.bias) : y;
  }
}

// =====================================================================================================
// Model

export interface GATOptions {
  /** the source of the initial weights and of the dropout masks (default: the library's default generator) */
  generator?: Generator;
}

export class GAT extends Module {
  readonly config: GATConfig;
  layers: ModuleList<GraphAttention>;

  constructor(config: GATConfig, opts: GATOptions = {}) {
    super();
    const c = (this.config = gatConfig(config));
    const generator = opts.generator ?? defaultGenerator;
    this.layers = new ModuleList(
      layerShapes(c).map((s) => new GraphAttention(s.inF, s.heads, s.outF, s.concat, c, generator)),
    );
    this.initWeights(generator);
  }

  /**
   * x (N, F) node features, adj (N, N) the plain adjacency (0/1, symmetric, no self-loops) → logits (N, K).
   *   h⁽ˡ⁺¹⁾_i = ‖_k ELU(Σ_j α^k_ij W^k h⁽ˡ⁾_j)   (hidden layers, eq. 5)
   *   z_i = 1/K Σ_k Σ_j α^k_ij W^k h_j           (output layer, eq. 6; the softmax is in the loss)
   * With `attentions`, each layer's α (nh, N, N) is pushed into it.
   */
  forward(x: Tensor, adj: Tensor, attentions?: Tensor[]): Tensor {
    checkInputs(x, adj, this.config.inFeatures);
    const nonEdge = neighbourhoodMask(adj); // (N, N) bool
    let h = x; // (N, F)
    const L = this.layers.length;
    for (let l = 0; l < L; l++) {
      h = this.layers.at(l).forward(h, nonEdge, attentions); // (N, nh·F'), the last (N, K)
      // σ = ELU in the hidden layers (§3.3); ELU is elementwise, so ‖_k ELU(·) = ELU(‖_k ·)
      if (l < L - 1) h = F.elu(h);
    }
    return h; // (N, K)
  }

  /** Every layer's attention coefficients α (nh, N, N) in evaluation mode (no dropout), without gradients. */
  attentionWeights(x: Tensor, adj: Tensor): Tensor[] {
    const wasTraining = this.training;
    this.eval();
    try {
      const out: Tensor[] = [];
      noGrad(() => this.forward(x, adj, out));
      return out;
    } finally {
      this.train(wasTraining);
    }
  }

  // ===================================================================================================
  // Init

  /**
   * The paper's code (TensorFlow's default for its 1×1 convolutions): every head's W (F', F) Glorot
   * uniform U(±√(6/(F + F'))), each a₁, a₂ (F') U(±√(6/(F' + 1))), b = 0.
   */
  private initWeights(generator: Generator): void {
    noGrad(() => {
      for (const layer of this.layers) {
        const w = Math.sqrt(6 / (layer.inFeatures + layer.outFeatures));
        uniform_(layer.lin.weight, -w, w, { generator });
        const a = Math.sqrt(6 / (layer.outFeatures + 1));
        uniform_(layer.attSrc, -a, a, { generator });
        uniform_(layer.attDst, -a, a, { generator });
        if (layer.bias) zeros_(layer.bias);
      }
    });
  }
}

/** nonEdge (N, N) bool: true where j ∉ N(i) ∪ {i}, i.e. where (A + I)_ij = 0 — the places set to −∞. */
export function neighbourhoodMask(adj: Tensor): Tensor {
  const N = adj.shape[0]!;
  return noGrad(() => adj.add(eye(N, N, { dtype: adj.dtype })).eq(0)); // (N, N) bool
}

/** x (N, F) and adj (N, N), N matching, F as configured. */
function checkInputs(x: Tensor, adj: Tensor, inFeatures: number): void {
  if (x.ndim !== 2 || x.shape[1] !== inFeatures)
    throw new ShapeError(`GAT: x must be (N, ${inFeatures}), got ${fmt(x.shape)}`);
  const N = x.shape[0]!;
  if (adj.ndim !== 2 || adj.shape[0] !== N || adj.shape[1] !== N) {
    throw new ShapeError(`GAT: adj must be (N, N) = (${N}, ${N}) for x ${fmt(x.shape)}, got ${fmt(adj.shape)}`);
  }
}
