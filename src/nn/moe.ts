// Mixture of experts: a router picks, for every token, k of E expert feed-forward networks; the token is
// sent (dispatched) to those experts only and their outputs are added back weighted by the router's gates
// (combined). Parameters grow with E, the compute per token only with k.
//
//   Shazeer et al. 2017, "Outrageously Large Neural Networks: The Sparsely-Gated Mixture-of-Experts Layer",
//     https://arxiv.org/abs/1701.06538 (the sparsely gated layer, y = Σᵢ G(x)ᵢ·Eᵢ(x))
//   Fedus, Zoph & Shazeer 2021, "Switch Transformers", https://arxiv.org/abs/2101.03961 (top-1 routing,
//     expert capacity and dropped tokens, the load-balancing loss α·N·Σᵢ fᵢ·Pᵢ, eq. 4–6)
//   Zoph et al. 2022, "ST-MoE: Designing Stable and Transferable Sparse Expert Models",
//     https://arxiv.org/abs/2202.08906 (the router z-loss, eq. 5)
//   Jiang et al. 2024, "Mixtral of Experts", https://arxiv.org/abs/2401.04088 (top-2 of 8 SwiGLU experts,
//     G(x) = Softmax(TopK(x·W_g)), §2.1 eq. 1–2)
//   Dai et al. 2024, "DeepSeekMoE", https://arxiv.org/abs/2401.06066 (shared experts that every token
//     passes through, §3.2)
//
// The two routings differ in one line each, marked below:
//   Switch:  p = softmax(x·W_rᵀ);  gates = the top-k of p (k = 1), not renormalised; a capacity per expert.
//   Mixtral: gates = softmax over the top-k logits only (the selected weights sum to one); no capacity.
// Gradients: the gates are values picked out of p (or of the logits) by `topk`, so the router's weight
// gets a gradient through them and through the auxiliary losses; which experts were picked is a discrete
// choice and gets none, exactly as in the papers.
//
// On W data-parallel workers, each routing its rows of the batch (withSyncRouting), the two functions of the whole
// batch's routing are made one process's: the load-balancing loss's fᵢ counts every worker's choices, and the
// capacity is the whole batch's, each worker keeping exactly the choices one process would keep.
//
// Vocabulary (shape comments): N tokens (B·T flattened), C channels, E experts, k experts per token,
// n_e the tokens an expert receives, M = Σ_e n_e the kept assignments, I an expert's hidden size, W workers.

import { tensor, zeros } from "../engine/creation.js";
import { ArgumentError, ShapeError } from "../engine/errors.js";
import type { Generator } from "../engine/rng.js";
import { inMeta } from "../engine/meta.js";
import { fmt } from "../engine/shape.js";
import type { Tensor } from "../engine/tensor.js";
import { silu, gelu } from "../ops/elementwise.js";
import { indexSelect, scatterAdd } from "../ops/indexing.js";
import { softmax } from "../ops/nn.js";
import { cat } from "../ops/shape.js";
import { Linear } from "./linear.js";
import { Module, ModuleList } from "./module.js";

// =====================================================================================================
// Experts

/** What an expert is: a position-wise network (n, C) → (n, C). */
export interface Expert extends Module {
  forward(x: Tensor): Tensor;
}

/** Mixtral's expert, LLaMA's SwiGLU MLP: down(silu(gate(x)) ⊙ up(x)), no biases (Shazeer 2020 eq. 6). */
export class SwiGLUExpert extends Module implements Expert {
  gate: Linear; // (I, C)   Mixtral's w1
  up: Linear; //   (I, C)   Mixtral's w3
  down: Linear; // (C, I)   Mixtral's w2

  constructor(C: number, I: number, opts: { generator?: Generator } = {}) {
    super();
    this.gate = new Linear(C, I, { bias: false, generator: opts.generator });
    this.up = new Linear(C, I, { bias: false, generator: opts.generator });
    this.down = new Linear(I, C, { bias: false, generator: opts.generator });
  }

