// ZeRO stage 2: optimizer state and gradient partitioning (P_os+g) — Rajbhandari et al. 2020,
// https://arxiv.org/abs/1910.02054, section 5.2. ZeRO-1 with one change: the gradients are reduce-scattered
// instead of all-reduced, so each worker receives only the summed gradient of its own shard and never holds
// the whole averaged gradient. Per worker, fp32 Adam:
//
//   ZeRO-1:  4Ψ + 4Ψ   + 8Ψ/N
//   ZeRO-2:  4Ψ + 4Ψ/N + 8Ψ/N     (the paper's 2Ψ + 14Ψ/N with fp16 parameters and gradients)
//
// (Here backward still writes every parameter's whole gradient before the reduce-scatter; DeepSpeed frees each
// bucket's gradient as soon as it is reduced. What is sharded is the averaged gradient the optimizer reads.)
// The reduce-scatter moves half the data of an all-reduce: (N−1)/N of a bucket instead of 2(N−1)/N; with
// the parameters' all-gather, a step moves as much as DDP's all-reduce.

import { ZeRO1 } from "./zero1.js";

export class ZeRO2 extends ZeRO1 {
  protected override reduceGradient(shard: { start: number; end: number }, flat: Float32Array): Float32Array {
    // DIFF(ZeRO1): reduce-scatter, this worker keeps only chunk [start, end) of Σ_r g_r
    return this.comm.reduceScatter(flat); // (end − start,)
  }
}
