// Graphs for node classification (GCN, GAT): a seeded stochastic block model and Zachary's karate club.
// Browser-safe: everything is generated or written here, nothing is read from disk.
//
// A graph is undirected and simple (no self-loops, no repeated edges); its edges are listed once each as
// [i, j] with i < j. The models take the dense adjacency A (N, N) from `adjacency(graph)` and add the
// self-loops they need themselves (GCN: Ã = A + I; GAT: i ∈ N(i)).
//
// Vocabulary (shape comments): N nodes, F features per node, K classes (communities), E undirected edges.

import { ArgumentError } from "../engine/errors.js";
import { Generator } from "../engine/rng.js";
import { Tensor } from "../engine/tensor.js";
import { tensor } from "../engine/creation.js";

export interface Graph {
  readonly name: string;
  readonly numNodes: number; //                N
  readonly numClasses: number; //              K
  /** undirected edges, each once, [i, j] with i < j, sorted */
  readonly edges: readonly (readonly [number, number])[]; // E
  readonly features: Tensor; // (N, F) float32
  readonly labels: Tensor; //   (N) int32 in [0, K)
  /** the labelled nodes the loss sees */
  readonly trainMask: Tensor; // (N) bool
  /** the nodes used to choose the epoch (may be empty: then the last epoch is reported) */
  readonly valMask: Tensor; //   (N) bool
  /** the nodes the reported accuracy is measured on */
  readonly testMask: Tensor; //  (N) bool
}

/** The dense adjacency A (N, N) float32: A_ij = A_ji = 1 for every edge, 0 elsewhere (no self-loops). */
export function adjacency(graph: Pick<Graph, "numNodes" | "edges">): Tensor {
  const N = graph.numNodes;
  const a = new Float32Array(N * N);
  for (const [i, j] of graph.edges) {
    a[i * N + j] = 1;
    a[j * N + i] = 1;
  }
  return tensor(a, { shape: [N, N] }); // (N, N)
}

/** The node indices where a bool mask (N) is true, as an int32 tensor (for `indexSelect`). */
export function maskIndices(mask: Tensor): Tensor {
  const out: number[] = [];
  mask.storage.forEach((v, i) => v && out.push(i));
  return tensor(Int32Array.from(out)); // (n) int32
}

/** The degree of every node (self-loops not counted). */
export function degrees(graph: Pick<Graph, "numNodes" | "edges">): number[] {
  const d = new Array<number>(graph.numNodes).fill(0);
  for (const [i, j] of graph.edges) {
    d[i]!++;
    d[j]!++;
  }
  return d;
}

// =====================================================================================================
// The stochastic block model

export interface SBMOptions {
  /** communities, which are also the classes (K) */
  numClasses?: number;
  /** nodes in each community */
  nodesPerClass?: number;
  /** the probability of an edge between two nodes of the same community */
  pIn?: number;
  /** the probability of an edge between two nodes of different communities */
  pOut?: number;
  /** feature dimensions (F) */
  featureDim?: number;
  /** σ: the standard deviation of the noise added to the class means (whose entries have unit variance), before both are scaled by 1/√(1 + σ²) */
  featureNoise?: number;
  /** labelled nodes per class for training */
  trainPerClass?: number;
  /** nodes per class for validation; the rest are test nodes */
  valPerClass?: number;
  /** the source of the edges, the features and the split (or a seed) */
  generator?: Generator | number;
}

export const SBM_DEFAULTS = Object.freeze({
  numClasses: 4,
  nodesPerClass: 40,
  pIn: 0.15,
  pOut: 0.03,
  featureDim: 16,
  featureNoise: 2.5,
  trainPerClass: 10,
  valPerClass: 10,
});

/**
 * A planted-partition stochastic block model (Holland, Laskey & Leinhardt 1983): N = K·nodesPerClass nodes,
 * node i in community c_i = ⌊i / nodesPerClass⌋; every pair {i, j} is an edge independently with
 *   P(i ~ j) = pIn if c_i = c_j, else pOut.
 * Features: x_i = (μ_{c_i} + σ·ε_i)/√(1 + σ²) with class means μ_c ~ N(0, I_F) and noise ε_i ~ N(0, I_F):
 * unit variance per entry whatever σ (the papers' row-normalised bag-of-words features are small too; GAT's
 * attention scores saturate on large inputs), and features that alone classify poorly when σ is large,
 * so that the graph (homophilous when pIn > pOut) helps.
 * Split: per class, trainPerClass random nodes for training, valPerClass for validation, the rest test.
 */