  forward(x: Tensor): Tensor {
    // SwiGLU(x) = silu(x·W_gateᵀ) ⊙ x·W_upᵀ
    const h = silu(this.gate.forward(x)).mul(this.up.forward(x)); // (n, I)
    return this.down.forward(h); // (n, C)
  }
}

/** GPT-2's MLP as an expert (the Switch Transformer's experts are the dense model's FFN): down(gelu(up(x))). */
export class GeluExpert extends Module implements Expert {
  up: Linear; //   (I, C)
  down: Linear; // (C, I)

  constructor(C: number, I: number, opts: { bias?: boolean; generator?: Generator } = {}) {
    super();
    this.up = new Linear(C, I, { bias: opts.bias ?? true, generator: opts.generator });
    this.down = new Linear(I, C, { bias: opts.bias ?? true, generator: opts.generator });
  }

  forward(x: Tensor): Tensor {
    // GELU in GPT-2's tanh form
    return this.down.forward(gelu(this.up.forward(x), { approximate: "tanh" })); // (n, C)
  }
}

// =====================================================================================================
// Options

export interface MoEOptions {
  /** E, the routed experts */
  readonly nExperts: number;
  /** k, the experts each token is sent to (Switch: 1, Mixtral: 2) */
  readonly topK: number;
  /**
   * true (Mixtral): gates = softmax of the k selected logits, summing to one per token.
   * false (Switch, Shazeer 2017 without noise): gates = the selected entries of softmax over all E.
   */
  readonly normalizeGates: boolean;
  /**
   * Switch's capacity factor: an expert takes at most ⌈capacityFactor·N·k/E⌉ tokens per call; the rest
   * are dropped (their expert output is 0, so in a residual block they pass through unchanged). null: no
   * limit (Mixtral).
   */
  readonly capacityFactor: number | null;
  /** DeepSeekMoE's shared experts: always applied to every token, ungated (0: none) */
  readonly nShared: number;
}

/** Switch routing (Fedus et al. 2021): top-1 of softmax, capacity factor 1.25 as in the paper's Table 1. */
export const SWITCH: MoEOptions = Object.freeze({
  nExperts: 8,
  topK: 1,
  normalizeGates: false,
  capacityFactor: 1.25,
  nShared: 0,
});
/** Mixtral routing (Jiang et al. 2024): top-2 of 8, gates renormalised over the two, no capacity. */
export const MIXTRAL: MoEOptions = Object.freeze({
  nExperts: 8,
  topK: 2,
  normalizeGates: true,
  capacityFactor: null,
  nShared: 0,
});

/** Checked options (a typed error naming the field). */
export function moeOptions(base: MoEOptions, overrides: Partial<MoEOptions> = {}): MoEOptions {
  const o = { ...base, ...overrides };
  if (!Number.isInteger(o.nExperts) || o.nExperts < 1)
    throw new ArgumentError(`MoE: nExperts must be a positive integer, got ${o.nExperts}`);
  if (!Number.isInteger(o.topK) || o.topK < 1 || o.topK > o.nExperts)
    throw new ArgumentError(`MoE: topK must be an integer in [1, nExperts = ${o.nExperts}], got ${o.topK}`);
  if (o.capacityFactor !== null && !(o.capacityFactor > 0))
    throw new ArgumentError(`MoE: capacityFactor must be > 0 or null (no limit), got ${o.capacityFactor}`);
  if (!Number.isInteger(o.nShared) || o.nShared < 0)
    throw new ArgumentError(`MoE: nShared must be an integer ≥ 0, got ${o.nShared}`);
  if (typeof o.normalizeGates !== "boolean")
    throw new ArgumentError(`MoE: normalizeGates must be true or false, got ${String(o.normalizeGates)}`);
  return Object.freeze(o);
}

/** The most tokens an expert takes in one call: ⌈capacityFactor·N·k/E⌉ (Fedus et al. eq. 3), or N (no limit). */
export function expertCapacity(o: MoEOptions, N: number): number {
  if (o.capacityFactor === null || !Number.isFinite(o.capacityFactor)) return N;
  return Math.ceil((o.capacityFactor * N * o.topK) / o.nExperts);
}

