// `wnn train gat`: the two-layer GAT of Veličković et al. 2018 on the seeded stochastic block model and on
// Zachary's karate club, 5 seeds each, with the paper's Cora settings (8 heads × 8 hidden, 1 output head,
// dropout 0.6 on inputs and attention, Adam lr 0.005, L2 5·10⁻⁴). The protocol, shared with
// `wnn train gcn`, is in src/recipes/graphs.ts; `wnn train graphs` runs both beside a features-only MLP.

import { graphRecipe } from "../../recipes/graphs.js";

export const gatRecipe = graphRecipe(
  "gat",
  "Veličković, Cucurull, Casanova, Romero, Liò, Bengio 2018, Graph Attention Networks, https://arxiv.org/abs/1710.10903",
  ["gat"],
);
