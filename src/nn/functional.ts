// `wnn.nn.functional` (F): the functional forms of the layers, PyTorch's names in camelCase.
// The ops themselves live in src/ops (forward and backward side by side); this module only gathers them.

// activations (elementwise family)
export { relu, leakyRelu, elu, gelu, silu, softplus, sigmoid, tanh } from "../ops/elementwise.js";
// softmax, losses, norms, dropout, linear, embedding (nn family)
export * from "../ops/nn.js";
// convolution, pooling, interpolation (conv family)
export * from "../ops/conv.js";
// attention
export * from "../ops/attention.js";
export { embedding, oneHot } from "../ops/indexing.js";
export { pad } from "../ops/shape.js"; // shape and indexing families