// =====================================================================================================
// Routing

/** The router's decision for N tokens. */
export interface Routing {
  /** the router's logits x·W_rᵀ (N, E) */
  logits: Tensor;
  /** p = softmax(logits) over all E experts (N, E) */
  probs: Tensor;
  /** expertOf[t·k + s]: the expert of token t's s-th choice (the discrete part: no gradient) */
  expertOf: Int32Array;
  /** the gate of each choice (N, k), differentiable */
  gates: Tensor;
  /** kept[t·k + s]: the choice fits its expert's capacity */
  kept: Uint8Array;
  /**
   * routed inside withSyncRouting: the whole batch's fᵢ (the fraction of every worker's N·k choices that chose
   * expert i, E) and this worker's share of the batch's tokens, W·N_r/N (1 when the rows split evenly)
   */
  group?: { f: Float64Array; share: number };
}

// -----------------------------------------------------------------------------------------------------
// Synchronized routing: on W data-parallel workers, each routing its rows of the batch (the rows of worker r come
// after those of every rank before it, as in one process's batch), one collective per routing makes what depends
// on the whole batch one process's:
//   fᵢ        the load-balancing loss counts every worker's choices: fᵢ = (1/(N·k))·Σ_r c_r,i (N = Σ_r N_r); Pᵢ
//             stays this worker's mean, and the workers' losses average to E·Σ fᵢ·(1/W)·Σ_r Pᵢ^(r) = E·Σ fᵢ·Pᵢ
//             (rows split evenly; else Pᵢ^(r) is weighted by the share W·N_r/N)
//   capacity  ⌈capacityFactor·N·k/E⌉ of the whole batch's N tokens; one process hands out an expert's places to
//             the s-th choices in token order, s = 0 first, so before worker r's s-th choices it has handed out
//             min(capacity, Σ_r' Σ_{s'<s} c_r',s',e + Σ_{r'<r} c_r',s,e): worker r starts there and keeps
//             exactly the choices one process would keep.
// The collective is an all-gather of each worker's (N_r, c_r,s,e) made by summing buffers zero but for each
// worker's own slot (small integers: exact in float32).

/** The group routing together: this worker's rank of W, and an in-place sum over the workers (a collective). */
export interface RoutingGroup {
  readonly rank: number;
  readonly worldSize: number;
  sum(buf: Float32Array): void;
}

/** The group in force (null outside withSyncRouting). */
let routingGroup: RoutingGroup | null = null;

/** The group in force (null outside withSyncRouting): activation checkpointing runs its forward again inside it. */
export function syncRoutingGroup(): RoutingGroup | null {
  return routingGroup;
}

/**
 * Run fn (a forward on this worker's rows) with every MoE routing synchronized over the group: the load-balancing
 * loss and the capacity are those of the whole batch (see above). Every worker must route the same layers in the
 * same order; the backward needs no collective (fᵢ is a count).
 */
export function withSyncRouting<T>(group: RoutingGroup | null, fn: () => T): T {
  const saved = routingGroup;
  routingGroup = group && group.worldSize > 1 ? group : null;
  try {
    return fn();
  } finally {
    routingGroup = saved;
  }
}

/**
 * counts[s·E + e]: this worker's s-th choices of expert e → every worker's, through the group:
 * { N: the whole batch's tokens, before[s·E + e]: the places one process has handed out before this worker's s-th
 * choices (uncapped), total[e]: Σ over workers and slots }.
 */
