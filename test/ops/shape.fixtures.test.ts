// PyTorch parity of the shape ops: test/fixtures/ops/shape.json, written by tools/fixtures/ops_shape.py.
// Shape ops only move values, so outputs and gradients match PyTorch exactly; expand and repeat sum
// gradients (in another order than PyTorch), and so does pad in reflect and replicate mode: they get the
// elementwise tolerance.
import * as wnn from "../../src/index.js";
import { replayFixtures, type FixtureCall } from "../harness/fixtures.js";
import { ELEMENTWISE_TOL } from "../harness/optable.js";

const calls: Record<string, FixtureCall> = {
  reshape: ([x], a) => wnn.reshape(x!, a.shape),
  view: ([x], a) => x!.view(a.shape),
  flatten: ([x], a) => wnn.flatten(x!, a.start, a.end),
  squeeze: ([x], a) => wnn.squeeze(x!, a.dim),
  unsqueeze: ([x], a) => x!.unsqueeze(a.dim),
  permute: ([x], a) => x!.permute(...(a.dims as number[])),
  transpose: ([x], a) => x!.transpose(a.dim0, a.dim1),
  expand: ([x], a) => x!.expand(a.sizes),
  repeat: ([x], a) => wnn.repeat(x!, ...(a.sizes as number[])),
  slice: ([x], a) => (a.specs ? x!.slice(a.specs) : x!.slice(a.dim, a.start, a.end, a.step)),
  narrow: ([x], a) => x!.narrow(a.dim, a.start, a.length),
  flip: ([x], a) => x!.flip(a.dims),
  cat: (xs, a) => wnn.cat(xs, a.dim),
  stack: (xs, a) => wnn.stack(xs, a.dim),
  split: ([x], a) => x!.split(a.split, a.dim),
  chunk: ([x], a) => x!.chunk(a.chunks, a.dim),
  pad: ([x], a) => wnn.nn.functional.pad(x!, a.pad, { mode: a.mode, value: a.value }),
  tril: ([x], a) => x!.tril(a.diagonal),
  triu: ([x], a) => wnn.triu(x!, a.diagonal),
};

const SUMS_GRADIENTS = new Set(["expand", "repeat", "pad"]); // pad: reflect and replicate add up mirrored gradients
replayFixtures("ops/shape.json", calls, (op) => (SUMS_GRADIENTS.has(op) ? ELEMENTWISE_TOL : { rtol: 0, atol: 0 }));
