// The op table: every exported op, its samples against float64, its gradient checks and its error cases.
import * as ops from "../../src/ops/index.js";
import * as wnn from "../../src/index.js";
import { checkComplete, runOpTable } from "../harness/optable.js";
import { cases as attention } from "./cases/attention.js";
import { cases as cast } from "./cases/cast.js";
import { cases as conv } from "./cases/conv.js";
import { cases as elementwise } from "./cases/elementwise.js";
import { cases as indexing } from "./cases/indexing.js";
import { cases as matmul } from "./cases/matmul.js";
import { cases as nn } from "./cases/nn.js";
import { cases as reduce } from "./cases/reduce.js";
import { cases as shape } from "./cases/shape.js";

const all = [...cast, ...elementwise, ...reduce, ...matmul, ...shape, ...indexing, ...nn, ...conv, ...attention];

runOpTable(all);

/** Exported functions that are not tensor ops, with the suite that covers each. */
const NOT_OPS: Record<string, string> = {
  setBackend: "test/backend.test.ts",
  getBackend: "test/backend.test.ts",
  listBackends: "test/backend.test.ts",
  registerBackend: "test/backend.test.ts",
  // a context that makes batchNorm's statistics every data-parallel worker's (not an op of its own)
  withSyncBatchNorm: "test/cli/tts-parallel.test.ts (Tacotron 2's BatchNorms on 2 workers: one process's losses)",
  // the sum in force, read by activation checkpointing to recompute inside the same context
  syncBatchNormSum: "src/nn/checkpoint.test.ts (a recomputed synchronized BatchNorm sums again)",
};

checkComplete(
  [ops as unknown as Record<string, unknown>, wnn.nn.functional as unknown as Record<string, unknown>],
  all,
  NOT_OPS,
);
