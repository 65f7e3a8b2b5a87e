// Graphs for node classification: Zachary's karate club against NetworkX (tools/fixtures/karate.py) and
// the stochastic block model's laws (edge densities, features, splits), seeding and errors.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { ArgumentError, data } from "../../src/index.js";

const { adjacency, degrees, karateClub, maskIndices, stochasticBlockModel, KARATE_FACTIONS } = data;

const networkx = JSON.parse(
  readFileSync(new URL("../../../test/fixtures/data/karate.json", import.meta.url), "utf8"),
) as {
  num_nodes: number;
  edges: [number, number][];
  club: string[];
};

const count = (mask: { storage: ArrayLike<number> }): number => Array.from(mask.storage).reduce((s, v) => s + v, 0);

test("karate club: 34 nodes and 78 undirected edges, each once, the list NetworkX distributes", () => {
  const g = karateClub();
  assert.equal(g.numNodes, 34);
  assert.equal(g.edges.length, 78);
  assert.equal(networkx.num_nodes, 34);
  assert.deepEqual(
    g.edges.map(([i, j]) => [i, j]),
    networkx.edges,
  );
  const keys = new Set(g.edges.map(([i, j]) => `${i}-${j}`));
  assert.equal(keys.size, 78, "no repeated edge");
  for (const [i, j] of g.edges) assert.ok(i < j && j < 34, `edge [${i}, ${j}] is i < j < 34 (no self-loop)`);
  const A = adjacency(g);
  assert.deepEqual([...A.shape], [34, 34]);
  assert.equal(
    Array.from(A.storage).reduce((s, v) => s + v, 0),
    156,
    "A holds every edge in both directions",
  );
  for (let i = 0; i < 34; i++) for (let j = 0; j < 34; j++) assert.equal(A.storage[i * 34 + j], A.storage[j * 34 + i]);
  // the instructor and the president are the two hubs
  const d = degrees(g);
  assert.equal(Math.max(...d), d[33]);
  assert.ok(d[0]! > d.filter((_, i) => i !== 0 && i !== 33).reduce((m, x) => Math.max(m, x), 0));
});

test("karate club: the two factions after the split are NetworkX's clubs (17 each); features are the identity", () => {
  const g = karateClub();
  assert.equal(g.numClasses, 2);
  assert.deepEqual(
    Array.from(g.labels.storage, (y) => KARATE_FACTIONS[y]),
    networkx.club,
  );
  assert.equal(count({ storage: g.labels.storage }), 17, "17 officers (label 1), so 17 with Mr. Hi");
  assert.deepEqual([...g.features.shape], [34, 34]);
  for (let i = 0; i < 34; i++)
    for (let j = 0; j < 34; j++) assert.equal(g.features.storage[i * 34 + j], i === j ? 1 : 0);
});

test("karate club: by default the instructor and the president are the labelled nodes; more are drawn per faction", () => {
  const g = karateClub();
  assert.deepEqual([...maskIndices(g.trainMask).storage], [0, 33]);
  assert.equal(count(g.valMask), 0);
  assert.equal(count(g.testMask), 32);
  const h = karateClub({ trainPerClass: 4, generator: 1 });
  const train = [...maskIndices(h.trainMask).storage];
  assert.equal(train.length, 8);
  assert.ok(train.includes(0) && train.includes(33));
  assert.equal(train.filter((i) => h.labels.storage[i] === 0).length, 4);
  for (let i = 0; i < 34; i++)
    assert.equal(h.trainMask.storage[i]! + h.testMask.storage[i]!, 1, `node ${i} is train xor test`);
  assert.deepEqual([...maskIndices(karateClub({ trainPerClass: 4, generator: 1 }).trainMask).storage], train, "seeded");
  assert.throws(() => karateClub({ trainPerClass: 18 }), ArgumentError);
  assert.throws(() => karateClub({ trainPerClass: 0 }), ArgumentError);
});

test("stochastic block model: edge densities near p_in and p_out, each pair at most once", () => {
  const K = 3,
    n = 80,
    pIn = 0.15,
    pOut = 0.03;
  const g = stochasticBlockModel({ numClasses: K, nodesPerClass: n, pIn, pOut, generator: 11 });
  assert.equal(g.numNodes, K * n);
  const within = (K * (n * (n - 1))) / 2,
    between = (K * n * (K * n - 1)) / 2 - within;
  let eIn = 0,
    eOut = 0;
  const seen = new Set<string>();
  for (const [i, j] of g.edges) {
    assert.ok(i < j, `[${i}, ${j}]`);
    seen.add(`${i}-${j}`);
    if (Math.floor(i / n) === Math.floor(j / n)) eIn++;
    else eOut++;
  }
  assert.equal(seen.size, g.edges.length);
  // binomial counts: within 5 standard deviations of their means
  for (const [what, e, pairs, p] of [
    ["within", eIn, within, pIn],
    ["between", eOut, between, pOut],
  ] as const) {
    const sd = Math.sqrt(pairs * p * (1 - p));
    assert.ok(
      Math.abs(e - pairs * p) < 5 * sd,
      `${what}: ${e} edges of ${pairs} pairs, expected ${pairs * p} ± ${sd.toFixed(1)}`,
    );
  }
  assert.equal(stochasticBlockModel({ pIn: 0, pOut: 0 }).edges.length, 0);
  assert.equal(
    stochasticBlockModel({ numClasses: 2, nodesPerClass: 40, pIn: 1, pOut: 0, trainPerClass: 1, valPerClass: 1 }).edges
      .length,
    (2 * (40 * 39)) / 2,
  );
});

