// Imported first by parity.test.ts: makes the backend that the rest of the suite does NOT run on the
// active one, before any test module is evaluated. The rest of the suite runs on the default backend
// (wasm where WebAssembly SIMD exists, or $WNN_BACKEND), so between them both backends run the whole
// op table and every PyTorch fixture replay.
import { defaultBackend, getBackend, setBackend } from "../../src/ops/kernels.js";

export const PARITY_BACKEND = defaultBackend() === "wasm" ? "reference" : "wasm";
setBackend(PARITY_BACKEND);
if (getBackend() !== PARITY_BACKEND) throw new Error("parity: could not select the backend");
