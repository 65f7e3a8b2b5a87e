// The layout kernels of the wasm backend on transposes, against the reference (the spec), bit for bit:
// strided copies and assignments over random views (2-D to 5-D sources, sizes 1, 3 and others not a
// multiple of 4, offsets from narrowing, flips, stride-0 dims, permutations of those views), on ordinary
// arrays, on blocks of the wasm heap and on both at once, below and above the sizes where the tiled kernel
// takes over; then permute and transpose with their backward, outside and inside a memory scope, against
// the same ops on the reference backend.

import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import * as wnn from "../../src/index-node.js";
import type { KernelTable } from "../../src/backend/backend.js";
import { referenceKernels as ref } from "../../src/backend/reference/backend.js";
import { wasmBackend } from "../../src/backend/wasm/index.js";
import { residentAllocator } from "../../src/backend/wasm/heap.js";
import { Generator } from "../../src/engine/rng.js";
import { Tensor, allocate, tidy } from "../../src/index.js";

const wasm = wasmBackend.kernels as KernelTable;
const gen = new Generator(77);
const SIZES = [1, 3, 4, 5, 7, 8, 9, 13, 17, 33, 64, 130];

const int = (n: number): number => Math.floor(gen.random() * n);
const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

function randn(n: number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = gen.normal();
  return x;
}

/** Bitwise equality of two float arrays (NaN equals NaN, +0 differs from −0). */
function assertSame(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) assert.fail(`${what}[${i}]: got ${got[i]}, reference ${want[i]}`);
  }
}

interface View {
  source: number; // numel of the contiguous source
  offset: number;
  strides: number[];
  shape: number[];
}

/**
 * A random view of a contiguous source of 2 to 5 dims (at most `cap` elements): some dims narrowed, some
 * flipped, sometimes a dim expanded (stride 0), then the dims permuted.
 */
function randomView(cap: number): View {
  const nd = 2 + int(4);
  let src: number[];
  do src = Array.from({ length: nd }, () => SIZES[int(SIZES.length)]!);
  while (numel(src) > cap);
  const strides: number[] = new Array<number>(nd);
  for (let d = nd - 1, s = 1; d >= 0; s *= src[d]!, d--) strides[d] = s;
  let offset = 0;
  const shape = [...src];
  for (let d = 0; d < nd; d++) {
    if (shape[d]! > 2 && gen.random() < 0.3) {
      // narrow(d, a, len)
      const a = 1 + int(shape[d]! - 2);
      const len = 1 + int(shape[d]! - a);
      offset += a * strides[d]!;
      shape[d] = len;
    }
    if (gen.random() < 0.2) {
      // flip(d)
      offset += (shape[d]! - 1) * strides[d]!;
      strides[d] = -strides[d]!;
    }
  }
  if (gen.random() < 0.15) {
    // a size-1 dim expanded to 3: each element read three times
    shape.push(3);
    strides.push(0);
  }
  const perm = shape.map((_, d) => d);
  for (let i = perm.length - 1; i > 0; i--) {
    const j = int(i + 1);
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  }
  return { source: numel(src), offset, strides: perm.map((d) => strides[d]!), shape: perm.map((d) => shape[d]!) };
}

/** The transposes the tiled kernel was written for, and its edges. */
const FIXED: View[] = [
  // (12, 64, 1024).permute(0, 2, 1)
  { source: 12 * 64 * 1024, offset: 0, strides: [65536, 1, 1024], shape: [12, 1024, 64] },
  // (130, 257).transpose(0, 1): edges both ways
  { source: 130 * 257, offset: 0, strides: [1, 257], shape: [257, 130] },
  // (3, 9000).transpose(0, 1): three-row planes, all edge
  { source: 3 * 9000, offset: 0, strides: [1, 9000], shape: [9000, 3] },
  // (200, 3, 100).permute(0, 2, 1): a stride-1 dim of size 3 only
  { source: 60000, offset: 0, strides: [300, 1, 100], shape: [200, 100, 3] },
  // (70, 300).narrow(1, 5, 290).flip(0).transpose(0, 1): a negative inner stride
  { source: 21000, offset: 69 * 300 + 5, strides: [1, -300], shape: [290, 70] },
  // (40, 600).transpose(0, 1).flip(0): a negative stride on the stride-1 dim
  { source: 24000, offset: 599, strides: [-1, 600], shape: [600, 40] },
  // (17, 33, 65) viewed as a transpose of its last two dims of a transposed source: strides (65, 1, 1105)
  { source: 17 * 33 * 65, offset: 0, strides: [65, 1, 1105], shape: [33, 65, 17] },
  // (2000, 1000).narrow(1, 10, 10).transpose(0, 1): a view far smaller than the span it reaches
  { source: 2000 * 1000, offset: 10, strides: [1, 1000], shape: [10, 2000] },
  // overlapping windows (stride 2 over stride-1 runs of 8): each element written several times
  { source: 4000, offset: 0, strides: [1, 2], shape: [8, 1990] },
];

