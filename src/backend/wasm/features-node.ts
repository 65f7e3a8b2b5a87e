// Node-only (loaded by src/index-node.ts): turns on V8's relaxed SIMD where the Node version ships it
// behind a flag. Relaxed SIMD (a standard WebAssembly feature, enabled by default in V8 ≥ 11.4: Node ≥ 22,
// Chrome ≥ 114) gives the kernels a fused multiply-add (f32x4.relaxed_madd), ≈ +25 % on matmul; Node 20's
// V8 11.3 implements it behind --experimental-wasm-relaxed-simd. Setting the flag at run time works
// because the module is compiled on first use, after this runs. WNN_RELAXED_SIMD=0 leaves the flag
// alone (the kernels then use the plain-SIMD build).

import { setFlagsFromString } from "node:v8";
import { relaxedSimdSupported } from "./instance.js";

/** Enables relaxed SIMD if the host has it behind a flag; returns whether the host now validates it. */
export function enableRelaxedSimd(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[
    "WNN_RELAXED_SIMD"
  ];
  if (env === "0" || relaxedSimdSupported()) return relaxedSimdSupported();
  try {
    setFlagsFromString("--experimental-wasm-relaxed-simd");
  } catch {
    // an embedder that refuses V8 flags: keep the plain-SIMD kernels
  }
  return relaxedSimdSupported();
}
