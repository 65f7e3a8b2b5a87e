// The op table inside a memory scope (src/engine/scope.ts): every sample's float32 outputs and the
// gradients of a backward, computed inside `tidy` on inputs that live in the scope's storage (the wasm
// heap with the default backend: the kernels read and write them in place), must be bit-identical to the
// same computation outside any scope; the scope's tensors are released at its end. Every float32 and
// int32 storage goes into the heap here, however small (the library's threshold is 64 elements), and
// outputs the ops allocate without a zero-fill are poisoned with NaN first.
import { setPoisonUninitialised, setScopeMinElements } from "../../src/engine/scope.js";
import { runOpTable } from "../harness/optable.js";
import { cases as attention } from "./cases/attention.js";
import { cases as cast } from "./cases/cast.js";
import { cases as conv } from "./cases/conv.js";
import { cases as elementwise } from "./cases/elementwise.js";
import { cases as indexing } from "./cases/indexing.js";
import { cases as matmul } from "./cases/matmul.js";
import { cases as nn } from "./cases/nn.js";
import { cases as reduce } from "./cases/reduce.js";
import { cases as shape } from "./cases/shape.js";

setScopeMinElements(1); // every float32 and int32 storage of the scope in the heap, however small
// outputs allocated without a zero-fill start as NaN here: an op whose kernel leaves part of its output unwritten
// gives NaN where the unscoped run (zero-filled ordinary arrays) gives numbers, and fails the bit-identical check
setPoisonUninitialised(true);

runOpTable([...cast, ...elementwise, ...reduce, ...matmul, ...shape, ...indexing, ...nn, ...conv, ...attention], {
  scopedOnly: true,
});