function gatherCounts(
  g: RoutingGroup,
  N: number,
  counts: Int32Array,
  E: number,
): { N: number; before: Float64Array; total: Float64Array } {
  const n = counts.length + 1; // (1 + k·E) per worker: N_r, then c_r,s,e
  const all = new Float32Array(g.worldSize * n); // (W, 1 + k·E), zero but for this worker's slot
  all[g.rank * n] = N;
  all.set(counts, g.rank * n + 1);
  g.sum(all);
  const k = counts.length / E;
  const before = new Float64Array(k * E),
    total = new Float64Array(E);
  let whole = 0;
  for (let r = 0; r < g.worldSize; r++) {
    whole += all[r * n]!;
    for (let s = 0; s < k; s++)
      for (let e = 0; e < E; e++) {
        const c = all[r * n + 1 + s * E + e]!;
        total[e]! += c;
        // one process's order: every slot s' < s of every worker, then slot s of the ranks before this one
        for (let s2 = s + 1; s2 < k; s2++) before[s2 * E + e]! += c;
        if (r < g.rank) before[s * E + e]! += c;
      }
  }
  return { N: whole, before, total };
}

/**
 * Route N tokens: logits (N, E) → the top-k experts of each token and their gates, then the capacity
 * check. Positions in an expert's buffer are handed out in token order, all first choices before the
 * second choices (GShard's priority); a choice past the expert's capacity is dropped.
 */
export function route(logits: Tensor, o: MoEOptions): Routing {
  const [N, E] = logits.shape as [number, number];
  if (logits.ndim !== 2 || E !== o.nExperts)
    throw new ShapeError(`MoE route: logits must be (N, ${o.nExperts}), got ${fmt(logits.shape)}`);
  const k = o.topK;
  // p_i(x) = e^{h_i} / Σ_j e^{h_j}   (Switch eq. 1)
  const probs = softmax(logits, -1); // (N, E)
  let gates: Tensor, chosen: Tensor;
  if (o.normalizeGates) {
    // Mixtral eq. 1: G(x) = Softmax(TopK(x·W_g)) — the softmax runs over the k kept logits only
    const top = logits.topk(k, -1); // values (N, k), indices (N, k)
    gates = softmax(top.values, -1); // (N, k)
    chosen = top.indices;
  } else {
    // Switch eq. 2: y = Σ_{i ∈ T} p_i(x)·E_i(x), T the top-k of p (k = 1), gates not renormalised
    const top = probs.topk(k, -1); // values (N, k), indices (N, k)
    gates = top.values; // (N, k)
    chosen = top.indices;
  }
  // (N·k), row-major (token, slot); shape-only (a memory estimate, src/engine/meta.ts): the router has no values,
  // so the tokens are spread evenly, slot by slot — the balance a trained router aims for, every token kept
  const expertOf = chosen.isMeta
    ? Int32Array.from({ length: N * k }, (_, i) => i % E)
    : Int32Array.from(chosen.storage as Int32Array);
  const group = routingGroup && !chosen.isMeta && !inMeta() ? routingGroup : null;
  if (group) return routeInGroup(group, logits, probs, expertOf, gates, o);
  // capacity: the s-th choices of every token in token order, s = 0 first
  const capacity = expertCapacity(o, N);
  const filled = new Int32Array(E);
  const kept = new Uint8Array(N * k);
  for (let s = 0; s < k; s++) {
    for (let t = 0; t < N; t++) {
      const e = expertOf[t * k + s]!;
      if (filled[e]! < capacity) {
        filled[e]!++;
        kept[t * k + s] = 1;
      }
    }
  }
  return { logits, probs, expertOf, gates, kept };
}

/** route's capacity check and fᵢ on one worker of a group: the whole batch's (see withSyncRouting). */
function routeInGroup(
  g: RoutingGroup,
  logits: Tensor,
  probs: Tensor,
  expertOf: Int32Array,
  gates: Tensor,
  o: MoEOptions,
): Routing {
  const N = logits.shape[0]!,
    E = o.nExperts,
    k = o.topK;
  const counts = new Int32Array(k * E); // (k, E) this worker's s-th choices of each expert
  for (let t = 0; t < N; t++) for (let s = 0; s < k; s++) counts[s * E + expertOf[t * k + s]!]!++;
  const all = gatherCounts(g, N, counts, E);
  // capacity ⌈capacityFactor·N·k/E⌉ of the whole batch; the places handed out before this worker's s-th choices
  const capacity = expertCapacity(o, all.N);
  const kept = new Uint8Array(N * k);
  for (let s = 0; s < k; s++) {
    const filled = Array.from({ length: E }, (_, e) => Math.min(capacity, all.before[s * E + e]!));
    for (let t = 0; t < N; t++) {
      const e = expertOf[t * k + s]!;
      if (filled[e]! < capacity) {
        filled[e]!++;
        kept[t * k + s] = 1;
      }
    }
  }
  // fᵢ = (1/(N·k))·(the whole batch's choices of i), summed as one process sums it (loadBalancingLoss)
  const f = new Float64Array(E);
  for (let e = 0; e < E; e++) for (let c = 0; c < all.total[e]!; c++) f[e]! += 1 / (all.N * k);
  return { logits, probs, expertOf, gates, kept, group: { f, share: (g.worldSize * N) / all.N } };
}