test("stochastic block model: features are class means plus noise of the given standard deviation, scaled to unit variance", () => {
  const K = 4,
    n = 100,
    Fd = 8,
    sigma = 1.5;
  const g = stochasticBlockModel({
    numClasses: K,
    nodesPerClass: n,
    featureDim: Fd,
    featureNoise: sigma,
    generator: 12,
  });
  assert.deepEqual([...g.features.shape], [K * n, Fd]);
  const x = g.features.storage;
  let ss = 0;
  const means: number[][] = [];
  for (let c = 0; c < K; c++) {
    const m = Array.from({ length: Fd }, (_, f) => {
      let s = 0;
      for (let i = c * n; i < (c + 1) * n; i++) s += x[i * Fd + f]!;
      return s / n;
    });
    means.push(m);
    for (let i = c * n; i < (c + 1) * n; i++) for (let f = 0; f < Fd; f++) ss += (x[i * Fd + f]! - m[f]!) ** 2;
  }
  const std = Math.sqrt(ss / (K * (n - 1) * Fd));
  const scale = 1 / Math.sqrt(1 + sigma ** 2);
  assert.ok(Math.abs(std - sigma * scale) < 0.05, `within-class std ${std} vs σ/√(1 + σ²) = ${sigma * scale}`);
  let total = 0;
  for (const v of x) total += v * v;
  assert.ok(
    Math.abs(total / x.length - 1) < 0.5,
    `mean square ${total / x.length} ≈ 1 (unit variance; K = 4 class means make it noisy)`,
  );
  // the class means differ (μ_c ~ N(0, I), scaled): two means lie ≈ √(2F)·scale ≈ 2.2 apart, far above the noise of a mean
  for (let a = 0; a < K; a++)
    for (let b = a + 1; b < K; b++) {
      const dist = Math.sqrt(means[a]!.reduce((s, v, f) => s + (v - means[b]![f]!) ** 2, 0));
      assert.ok(dist > 1, `classes ${a} and ${b}: means ${dist.toFixed(2)} apart`);
    }
  assert.deepEqual(
    Array.from(g.labels.storage),
    Array.from({ length: K * n }, (_, i) => Math.floor(i / n)),
  );
});

test("stochastic block model: per-class train/val/test split, seeded", () => {
  const g = stochasticBlockModel({ numClasses: 3, nodesPerClass: 30, trainPerClass: 5, valPerClass: 7, generator: 13 });
  for (let c = 0; c < 3; c++) {
    const of = (mask: { storage: ArrayLike<number> }) =>
      Array.from(mask.storage).filter((v, i) => v && g.labels.storage[i] === c).length;
    assert.equal(of(g.trainMask), 5);
    assert.equal(of(g.valMask), 7);
    assert.equal(of(g.testMask), 18);
  }
  for (let i = 0; i < g.numNodes; i++)
    assert.equal(g.trainMask.storage[i]! + g.valMask.storage[i]! + g.testMask.storage[i]!, 1);
  const again = stochasticBlockModel({
    numClasses: 3,
    nodesPerClass: 30,
    trainPerClass: 5,
    valPerClass: 7,
    generator: 13,
  });
  assert.deepEqual(again.edges, g.edges);
  assert.deepEqual([...again.features.storage], [...g.features.storage]);
  assert.deepEqual([...again.trainMask.storage], [...g.trainMask.storage]);
  const other = stochasticBlockModel({
    numClasses: 3,
    nodesPerClass: 30,
    trainPerClass: 5,
    valPerClass: 7,
    generator: 14,
  });
  assert.notDeepEqual(other.edges, g.edges);
  assert.throws(() => stochasticBlockModel({ pIn: 1.5 }), /pIn must be a probability in \[0, 1\], got 1.5/);
  assert.throws(
    () => stochasticBlockModel({ nodesPerClass: 10 }),
    /trainPerClass 10 \+ valPerClass 10 exceed nodesPerClass 10/,
  );
  assert.throws(() => stochasticBlockModel({ numClasses: 0 }), ArgumentError);
  assert.throws(() => stochasticBlockModel({ featureNoise: -1 }), ArgumentError);
});
