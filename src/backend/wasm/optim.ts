// Optimizer updates of the wasm backend: Adam and AdamW for float32 in wasm SIMD (./assembly/optim.ts),
// in float32 arithmetic (the reference computes each element in float64 and rounds once per stored
// value); param and both moments are updated in place where they live in wasm memory (kept parameters and
// optimizer state), else copied into the arena and back (arena.ts). AMSGrad,
// maximize and float64 run the reference.
//
// adamMulti updates a whole parameter group in one call of adamMultiF32: the tensors that are float32 and
// resident (all of them inside a memory scope) go into one table of offsets and per-tensor scalars, written
// in the arena; the others take the per-tensor path above, one call each.

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

/** x's byte offset when the kernel can update it where it lives (float32 in wasm memory), else -1. */
const residentF32 = (x: FloatArr): number => (x instanceof Float32Array ? residentOffset(x) : -1);

export const optim: Partial<OptimKernels> = {
  adam,

  adamMulti(params, grads, expAvgs, expAvgSqs, p) {
    // the rows of the one call: [param, grad, m, v] offsets of each resident tensor, and its index
    const offsets: number[] = [],
      rows: number[] = [];
    for (let i = 0; i < params.length; i++) {
      const po = residentF32(params[i]!),
        go = residentF32(grads[i]!),
        mo = residentF32(expAvgs[i]!),
        vo = residentF32(expAvgSqs[i]!);
      if (!p.maximize && params[i]!.length > 0 && po >= 0 && go >= 0 && mo >= 0 && vo >= 0) {
        offsets.push(po, go, mo, vo);
        rows.push(i);
      } else adam(params[i]!, grads[i]!, expAvgs[i]!, expAvgSqs[i]!, null, adamParamsOf(p, i));
    }
    if (rows.length === 0) return;
    const fr = new Frame();
    const to = fr.alloc(ADAM_ROW * rows.length);
    fr.commit();
    // written in place in the arena: a typed array's set() into shared memory copies slowly (≈ 8 µs for 68 rows)
    const buffer = fr.st.memory.buffer;
    const table = new Int32Array(buffer, to, ADAM_ROW * rows.length),
      tableF32 = new Float32Array(buffer, to, ADAM_ROW * rows.length);
    for (let r = 0; r < rows.length; r++) {
      const i = rows[r]!,
        row = ADAM_ROW * r;
      for (let k = 0; k < 4; k++) table[row + k] = offsets[4 * r + k]!;
      table[row + 4] = params[i]!.length;
      // step_size = lr / (1 − β1ᵗ) and √(1 − β2ᵗ) at this tensor's step, in float64 rounded once to float32
      // (the rounding the per-tensor call's float32 arguments get)
      tableF32[row + 5] = p.lr / p.biasCorrection1[i]!;
      tableF32[row + 6] = Math.sqrt(p.biasCorrection2[i]!);
    }
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
  },
};