/**
 * The load-balancing loss of the Switch Transformer (eq. 4–6) for top-k routing:
 *   L_aux = E·Σᵢ fᵢ·Pᵢ,  fᵢ = (1/(N·k))·Σ_t Σ_s 1{choice s of token t is expert i}  (the router's choices,
 *   before any capacity drop),  Pᵢ = (1/N)·Σ_t pᵢ(x_t).
 * f carries no gradient (a count), P does. Uniform routing gives 1, its minimum; all tokens on one expert
 * gives E. (The coefficient α is applied by the model.) Hugging Face's Mixtral sums over the k slots
 * instead of averaging: its value is k times this one.
 */
export function loadBalancingLoss(r: Routing, k: number): Tensor {
  const [N, E] = r.probs.shape as [number, number];
  if (r.group) {
    // one worker of W: the whole batch's fᵢ; this worker's Pᵢ, weighted by its share W·N_r/N (1: even rows), so
    // that the workers' mean is E·Σ fᵢ·Pᵢ of the whole batch
    const P = N === 0 ? zeros([E], { dtype: r.probs.dtype }) : r.probs.mean(0); // (E)
    const L = P.mul(tensor(r.group.f, { dtype: P.dtype }))
      .sum()
      .mul(E); // ()
    return r.group.share === 1 ? L : L.mul(r.group.share);
  }
  if (N === 0) return zeros([], { dtype: r.probs.dtype });
  const f = new Float64Array(E);
  for (const e of r.expertOf) f[e]! += 1 / (N * k);
  const P = r.probs.mean(0); // (E)
  return P.mul(tensor(f, { dtype: P.dtype }))
    .sum()
    .mul(E); // ()
}

/** ST-MoE's router z-loss (eq. 5): L_z = (1/N)·Σ_t (log Σ_j e^{h_tj})², keeping the router's logits small. */
export function routerZLoss(logits: Tensor): Tensor {
  if (logits.shape[0] === 0) return zeros([], { dtype: logits.dtype });
  return logits.logsumexp(-1).pow(2).mean(); // ()
}

// =====================================================================================================
// The layer

export interface MoEOutput {
  /** Σ_{kept choices} gate·E_e(x) (+ Σ shared experts), the input's shape (…, C) */
  y: Tensor;
  /** the load-balancing loss E·Σ fᵢ·Pᵢ, () */
  loadBalancingLoss: Tensor;
  /** the router z-loss, () */
  zLoss: Tensor;
  /** the choices each expert processed in this call (after the capacity check), length E */
  tokensPerExpert: number[];
  /** the fraction of the N·k choices dropped for capacity */
  droppedFraction: number;
  /** the routing itself, for inspection */
  routing: Routing;
}

/** A mixture-of-experts feed-forward layer: a router, E routed experts and optional shared ones. */
export class MoE extends Module {
  readonly options: MoEOptions;
  router: Linear; //                     W_r (E, C), no bias
  experts: ModuleList<Expert>; //        E of them
  shared: ModuleList<Expert>; //         nShared of them (DeepSeekMoE)