export function stochasticBlockModel(opts: SBMOptions = {}): Graph {
  const o = {
    ...SBM_DEFAULTS,
    ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)),
  } as typeof SBM_DEFAULTS & SBMOptions;
  const K = checkInt("numClasses", o.numClasses, 1),
    n = checkInt("nodesPerClass", o.nodesPerClass, 1);
  const F = checkInt("featureDim", o.featureDim, 1);
  checkInt("trainPerClass", o.trainPerClass, 0);
  checkInt("valPerClass", o.valPerClass, 0);
  for (const key of ["pIn", "pOut"] as const) {
    if (!(o[key] >= 0 && o[key] <= 1))
      throw new ArgumentError(`stochasticBlockModel: ${key} must be a probability in [0, 1], got ${o[key]}`);
  }
  if (!(o.featureNoise >= 0))
    throw new ArgumentError(`stochasticBlockModel: featureNoise must be ≥ 0, got ${o.featureNoise}`);
  if (o.trainPerClass + o.valPerClass > n) {
    throw new ArgumentError(
      `stochasticBlockModel: trainPerClass ${o.trainPerClass} + valPerClass ${o.valPerClass} exceed nodesPerClass ${n}`,
    );
  }
  const g = o.generator instanceof Generator ? o.generator : new Generator(o.generator ?? 0);
  const N = K * n;
  const community = (i: number): number => Math.floor(i / n);

  // edges: one Bernoulli draw per pair i < j, in row order
  const edges: [number, number][] = [];
  for (let i = 0; i < N; i++) {
    for (let j = i + 1; j < N; j++) {
      // P(i ~ j) = p_in if c_i = c_j else p_out
      const p = community(i) === community(j) ? o.pIn : o.pOut;
      if (g.random() < p) edges.push([i, j]);
    }
  }

  // features: x_i = (μ_{c_i} + σ·ε_i)/√(1 + σ²)
  const mu = Float64Array.from({ length: K * F }, () => g.normal()); // (K, F)
  const x = new Float32Array(N * F); // (N, F)
  const scale = 1 / Math.sqrt(1 + o.featureNoise ** 2);
  for (let i = 0; i < N; i++) {
    for (let f = 0; f < F; f++) x[i * F + f] = (mu[community(i) * F + f]! + o.featureNoise * g.normal()) * scale;
  }
  const labels = Int32Array.from({ length: N }, (_, i) => community(i));

  // split: a seeded permutation of each community's nodes
  const train = new Uint8Array(N),
    val = new Uint8Array(N),
    test = new Uint8Array(N);
  for (let c = 0; c < K; c++) {
    const members = permutation(n, g).map((k) => c * n + k);
    members.forEach(
      (i, r) => ((r < o.trainPerClass ? train : r < o.trainPerClass + o.valPerClass ? val : test)[i] = 1),
    );
  }
  return {
    name: `sbm(K=${K}, n=${n}, p_in=${o.pIn}, p_out=${o.pOut}, σ=${o.featureNoise})`,
    numNodes: N,
    numClasses: K,
    edges,
    features: tensor(x, { shape: [N, F] }),
    labels: tensor(labels),
    trainMask: tensor(train, { dtype: "bool" }),
    valMask: tensor(val, { dtype: "bool" }),
    testMask: tensor(test, { dtype: "bool" }),
  };
}

// =====================================================================================================
// Zachary's karate club

