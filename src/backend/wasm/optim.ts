// Optimizer updates of the wasm backend: Adam and AdamW for float32 in wasm SIMD (./assembly/optim.ts),
// in float32 arithmetic (the reference computes each element in float64 and rounds once per stored
// value); param and both moments are updated in place where they live in wasm memory (kept parameters and
// optimizer state), else copied into the arena and back (arena.ts). AMSGrad,
// maximize and float64 run the reference.
//
// adamMulti updates a whole parameter group in one call of adamMultiF32: the tensors that are float32 and
// resident (all of them inside a memory scope) go into one table of offsets and per-tensor scalars, copied
// into the arena; the others take the per-tensor path above, one call each.

import type { AdamParams, FloatArr, OptimKernels } from "../backend.js";
import { adamParamsOf, optim as reference } from "../reference/optim.js";
import { Frame } from "./arena.js";
import { residentOffset } from "./heap.js";

/** Four-byte slots in a row of adamMultiF32's table: param, grad, m, v, n, step_size, √(1 − β2ᵗ), unused. */
const ADAM_ROW = 8;

function adam(param: FloatArr, grad: FloatArr, m: FloatArr, v: FloatArr, vMax: FloatArr | null, p: AdamParams): void {
  if (
    !(
      param instanceof Float32Array &&
      grad instanceof Float32Array &&
      m instanceof Float32Array &&
      v instanceof Float32Array
    ) ||
    vMax !== null ||
    p.maximize ||
    param.length === 0
  ) {
    reference.adam(param, grad, m, v, vMax, p);
    return;
  }
  const n = param.length;
  const fr = new Frame();
  const po = fr.inout(param, n),
    go = fr.in(grad, n),
    mo = fr.inout(m, n),
    vo = fr.inout(v, n);
  fr.commit();
  // step_size = lr / (1 − β1ᵗ);  √(1 − β2ᵗ);  AdamW's factor 1 − lr·λ (computed in float64, as the reference)
  fr.exports.adamF32(
    po,
    go,
    mo,
    vo,
    n,
    1 - p.lr * p.weightDecay,
    p.weightDecay,
    p.decoupledWeightDecay ? 1 : 0,
    p.beta1,
    p.beta2,
    p.eps,
    p.lr / p.biasCorrection1,
    Math.sqrt(p.biasCorrection2),
  );
  fr.finish();
}

/** True when the kernel can update x where it lives: float32 in wasm memory. */
const resident = (x: FloatArr): x is Float32Array => x instanceof Float32Array && residentOffset(x) >= 0;

export const optim: Partial<OptimKernels> = {
  adam,

  adamMulti(params, grads, expAvgs, expAvgSqs, p) {
    const rows: number[] = []; // the tensors of the one call
    for (let i = 0; i < params.length; i++) {
      const one = [params[i]!, grads[i]!, expAvgs[i]!, expAvgSqs[i]!];
      if (!p.maximize && params[i]!.length > 0 && one.every(resident)) rows.push(i);
      else adam(params[i]!, grads[i]!, expAvgs[i]!, expAvgSqs[i]!, null, adamParamsOf(p, i));
    }
    if (rows.length === 0) return;
    const table = new Int32Array(ADAM_ROW * rows.length),
      tableF32 = new Float32Array(table.buffer);
    rows.forEach((i, r) => {
      const row = ADAM_ROW * r;
      table[row] = residentOffset(params[i]!);
      table[row + 1] = residentOffset(grads[i]!);
      table[row + 2] = residentOffset(expAvgs[i]!);
      table[row + 3] = residentOffset(expAvgSqs[i]!);
      table[row + 4] = params[i]!.length;
      // step_size = lr / (1 − β1ᵗ) and √(1 − β2ᵗ) at this tensor's step, in float64 rounded once to float32
      // (the rounding the per-tensor call's float32 arguments get)
      tableF32[row + 5] = p.lr / p.biasCorrection1[i]!;
      tableF32[row + 6] = Math.sqrt(p.biasCorrection2[i]!);
    });
    const fr = new Frame();
    const to = fr.in(table);
    fr.commit();
    fr.exports.adamMultiF32(
      to,
      rows.length,
      1 - p.lr * p.weightDecay,
      p.weightDecay,
      p.decoupledWeightDecay ? 1 : 0,
      p.beta1,
      p.beta2,
      p.eps,
    );
    fr.finish();
  },
};
