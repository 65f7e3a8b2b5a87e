// The checkpoints the crash test saves: big enough (about 1 MB) that a kill often lands mid-write.
import { Tensor } from "../../src/index.js";
import type { Checkpoint } from "../../src/io/checkpoint.js";

export const N = 1 << 18;

export function checkpointFor(step: number): Checkpoint {
  const w = new Float32Array(N);
  for (let i = 0; i < N; i++) w[i] = step + i / N; // the values identify the step
  return {
    model: { w: new Tensor(w, [512, N / 512]) },
    optimizer: { tensors: { "m.w": new Tensor(w.slice(0, 1024), [1024]) }, json: { step } },
    step,
    config: { n: N },
  };
}
