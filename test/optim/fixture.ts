// The optimizer fixture (test/fixtures/optim.json, written by tools/fixtures/optim.py) and helpers
// shared by the optimizer tests.
import { readFileSync } from "node:fs";
import * as wnn from "../../src/index.js";
import { Tensor } from "../../src/index.js";
import type { Tolerance } from "../harness/assert.js";
import type { TensorJson } from "../harness/fixtures.js";

const { optim } = wnn;

export interface OptimizerRun {
  optimizer: "SGD" | "Adam" | "AdamW" | "RMSprop";
  label: string;
  dtype: "float32" | "float64";
  options: Record<string, unknown>;
  groups: { params: number[]; options: Record<string, unknown> }[] | null;
  params: TensorJson[];
  grads: (TensorJson | null)[][];
  expected: TensorJson[][];
}

export interface ScheduleCase {
  scheduler: string;
  label: string;
  optimizer?: "SGD" | "Adam";
  optimizerOptions?: Record<string, unknown>;
  groupLrs?: number[];
  options: Record<string, unknown>;
  /** the step before which every group's lr was halved by hand */
  poke?: number | null;
  lrs: number[][];
  momenta: number[][] | null;
}

export interface ClipCase {
  kind: "norm" | "value";
  label: string;
  dtype: "float32" | "float64";
  max: number;
  normType: number | "inf";
  grads: (TensorJson | null)[];
  total: number | null;
  clipped: (TensorJson | null)[];
}

export const fixture = JSON.parse(
  readFileSync(new URL("../../../test/fixtures/optim.json", import.meta.url), "utf8"),
) as {
  optimizers: OptimizerRun[];
  schedulers: ScheduleCase[];
  clip: ClipCase[];
};

/** The tolerance asked of the optimizers: float32 rtol 1e-5 / atol 1e-6; float64 agrees with PyTorch's float64 to 1e-12. */
export const TOL: Record<"float32" | "float64", Tolerance> = {
  float32: { rtol: 1e-5, atol: 1e-6 },
  float64: { rtol: 1e-12, atol: 1e-12 },
};

const CLASSES = { SGD: optim.SGD, Adam: optim.Adam, AdamW: optim.AdamW, RMSprop: optim.RMSprop } as const;

/** Our optimizer for a fixture run, over `params`. */
export function makeOptimizer(
  run: Pick<OptimizerRun, "optimizer" | "options" | "groups">,
  params: Tensor[],
): wnn.optim.Optimizer<any> {
  const Cls = CLASSES[run.optimizer] as unknown as new (p: unknown, o: unknown) => wnn.optim.Optimizer<any>;
  if (run.groups === null) return new Cls(params, run.options);
  return new Cls(
    run.groups.map((g) => ({ params: g.params.map((i) => params[i]!), ...g.options })),
    run.options,
  );
}
