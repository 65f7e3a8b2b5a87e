// AssemblyScript: the module's exports (the only entry file; tools/build-wasm.mjs compiles from here).
export { MR, NR, packedBElems, scratchBytes } from "./matmul";
export { runTask } from "./tasks";
import { initMathConstants } from "./vmath";
import { initElementwiseConstants } from "./elementwise";

/** Writes the constant table of ./vmath.ts; called once by the JavaScript side when it creates the memory. */
export function initConstants(): void {
  initMathConstants();
  initElementwiseConstants();
}
export { attentionScratchBytes } from "./attention";
export { unaryRange } from "./elementwise";
export {
  layerNormF32, layerNormBackwardF32, softmaxF32, softmaxBackwardF32, logSoftmaxF32, logSoftmaxBackwardF32,
  crossEntropyF32, crossEntropyBackwardF32, rmsNormF32, rmsNormBackwardF32,
} from "./nn";
export { adamF32, adamMultiF32 } from "./optim";
export { binaryF32, extremeF32, mulColumnF32, stridedF32, sumF32, transposeF32, zeroBytes } from "./arith";
export { im2colF32, col2imF32 } from "./conv";
