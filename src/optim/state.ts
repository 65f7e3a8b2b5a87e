// An optimizer's state dict in the form a checkpoint stores (src/io/checkpoint.ts): the buffers as
// tensors, everything else as JSON. Saving and loading through these gives back the same bits.
//
//   state[i].buffers[name]  (Float32Array | Float64Array)   →  tensor "state.<i>.<name>" of shape (n)
//   state[i].step, paramGroups                               →  json { steps: { <i>: step }, paramGroups }

import { ArgumentError } from "../engine/errors.js";
import { Tensor } from "../engine/tensor.js";
import type { FloatStorage, HyperValue, OptimizerStateDict } from "./optimizer.js";

/** The JSON half of an optimizer's state in a checkpoint. */
export interface OptimizerStateJSON {
  steps: Record<string, number>;
  paramGroups: ({ params: number[] } & Record<string, HyperValue>)[];
}

/** Split a state dict into tensors (the buffers, not copied) and JSON (step counts, hyper-parameters). */
export function stateDictToTensors(sd: OptimizerStateDict): {
  tensors: Record<string, Tensor>;
  json: OptimizerStateJSON;
} {
  const tensors: Record<string, Tensor> = {};
  const steps: Record<string, number> = {};
  for (const [i, s] of Object.entries(sd.state)) {
    steps[i] = s.step;
    for (const [name, buf] of Object.entries(s.buffers)) tensors[`state.${i}.${name}`] = new Tensor(buf, [buf.length]);
  }
  return { tensors, json: { steps, paramGroups: sd.paramGroups } };
}

/** The inverse of stateDictToTensors, for Optimizer.loadStateDict (which checks names and sizes). */
export function stateDictFromTensors(tensors: Record<string, Tensor>, json: unknown): OptimizerStateDict {
  const j = json as Partial<OptimizerStateJSON> | null;
  if (
    j === null ||
    typeof j !== "object" ||
    typeof j.steps !== "object" ||
    j.steps === null ||
    !Array.isArray(j.paramGroups)
  ) {
    throw new ArgumentError("stateDictFromTensors: expected { steps, paramGroups } as written by stateDictToTensors");
  }
  const state: OptimizerStateDict["state"] = {};
  for (const [i, step] of Object.entries(j.steps)) state[Number(i)] = { step, buffers: {} };
  for (const [key, t] of Object.entries(tensors)) {
    const m = /^state\.(\d+)\.(\w+)$/.exec(key);
    if (m === null)
      throw new ArgumentError(
        `stateDictFromTensors: unexpected tensor ${JSON.stringify(key)} (expected state.<index>.<buffer>)`,
      );
    const s = state[Number(m[1])];
    if (s === undefined)
      throw new ArgumentError(
        `stateDictFromTensors: tensor ${key} belongs to parameter ${m[1]}, which has no step count`,
      );
    if (t.dtype !== "float32" && t.dtype !== "float64")
      throw new ArgumentError(`stateDictFromTensors: tensor ${key} is ${t.dtype}; buffers are float32 or float64`);
    s.buffers[m[2]!] = t.storage as FloatStorage;
  }
  return { state, paramGroups: j.paramGroups };
}
