// `wnn train gcn`: the two-layer GCN of Kipf & Welling 2017 on the seeded stochastic block model and on
// Zachary's karate club, 5 seeds each, with the paper's settings (16 hidden, dropout 0.5, Adam lr 0.01,
// L2 5·10⁻⁴ on the first layer). The protocol, shared with `wnn train gat`, is in src/recipes/graphs.ts.

import { graphRecipe } from "../../recipes/graphs.js";

export const gcnRecipe = graphRecipe(
  "gcn",
  "Kipf & Welling 2017, Semi-Supervised Classification with Graph Convolutional Networks, https://arxiv.org/abs/1609.02907",
  ["gcn"],
);
