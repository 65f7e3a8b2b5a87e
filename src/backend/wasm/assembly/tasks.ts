// AssemblyScript: the one entry point of the thread pool (../pool.ts). Every thread, the caller
// included, calls runTask(params, task, thread) for the tasks it takes; the kernel is named by the
// KIND field of the parameter block.
//
//   1 gemm · 2 pack B (./matmul.ts) · 3 elementwise (./elementwise.ts) · 4 attention forward ·
//   5 attention backward (./attention.ts) · 6 gemv (./gemv.ts) · 7 product on GGML blocks (./qmatmul.ts)

import { gemmTask, packBTask } from "./matmul";
import { attentionTask } from "./attention";
import { unaryRange } from "./elementwise";
import { gemvTask } from "./gemv";
import { qmatmulTask } from "./qmatmul";

export const KIND_GEMM = 1;
export const KIND_PACK_B = 2;
export const KIND_UNARY = 3;
export const KIND_ATTENTION = 4;
export const KIND_ATTENTION_BACKWARD = 5;
export const KIND_GEMV = 6;
export const KIND_QMATMUL = 7;

// the elementwise parameter block (i32 fields, byte offsets)
const U_OP = 4, U_X = 8, U_DY = 12, U_Y = 16, U_N = 20, U_CHUNK = 24, U_AUX = 28, U_AUX2 = 32;

/** Runs task `task` of the kernel described at `params`, on thread `thread` (its scratch). */
export function runTask(params: usize, task: i32, thread: i32): void {
  const kind = load<i32>(params);
  if (kind == KIND_GEMM) {
    gemmTask(params, task, <usize>load<i32>(params, 64) + <usize>(thread * load<i32>(params, 68)));
  } else if (kind == KIND_PACK_B) {
    packBTask(params, task);
  } else if (kind == KIND_UNARY) {
    const chunk = load<i32>(params, U_CHUNK), n = load<i32>(params, U_N);
    const i0 = task * chunk, i1 = min(n, i0 + chunk);
    unaryRange(load<i32>(params, U_OP), <usize>load<i32>(params, U_X), <usize>load<i32>(params, U_DY), <usize>load<i32>(params, U_Y), i0, i1, <usize>load<i32>(params, U_AUX), <usize>load<i32>(params, U_AUX2));
  } else if (kind == KIND_ATTENTION) {
    attentionTask(params, task, thread, false);
  } else if (kind == KIND_ATTENTION_BACKWARD) {
    attentionTask(params, task, thread, true);
  } else if (kind == KIND_GEMV) {
    gemvTask(params, task);
  } else if (kind == KIND_QMATMUL) {
    qmatmulTask(params, task);
  }
}