  /** `makeExpert(i)` builds routed expert i; `makeShared(i)` shared expert i (default: makeExpert). */
  constructor(
    C: number,
    options: MoEOptions,
    makeExpert: (i: number) => Expert,
    opts: { generator?: Generator; makeShared?: (i: number) => Expert } = {},
  ) {
    super();
    const o = (this.options = moeOptions(options));
    this.router = new Linear(C, o.nExperts, { bias: false, generator: opts.generator });
    this.experts = new ModuleList(Array.from({ length: o.nExperts }, (_, i) => makeExpert(i)));
    this.shared = new ModuleList(Array.from({ length: o.nShared }, (_, i) => (opts.makeShared ?? makeExpert)(i)));
  }

  forward(x: Tensor): MoEOutput {
    const C = x.shape[x.ndim - 1]!;
    if (x.ndim < 1 || C !== this.router.inFeatures)
      throw new ShapeError(`MoE: input must be (…, ${this.router.inFeatures}), got ${fmt(x.shape)}`);
    const o = this.options,
      k = o.topK,
      E = o.nExperts;
    const xs = x.reshape(-1, C); // (N, C)
    const N = xs.shape[0]!;

    // 1. route: h = x·W_rᵀ, then each token's top-k experts and gates
    const r = route(this.router.forward(xs), o); // logits, probs (N, E); gates (N, k)

    // 2. dispatch: expert e receives the rows of the tokens that chose it and fit its capacity
    const rows: number[][] = Array.from({ length: E }, () => []); //  token of each kept choice, per expert
    const slots: number[][] = Array.from({ length: E }, () => []); // its flat position t·k + s in gates
    for (let t = 0; t < N; t++) {
      for (let s = 0; s < k; s++) {
        if (!r.kept[t * k + s]) continue;
        const e = r.expertOf[t * k + s]!;
        rows[e]!.push(t);
        slots[e]!.push(t * k + s);
      }
    }
    const gatesFlat = r.gates.reshape(N * k, 1); // (N·k, 1)
    const outs: Tensor[] = [],
      back: number[] = [];
    for (let e = 0; e < E; e++) {
      if (rows[e]!.length === 0) continue;
      const idx = tensor(rows[e]!, { dtype: "int32" }); // (n_e)
      const xe = indexSelect(xs, 0, idx); //                (n_e, C)   gather the tokens
      const ye = this.experts.at(e).forward(xe); //         (n_e, C)   E_e(x)
      const ge = indexSelect(gatesFlat, 0, tensor(slots[e]!, { dtype: "int32" })); // (n_e, 1)
      outs.push(ye.mul(ge)); //                             (n_e, C)   G(x)_e·E_e(x)
      for (const t of rows[e]!) back.push(t); // (not push(...rows): past ~10⁵ tokens a spread overflows the stack)
    }

    // 3. combine: y_t = Σ over t's kept choices of gate·E_e(x_t) — one scatter-add of every expert's rows
    let y = zeros([N, C], { dtype: xs.dtype }); // (N, C); a dropped or unrouted token stays 0
    if (outs.length) {
      const all = cat(outs, 0); // (M, C)
      const to = tensor(back, { dtype: "int32" }).reshape(-1, 1).expand(back.length, C); // (M, C): row t for each
      y = scatterAdd(y, 0, to, all); // (N, C)
    }
    // DeepSeekMoE: y_t += Σ_s Shared_s(x_t), every token, no gate
    for (const s of this.shared) y = y.add(s.forward(xs)); // (N, C)

    const tokensPerExpert = rows.map((list) => list.length);
    const keptCount = tokensPerExpert.reduce((a, b) => a + b, 0);
    return {
      y: y.reshape(...x.shape), // (…, C)
      loadBalancingLoss: loadBalancingLoss(r, k),
      zLoss: routerZLoss(r.logits),
      tokensPerExpert,
      droppedFraction: N === 0 ? 0 : 1 - keptCount / (N * k),
      routing: r,
    };
  }

  /** Parameters a token uses: the router, k routed experts and the shared ones (the experts have equal sizes). */
  activeParameters(): number {
    const per = this.experts.at(0).numParameters();
    const shared = this.shared.children().reduce((n, m) => n + m.numParameters(), 0);
    return this.router.numParameters() + this.options.topK * per + shared;
  }
}
