// The reference backend: every kernel of the KernelTable, written as plain loops. It runs float32,
// float64 (for gradient checks) and the integer dtypes, and it is the spec every other backend is
// tested against.

import type { Backend, KernelTable } from "../backend.js";
import { attention } from "./attention.js";
import { conv } from "./conv.js";
import { elementwise } from "./elementwise.js";
import { index } from "./index-kernels.js";
import { layout } from "./layout.js";
import { matmul } from "./matmul.js";
import { nn } from "./nn.js";
import { optim } from "./optim.js";
import { qmatmul } from "./qmatmul.js";
import { reduce } from "./reduce.js";

export const referenceKernels: KernelTable = {
  ...elementwise,
  ...reduce,
  ...matmul,
  ...layout,
  ...index,
  ...nn,
  ...conv,
  ...attention,
  ...optim,
  ...qmatmul,
};

export const referenceBackend: Backend = { name: "reference", kernels: referenceKernels };