describe("wasm layout kernels on transposes", () => {
  const views = [...FIXED];
  for (let k = 0; k < 160; k++) views.push(randomView(k < 40 ? 2000 : 200000));

  // where the operands live: ordinary arrays, blocks of the wasm heap, or the strided side alone in the heap
  for (const where of ["ordinary arrays", "the wasm heap", "the heap for the strided side only"]) {
    test(`strided copies and assignments over ${views.length} views on ${where}: exact`, () => {
      const blocks: Float32Array[] = [];
      const heap = (v: Float32Array): Float32Array => {
        const b = residentAllocator.alloc("float32", v.length, false) as Float32Array;
        b.set(v);
        blocks.push(b);
        return b;
      };
      const strided = (v: Float32Array): Float32Array => (where === "ordinary arrays" ? v : heap(v));
      const arr = (v: Float32Array): Float32Array => (where === "the wasm heap" ? heap(v) : v);
      try {
        for (const { source, offset, strides, shape } of views) {
          const what = `offset ${offset} strides [${strides}] shape [${shape}]`;
          const n = numel(shape);
          const x = randn(source);
          const got = arr(new Float32Array(n).fill(NaN)),
            want = new Float32Array(n);
          wasm.stridedCopy(strided(x), offset, strides, shape, got);
          ref.stridedCopy(x, offset, strides, shape, want);
          assertSame(got, want, `stridedCopy ${what}`);
          for (const acc of [false, true]) {
            const src = randn(n),
              dw = randn(source);
            const dg = strided(dw.slice());
            wasm.stridedAssign(arr(src), dg, offset, strides, shape, acc);
            ref.stridedAssign(src, dw, offset, strides, shape, acc);
            assertSame(dg, dw, `stridedAssign ${acc ? "+=" : "="} ${what}`);
          }
          for (const b of blocks.splice(0)) residentAllocator.free(b);
        }
      } finally {
        for (const b of blocks) residentAllocator.free(b);
      }
    });
  }
});

/** y = f(x) and dx for the loss Σ y·w, as plain arrays. */
function valueAndGrad(x: Tensor, f: (x: Tensor) => Tensor): [number[], number[]] {
  const xg = x.detach().requiresGrad_(true);
  const y = f(xg);
  const w = new Tensor(
    Float32Array.from({ length: y.numel() }, (_, j) => ((j * 7) % 11) / 11 - 0.5),
    y.shape,
  );
  y.mul(w).sum().backward();
  return [[...y.storage], [...xg.grad!.storage]];
}

describe("permute and transpose with their backward on the wasm backend", () => {
  const previous = wnn.getBackend();
  const cases: [number[], (x: Tensor) => Tensor, string][] = [
    [[12, 64, 1024], (x) => x.permute([0, 2, 1]), "(12, 64, 1024).permute(0, 2, 1)"],
    [[257, 130], (x) => x.transpose(0, 1), "(257, 130).transpose(0, 1)"],
    [[3, 5, 7, 9, 33], (x) => x.permute([4, 2, 0, 3, 1]), "(3, 5, 7, 9, 33).permute(4, 2, 0, 3, 1)"],
    [[6, 130, 67], (x) => x.narrow(1, 3, 120).permute([2, 1, 0]), "a narrowed view permuted"],
    [[40, 3, 600], (x) => x.flip(2).transpose(0, 2), "a flipped view transposed"],
    [
      [9, 70, 130],
      (x) =>
        x
          .transpose(1, 2)
          .reshape([9 * 130, 70])
          .transpose(0, 1),
      "a transpose of a transpose",
    ],
  ];
  for (const [shape, f, name] of cases) {
    test(`${name}: the reference backend's values and gradient, outside and inside a scope`, () => {
      const x = new Tensor(randn(numel(shape)), shape);
      wnn.setBackend("reference");
      const want = valueAndGrad(x, f);
      wnn.setBackend("wasm");
      try {
        assert.deepEqual(valueAndGrad(x, f), want, `${name} outside a scope`);
        const inside = tidy(() => {
          const xs = new Tensor(allocate("float32", x.numel()), x.shape);
          xs.storage.set(x.storage);
          return valueAndGrad(xs, f);
        });
        assert.deepEqual(inside, want, `${name} inside a scope`);
      } finally {
        wnn.setBackend(previous);
      }
    });
  }
  after(() => wnn.setBackend(previous));
});