// Zachary, W. W. (1977). "An Information Flow Model for Conflict and Fission in Small Groups."
// Journal of Anthropological Research 33(4), 452–473.
// The 34 members of a university karate club and the 78 pairs who interacted outside the club, the
// standard edge list as distributed by KONECT (http://konect.cc/networks/ucidata-zachary/: 34 vertices,
// 78 edges, "ucidata-zachary", from the UCINET collection) and by NetworkX's `karate_club_graph()`,
// numbered from 0 here (the paper numbers from 1): node 0 is the instructor "Mr. Hi", node 33 the
// administrator "John A." (the club's president). The two factions are the clubs the members joined after
// the split — the "Club After Split From Data" column of the paper's Table 3, which is NetworkX's `club`
// attribute ("Mr. Hi" / "Officer"); 17 members each. test/fixtures/data/karate.json, written by
// tools/fixtures/karate.py from NetworkX, checks both lists.
const KARATE_EDGES: readonly (readonly [number, number])[] = [
  [0, 1],
  [0, 2],
  [0, 3],
  [0, 4],
  [0, 5],
  [0, 6],
  [0, 7],
  [0, 8],
  [0, 10],
  [0, 11],
  [0, 12],
  [0, 13],
  [0, 17],
  [0, 19],
  [0, 21],
  [0, 31],
  [1, 2],
  [1, 3],
  [1, 7],
  [1, 13],
  [1, 17],
  [1, 19],
  [1, 21],
  [1, 30],
  [2, 3],
  [2, 7],
  [2, 8],
  [2, 9],
  [2, 13],
  [2, 27],
  [2, 28],
  [2, 32],
  [3, 7],
  [3, 12],
  [3, 13],
  [4, 6],
  [4, 10],
  [5, 6],
  [5, 10],
  [5, 16],
  [6, 16],
  [8, 30],
  [8, 32],
  [8, 33],
  [9, 33],
  [13, 33],
  [14, 32],
  [14, 33],
  [15, 32],
  [15, 33],
  [18, 32],
  [18, 33],
  [19, 33],
  [20, 32],
  [20, 33],
  [22, 32],
  [22, 33],
  [23, 25],
  [23, 27],
  [23, 29],
  [23, 32],
  [23, 33],
  [24, 25],
  [24, 27],
  [24, 31],
  [25, 31],
  [26, 29],
  [26, 33],
  [27, 33],
  [28, 31],
  [28, 33],
  [29, 32],
  [29, 33],
  [30, 32],
  [30, 33],
  [31, 32],
  [31, 33],
  [32, 33],
];

/** The members who followed the instructor (label 0, "Mr. Hi"); the other 17 followed the officers (label 1). */
const KARATE_MR_HI: readonly number[] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 16, 17, 19, 21];

/** The faction names by label. */
export const KARATE_FACTIONS = Object.freeze(["Mr. Hi", "Officer"] as const);

export interface KarateOptions {
  /**
   * labelled members per faction (default 1: the instructor, node 0, and the president, node 33, as in
   * Kipf & Welling's semi-supervised demonstration); more are drawn at random from each faction
   */
  trainPerClass?: number;
  /** the source of the extra labelled members (or a seed) */
  generator?: Generator | number;
}

/**
 * Zachary's karate club: 34 nodes, 78 undirected edges, labels = the two factions after the split.
 * Features are the identity (x_i = e_i, F = N = 34: a node is known only by its connections). Training
 * sees `trainPerClass` members of each faction; there is no validation set (the last epoch is reported);
 * every other member is a test node.
 */
export function karateClub(opts: KarateOptions = {}): Graph {
  const perClass = checkInt("trainPerClass", opts.trainPerClass ?? 1, 1);
  const N = 34;
  const labels = Int32Array.from({ length: N }, (_, i) => (KARATE_MR_HI.includes(i) ? 0 : 1));
  const train = new Uint8Array(N);
  train[0] = 1; //  Mr. Hi, the instructor
  train[33] = 1; // John A., the president
  if (perClass > 1) {
    const g = opts.generator instanceof Generator ? opts.generator : new Generator(opts.generator ?? 0);
    for (const c of [0, 1]) {
      const others = [...Array(N).keys()].filter((i) => labels[i] === c && !train[i]);
      if (perClass - 1 > others.length)
        throw new ArgumentError(`karateClub: trainPerClass ${perClass} exceeds the faction's 17 members`);
      for (const k of permutation(others.length, g).slice(0, perClass - 1)) train[others[k]!] = 1;
    }
  }
  const test = train.map((t) => 1 - t);
  const eye = new Float32Array(N * N);
  for (let i = 0; i < N; i++) eye[i * N + i] = 1;
  return {
    name: "karate club",
    numNodes: N,
    numClasses: 2,
    edges: KARATE_EDGES,
    features: tensor(eye, { shape: [N, N] }), // (N, N): x_i = e_i
    labels: tensor(labels),
    trainMask: tensor(train, { dtype: "bool" }),
    valMask: tensor(new Uint8Array(N), { dtype: "bool" }),
    testMask: tensor(test, { dtype: "bool" }),
  };
}

// -----------------------------------------------------------------------------------------------------

/** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
function permutation(n: number, g: Generator): number[] {
  const p = [...Array(n).keys()];
  for (let i = n - 1; i > 0; i--) {
    const j = g.randint(0, i + 1); // j uniform in [0, i]
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

function checkInt(what: string, v: number, min: number): number {
  if (!Number.isInteger(v) || v < min) throw new ArgumentError(`graphs: ${what} must be an integer ≥ ${min}, got ${v}`);
  return v;
}
