// Backend parity, kernel by kernel: every kernel of the wasm backend (besides matmul: ./wasm.test.ts)
// against the reference kernel (the spec) on the same inputs — SIMD tails (sizes 1, 3, 4, 5, 7, 8, 15,
// 16, 17, 31, 32, 33), broadcasts, masks, special values — on one thread and on the 2-thread pool with
// every parallel threshold at 0. Exact where the wasm kernel does the reference's arithmetic (binary
// ops, sums, copies: float32 results of one IEEE operation or float64 sums in the same order), within
// a float32 tolerance where it approximates (exp-based math, float32 accumulation).

import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { setNumThreads } from "../../src/index-node.js";
import type { AttentionParams, FloatArr, KernelTable } from "../../src/backend/backend.js";
import { referenceKernels as ref } from "../../src/backend/reference/backend.js";
import { wasmBackend } from "../../src/backend/wasm/index.js";
import { residentAllocator } from "../../src/backend/wasm/heap.js";
import { setParallelMin } from "../../src/backend/wasm/thresholds.js";
import { Generator } from "../../src/engine/rng.js";
import { assertClose, type Tolerance } from "../harness/assert.js";

const wasm = wasmBackend.kernels as KernelTable;
const TAILS = [1, 3, 4, 5, 7, 8, 15, 16, 17, 31, 32, 33];
const SPECIAL = [
  0,
  -0,
  Infinity,
  -Infinity,
  NaN,
  1e-30,
  -1e-30,
  1e-40,
  -1e-40,
  1e30,
  -1e30,
  88,
  -88,
  100,
  -100,
  10.5,
  -10.5,
  1,
  -1,
];
const gen = new Generator(2024);

function randn(n: number, scale = 1): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = scale * gen.normal();
  return x;
}

/** Bitwise equality of two float arrays (NaN equals NaN, +0 differs from −0). */
function assertSame(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) assert.fail(`${what}[${i}]: got ${got[i]}, reference ${want[i]}`);
  }
}

const UNARY = ["exp", "tanh", "sigmoid", "silu", "geluTanh", "gelu", "log", "rsqrt"] as const;
const UNARY_BACKWARD = ["siluBackward", "geluTanhBackward", "geluBackward"] as const;
/** one IEEE operation (or none) per element in float32: the reference's float64 result rounds to the same float32 */
const UNARY_EXACT = ["neg", "abs", "sign", "relu", "sqrt", "reciprocal"] as const;
const APPROX: Tolerance = { rtol: 4e-6, atol: 1e-6 };
const BACKWARD_APPROX: Tolerance = { rtol: 1e-5, atol: 2e-6 };

function suite(threads: number): void {
  describe(`wasm kernels, ${threads} thread(s)`, () => {
    test("pool setting", () => {
      setNumThreads(threads);
      setParallelMin(threads > 1 ? { matmulMacs: 0, attentionMacs: 0, elements: 0 } : null);
    });

    test("activations and their backwards: tails, special values, large inputs", () => {
      for (const n of [...TAILS, 1000, 70000]) {
        const x = randn(n, 3);
        if (n >= 33) x.set(SPECIAL, 0);
        const dy = randn(n);
        // log, rsqrt (and sqrt below) also on |x|, so that most lanes are in their domain
        const ax = x.map(Math.abs);
        for (const k of UNARY) {
          for (const [v, what] of [
            [x, "x"],
            [ax, "|x|"],
          ] as const) {
            const got = new Float32Array(n),
              want = new Float32Array(n);
            wasm[k](v, got);
            ref[k](v, want);
            assertClose(got, want, APPROX, `${k}(${what}) n=${n}`);
          }
        }
        for (const k of UNARY_EXACT) {
          for (const v of [x, ax]) {
            const got = new Float32Array(n),
              want = new Float32Array(n);
            wasm[k](v, got);
            ref[k](v, want);
            assertSame(got, want, `${k} n=${n}`);
          }
        }
        {
          const got = new Float32Array(n),
            want = new Float32Array(n);
          wasm.reluBackward(x, dy, got);
          ref.reluBackward(x, dy, want);
          assertSame(got, want, `reluBackward n=${n}`);
        }
        for (const k of UNARY_BACKWARD) {
          const got = new Float32Array(n),
            want = new Float32Array(n);
          wasm[k](x, dy, got);
          ref[k](x, dy, want);
          assertClose(got, want, BACKWARD_APPROX, `${k} n=${n}`);
        }
        {
          // the gated gelu: the same bits as geluTanh and geluTanhBackward on this backend, and close to the reference
          const y = new Float32Array(n),
            gate = new Float32Array(n),
            y0 = new Float32Array(n),
            dx = new Float32Array(n),
            dx0 = new Float32Array(n);
          wasm.geluTanhGate(x, y, gate);
          wasm.geluTanh(x, y0);
          assertSame(y, y0, `geluTanhGate y n=${n}`);
          wasm.geluTanhGateBackward(x, gate, dy, dx);
          wasm.geluTanhBackward(x, dy, dx0);
          assertSame(dx, dx0, `geluTanhGateBackward n=${n}`);
          const ry = new Float32Array(n),
            rgate = new Float32Array(n),
            rdx = new Float32Array(n);
          ref.geluTanhGate(x, ry, rgate);
          assertClose(gate, rgate, APPROX, `geluTanhGate gate n=${n}`);
          ref.geluTanhGateBackward(x, rgate, dy, rdx);
          assertClose(dx, rdx, BACKWARD_APPROX, `geluTanhGateBackward vs reference n=${n}`);
        }
        {
          // gelu and silu that keep their slope: y has the bits of gelu / silu, dy·slope those of geluBackward /
          // siluBackward on this backend; both close to the reference
          for (const [k, fwd, bwd] of [
            ["geluSlope", "gelu", "geluBackward"],
            ["siluSlope", "silu", "siluBackward"],
          ] as const) {
            const y = new Float32Array(n),
              slope = new Float32Array(n),
              y0 = new Float32Array(n),
              dx = new Float32Array(n),
              dx0 = new Float32Array(n);
            wasm[k](x, y, slope);
            wasm[fwd](x, y0);
            assertSame(y, y0, `${k} y n=${n}`);
            wasm.mul(dy, [1], slope, [1], dx, [n]);
            wasm[bwd](x, dy, dx0);
            assertSame(dx, dx0, `${k}: dy·slope as ${bwd} n=${n}`);
            const ry = new Float32Array(n),
              rslope = new Float32Array(n);
            ref[k](x, ry, rslope);
            assertClose(y, ry, APPROX, `${k} y vs reference n=${n}`);
            assertClose(slope, rslope, BACKWARD_APPROX, `${k} slope vs reference n=${n}`);
          }
        }
        {
          // the one-kernel backwards do the composed ops' float32 operations in order: the reference's bits
          const t = new Float32Array(n),
            s = new Float32Array(n);
          wasm.tanh(x, t);
          wasm.sigmoid(x, s);
          const rt = ax.map(Math.sqrt);
          for (const [k, v] of [
            ["tanhBackward", t],
            ["sigmoidBackward", s],
            ["absBackward", x],
            ["sqrtBackward", rt],
            ["sqrtBackward", x],
          ] as const) {
            const got = new Float32Array(n),
              want = new Float32Array(n);
            wasm[k](v, dy, got);
            ref[k](v, dy, want);
            assertSame(got, want, `${k} n=${n}`);
          }
          const b = randn(n, 2);
          if (n >= 33) b.set(SPECIAL.slice().reverse(), 0);
          const q = new Float32Array(n);
          ref.div(x, [1], b, [1], q, [n]);
          const got = [new Float32Array(n), new Float32Array(n)],
            want = [new Float32Array(n), new Float32Array(n)];
          wasm.mulBackward(dy, x, b, got[0]!, got[1]!);
          ref.mulBackward(dy, x, b, want[0]!, want[1]!);
          assertSame(got[0]!, want[0]!, `mulBackward da n=${n}`);
          assertSame(got[1]!, want[1]!, `mulBackward db n=${n}`);
          wasm.divBackward(dy, b, q, got[0]!, got[1]!);
          ref.divBackward(dy, b, q, want[0]!, want[1]!);
          assertSame(got[0]!, want[0]!, `divBackward da n=${n}`);
          assertSame(got[1]!, want[1]!, `divBackward db n=${n}`);
          // and the composed ops they replace, on the reference: neg(div(mul(dy, q), b))
          const dq = new Float32Array(n),
            dqb = new Float32Array(n),
            db = new Float32Array(n);
          ref.mul(dy, [1], q, [1], dq, [n]);
          ref.div(dq, [1], b, [1], dqb, [n]);
          ref.neg(dqb, db);
          assertSame(got[1]!, db, `divBackward db as neg(div(mul(dy, q), b)) n=${n}`);
          const one = new Float32Array([1]),
            tt = new Float32Array(n),
            omt = new Float32Array(n),
            dt = new Float32Array(n);
          ref.mul(t, [1], t, [1], tt, [n]);
          ref.sub(one, [0], tt, [1], omt, [n]);
          ref.mul(dy, [1], omt, [1], dt, [n]);
          wasm.tanhBackward(t, dy, got[0]!);
          assertSame(got[0]!, dt, `tanhBackward as mul(dy, sub(1, mul(y, y))) n=${n}`);
          // on blocks of the wasm heap (read and written in place, both outputs)
          const blocks = [dy, x, b, q, dy, dy].map((v) => {
            const r = residentAllocator.alloc("float32", n, false) as Float32Array;
            r.set(v);
            return r;
          });
          const [hdy, hx, hb, hq, h0, h1] = blocks as [
            Float32Array,
            Float32Array,
            Float32Array,
            Float32Array,
            Float32Array,
            Float32Array,
          ];
          wasm.mulBackward(hdy, hx, hb, h0, h1);
          ref.mulBackward(dy, x, b, want[0]!, want[1]!);
          assertSame(h0, want[0]!, `mulBackward da n=${n} (resident)`);
          assertSame(h1, want[1]!, `mulBackward db n=${n} (resident)`);
          wasm.divBackward(hdy, hb, hq, h0, h1);
          ref.divBackward(dy, b, q, want[0]!, want[1]!);
          assertSame(h0, want[0]!, `divBackward da n=${n} (resident)`);
          assertSame(h1, want[1]!, `divBackward db n=${n} (resident)`);
          for (const r of blocks) residentAllocator.free(r);
        }
      }
    });

    test("binary arithmetic: same shape, row, column and scalar broadcasts; bit-identical", () => {
      for (const op of ["add", "sub", "mul", "div"] as const) {
        for (const cols of TAILS) {
          for (const rows of [1, 5, 40]) {
            const a = randn(rows * cols),
              row = randn(cols),
              col = randn(rows),
              s = randn(1);
            a[0] = NaN;
            const cases: [Float32Array, number[], Float32Array, number[]][] = [
              [a, [cols, 1], randn(rows * cols), [cols, 1]], // same shape
              [a, [cols, 1], row, [0, 1]], //                   (rows, cols) ∘ (cols)
              [col, [1, 0], a, [cols, 1]], //                   (rows, 1) ∘ (rows, cols)
              [s, [0, 0], a, [cols, 1]], //                     scalar ∘ matrix
            ];
            for (const [x, xs, y, ys] of cases) {
              const got = new Float32Array(rows * cols),
                want = new Float32Array(rows * cols);
              wasm[op](x, xs, y, ys, got, [rows, cols]);
              ref[op](x, xs, y, ys, want, [rows, cols]);
              assertSame(got, want, `${op} (${rows},${cols}) strides ${xs}/${ys}`);
            }
          }
        }
      }
      // three broadcast dims that do not coalesce, and in place (out = a)
      const a = randn(4 * 5 * 6),
        b = randn(5);
      const got = new Float32Array(a),
        want = new Float32Array(120);
      ref.mul(a, [30, 6, 1], b, [0, 1, 0], want, [4, 5, 6]);
      wasm.mul(got, [30, 6, 1], b, [0, 1, 0], got, [4, 5, 6]);
      assertSame(got, want, "mul (4,5,6) ∘ (5,1)");
      const big = randn(300 * 70),
        bias = randn(70),
        w2 = new Float32Array(21000),
        inplace = new Float32Array(big);
      ref.add(big, [70, 1], bias, [0, 1], w2, [300, 70]);
      wasm.add(inplace, [70, 1], bias, [0, 1], inplace, [300, 70]);
      assertSame(inplace, w2, "add in place (300,70) + (70)");
    });

    test("sum over a middle dim: every (outer, r, inner) tail, bit-identical", () => {
      for (const inner of [1, 3, 4, 5, 33]) {
        for (const r of [1, 7, 130]) {
          for (const outer of [1, 3]) {
            const x = randn(outer * r * inner);
            const got = new Float32Array(outer * inner),
              want = new Float32Array(outer * inner);
            wasm.sum(x, got, outer, r, inner);
            ref.sum(x, want, outer, r, inner);
            assertSame(got, want, `sum (${outer},${r},${inner})`);
          }
        }
      }
      const x = randn(768 * 128),
        got = new Float32Array(128),
        want = new Float32Array(128);
      wasm.sum(x, got, 1, 768, 128);
      ref.sum(x, want, 1, 768, 128);
      assertSame(got, want, "sum (1,768,128)");
    });

    test("sum of contiguous rows in wasm (eight float64 partial sums): within one float32 rounding", () => {
      for (const r of [4096, 4099, 1031]) {
        const outer = r === 1031 ? 9 : 2;
        const x = randn(outer * r);
        const got = new Float32Array(outer),
          want = new Float32Array(outer);
        wasm.sum(x, got, outer, r, 1);
        ref.sum(x, want, outer, r, 1);
        for (let o = 0; o < outer; o++) {
          // one float32 step at want's magnitude
          const ulp = Math.abs(want[o]!) * 2 ** -23 || 2 ** -149;
          assert.ok(Math.abs(got[o]! - want[o]!) <= ulp, `sum (${outer},${r},1) row ${o}: ${got[o]} vs ${want[o]}`);
        }
      }
    });

    test("max and min along a dim with the first index: ties, NaN, ±inf, every lane tail, bit-identical", () => {
      // values from a small set, so ties are frequent; NaN and infinities sprinkled in some rows
      const g = new Generator(11);
      const pick = (n: number, special: boolean): Float32Array =>
        Float32Array.from({ length: n }, () => {
          const u = g.random();
          if (special && u < 0.01) return NaN;
          if (special && u < 0.02) return Infinity;
          if (special && u < 0.03) return -Infinity;
          return Math.floor(g.random() * 9) - 4;
        });
      // n = outer·r·inner ≥ 4096 takes the wasm kernel
      const shapes: [number, number, number][] = [
        [512, 8, 1],
        [300, 15, 1],
        [128, 33, 1],
        [1, 4099, 1],
        [2, 4096, 1],
        [64, 64, 3],
        [8, 100, 33],
        [1, 1024, 16],
        [4096, 1, 1],
        [1, 1, 4096],
      ];
      for (const [outer, r, inner] of shapes) {
        for (const special of [false, true]) {
          const x = pick(outer * r * inner, special);
          for (const k of ["max", "min"] as const) {
            const gv = new Float32Array(outer * inner),
              wv = new Float32Array(outer * inner),
              gi = new Int32Array(outer * inner),
              wi = new Int32Array(outer * inner);
            wasm[k](x, gv, gi, outer, r, inner);
            ref[k](x, wv, wi, outer, r, inner);
            const what = `${k} (${outer},${r},${inner})${special ? " with NaN/inf" : ""}`;
            assertSame(gv, wv, what);
            assert.deepEqual(gi, wi, `${what}: indices`);
          }
        }
      }
    });

    test("max and min over rows of every length 1..70 and column blocks: ±0, ±inf, NaN, ties; resident or not", () => {
      // values from a small set with +0 and −0 (ties everywhere); per row: all equal, a NaN or two at random
      // places (the first NaN wins), infinities, or plain; the first index of the extreme must win
      const g = new Generator(12);
      const VALUES = [-2, -1, -0, 0, 1, 2];
      const fill = (outer: number, r: number, inner: number): Float32Array => {
        const x = new Float32Array(outer * r * inner);
        for (let o = 0; o < outer; o++) {
          for (let j = 0; j < inner; j++) {
            const at = (i: number): number => (o * r + i) * inner + j;
            const mode = g.random();
            for (let i = 0; i < r; i++) x[at(i)] = mode < 0.1 ? -0 : VALUES[Math.floor(g.random() * VALUES.length)]!;
            if (mode >= 0.1 && mode < 0.25) for (let i = 0; i < r; i++) if (g.random() < 0.2) x[at(i)] = -Infinity;
            if (mode >= 0.25 && mode < 0.35) for (let i = 0; i < r; i++) if (g.random() < 0.1) x[at(i)] = Infinity;
            if (mode >= 0.35 && mode < 0.5) {
              x[at(Math.floor(g.random() * r))] = NaN;
              if (g.random() < 0.5) x[at(Math.floor(g.random() * r))] = NaN;
            }
          }
        }
        return x;
      };
      const blocks: Float32Array[] = [];
      const resident = (v: Float32Array): Float32Array => {
        const b = residentAllocator.alloc("float32", v.length) as Float32Array;
        b.set(v);
        blocks.push(b);
        return b;
      };
      for (const inner of [1, 2, 5, 8, 16, 17, 23, 35, 48]) {
        for (let r = 1; r <= 70; r++) {
          // at least 4096 elements: the wasm kernel
          const outer = Math.ceil(4096 / (r * inner));
          const x = fill(outer, r, inner);
          for (const k of ["max", "min"] as const) {
            const wv = new Float32Array(outer * inner),
              wi = new Int32Array(outer * inner);
            ref[k](x, wv, wi, outer, r, inner);
            for (const inHeap of [false, true]) {
              const gv = inHeap ? resident(new Float32Array(outer * inner)) : new Float32Array(outer * inner),
                gi = new Int32Array(outer * inner);
              wasm[k](inHeap ? resident(x) : x, gv, gi, outer, r, inner);
              const what = `${k} (${outer},${r},${inner})${inHeap ? " (resident)" : ""}`;
              assertSame(gv, wv, what);
              assert.deepEqual(gi, wi, `${what}: indices`);
            }
          }
        }
      }
      for (const b of blocks) residentAllocator.free(b);
    });

    test("a broadcast along the last dim (zero inner stride) of every length 1..70: exact, NaN payloads kept", () => {
      const blocks: Float32Array[] = [];
      const resident = (v: Float32Array): Float32Array => {
        const b = residentAllocator.alloc("float32", v.length) as Float32Array;
        b.set(v);
        blocks.push(b);
        return b;
      };
      const dy = randn(12 * 64);
      new Uint32Array(dy.buffer)[5] = 0x7fc01234; // a NaN with a payload: copied bit for bit
      for (let len = 1; len <= 70; len++) {
        // (12, 64, len) from dy (12, 64, 1): the backward of a sum over the last dim
        const views: [number[], number[]][] = [
          [
            [64, 1, 0],
            [12, 64, len],
          ],
          [
            [1, 0],
            [37, len],
          ],
        ];
        for (const [strides, shape] of views) {
          const n = shape.reduce((a, b) => a * b, 1);
          const want = new Float32Array(n);
          ref.stridedCopy(dy, 0, strides, shape, want);
          for (const inHeap of [false, true]) {
            const got = inHeap ? resident(new Float32Array(n).fill(7)) : new Float32Array(n).fill(7);
            wasm.stridedCopy(inHeap ? resident(dy) : dy, 0, strides, shape, got);
            const what = `stridedCopy ${strides} ${shape}${inHeap ? " (resident)" : ""}`;
            assert.deepEqual(new Uint32Array(got.buffer, got.byteOffset, n), new Uint32Array(want.buffer), what);
          }
        }
      }
      for (const b of blocks) residentAllocator.free(b);
    });

    test("the backward of a product by a column: dx bit-identical, dcol as sum(mul(dy, x)) within a rounding", () => {
      for (const cols of [...TAILS, 100, 1024]) {
        for (const rows of [1, 5, 40]) {
          const n = rows * cols;
          const x = randn(n),
            dy = randn(n),
            col = randn(rows);
          const got = [new Float32Array(n), new Float32Array(rows)],
            want = [new Float32Array(n), new Float32Array(rows)];
          wasm.mulColumnBackward(dy, x, col, got[0]!, got[1]!, rows, cols);
          ref.mulColumnBackward(dy, x, col, want[0]!, want[1]!, rows, cols);
          assertSame(got[0]!, want[0]!, `mulColumnBackward dx (${rows},${cols})`);
          // the reference is the composed ops, bit for bit: mul(dy, col) and sum(mul(dy, x)) over the last dim
          const dx = new Float32Array(n),
            p = new Float32Array(n),
            dcol = new Float32Array(rows);
          ref.mul(dy, [cols, 1], col, [1, 0], dx, [rows, cols]);
          ref.mul(dy, [1], x, [1], p, [n]);
          ref.sum(p, dcol, rows, cols, 1);
          assertSame(want[0]!, dx, `mulColumnBackward dx as mul(dy, col) (${rows},${cols})`);
          assertSame(want[1]!, dcol, `mulColumnBackward dcol as sum(mul(dy, x)) (${rows},${cols})`);
          // wasm: float64 partial sums in another order, so within a float32 rounding of the reference
          assertClose(got[1]!, want[1]!, { rtol: 1e-6, atol: 1e-6 }, `mulColumnBackward dcol (${rows},${cols})`);
          // without dx
          const only = new Float32Array(rows);
          wasm.mulColumnBackward(dy, x, col, null, only, rows, cols);
          assertSame(only, got[1]!, `mulColumnBackward dcol alone (${rows},${cols})`);
        }
      }
    });

    test("strided copies and assignments: permutes, broadcasts, flips, offsets, overlapping accumulation; exact", () => {
      const x = randn(2 * 3 * 4 * 70);
      // [offset, strides, shape] of views of x (2, 3, 4, 70)
      const views: [number, number[], number[]][] = [
        [0, [840, 280, 70, 1], [2, 3, 4, 70]], // contiguous
        [0, [840, 70, 280, 1], [2, 4, 3, 70]], // transpose(1, 2): runs of 70
        [0, [1, 840, 280, 70], [70, 2, 3, 4]], // the last dim first: stride-70 runs
        [5, [0, 1], [9, 33]], //                 a broadcast row, with an offset
        [839, [-1], [840]], //                   a flip
        [3, [280, 2], [6, 17]], //               a slice with a step
        [0, [0, 1], [30, 70]], //                a broadcast row, 2,100 elements (the wasm kernel when resident)
        [1679, [-1, 0], [1680, 2]], //           a flip, each element twice (overlapping accumulation)
        [0, [840, 1, 70], [2, 70, 12]], //       transposed inner dims, 1,680 elements
        [3, [140, 1], [12, 133]], //             rows narrowed at an odd offset: unaligned runs of 133, 1,596 elements
      ];
      // on ordinary arrays (the TypeScript loops), then on blocks of the wasm heap (the wasm kernel where large)
      for (const resident of [false, true]) {
        const blocks: Float32Array[] = [];
        const arr = (v: Float32Array): Float32Array => {
          if (!resident) return v;
          const b = residentAllocator.alloc("float32", v.length) as Float32Array;
          b.set(v);
          blocks.push(b);
          return b;
        };
        const xr = arr(x);
        for (const [offset, strides, shape] of views) {
          const n = shape.reduce((a, b) => a * b, 1);
          const got = arr(new Float32Array(n)),
            want = new Float32Array(n);
          wasm.stridedCopy(xr, offset, strides, shape, got);
          ref.stridedCopy(x, offset, strides, shape, want);
          assertSame(got, want, `stridedCopy ${strides} ${shape}${resident ? " (resident)" : ""}`);
          for (const acc of [false, true]) {
            const src = randn(n),
              dw = randn(x.length);
            const dg = arr(dw);
            wasm.stridedAssign(arr(src), dg, offset, strides, shape, acc);
            ref.stridedAssign(src, dw, offset, strides, shape, acc);
            assertSame(dg, dw, `stridedAssign ${acc ? "+=" : "="} ${strides} ${shape}${resident ? " (resident)" : ""}`);
          }
        }
        for (const b of blocks) residentAllocator.free(b);
      }
    });

    test("layerNorm and its backward: column tails, with and without affine, dw/db accumulated", () => {
      for (const cols of [...TAILS, 128]) {
        for (const affine of [true, false]) {
          const rows = 6;
          const x = randn(rows * cols, 2),
            dy = randn(rows * cols);
          x[0] = 3;
          const w = affine ? randn(cols) : null,
            b = affine ? randn(cols) : null;
          const y = [new Float32Array(rows * cols), new Float32Array(rows * cols)];
          const mean = [new Float32Array(rows), new Float32Array(rows)],
            rstd = [new Float32Array(rows), new Float32Array(rows)];
          wasm.layerNorm(x, w, b, y[0]!, mean[0]!, rstd[0]!, rows, cols, 1e-5);
          ref.layerNorm(x, w, b, y[1]!, mean[1]!, rstd[1]!, rows, cols, 1e-5);
          const tol = { rtol: 1e-4, atol: 1e-5 };
          assertClose(y[0]!, y[1]!, tol, `layerNorm y cols=${cols}`);
          assertClose(mean[0]!, mean[1]!, tol, "mean");
          assertClose(rstd[0]!, rstd[1]!, tol, "rstd");
          const dx = [new Float32Array(rows * cols), new Float32Array(rows * cols)];
          const dw0 = affine ? randn(cols) : null;
          const dw = [dw0 && new Float32Array(dw0), dw0 && new Float32Array(dw0)],
            db = [dw0 && new Float32Array(dw0), dw0 && new Float32Array(dw0)];
          wasm.layerNormBackward(dy, x, w, mean[1]!, rstd[1]!, dx[0]!, dw[0]!, db[0]!, rows, cols);
          ref.layerNormBackward(dy, x, w, mean[1]!, rstd[1]!, dx[1]!, dw[1]!, db[1]!, rows, cols);
          assertClose(dx[0]!, dx[1]!, tol, `layerNormBackward dx cols=${cols}`);
          if (affine) {
            assertClose(dw[0]!, dw[1]!, tol, "dw");
            assertClose(db[0]!, db[1]!, tol, "db");
          }
        }
      }
      // a row of ±1e30 overflows float32 sums: the row falls back to float64
      const x = Float32Array.from([1e30, -1e30, 88, -88, 1, 2, 3, 4]);
      const got = new Float32Array(8),
        want = new Float32Array(8);
      wasm.layerNorm(x, null, null, got, new Float32Array(2), new Float32Array(2), 2, 4, 1e-5);
      ref.layerNorm(x, null, null, want, new Float32Array(2), new Float32Array(2), 2, 4, 1e-5);
      assertClose(got, want, { rtol: 1e-5, atol: 1e-6 }, "layerNorm extremes");
    });

    test("softmax, logSoftmax and their backwards over the last dim: tails and special rows", () => {
      for (const cols of [...TAILS, 65, 100]) {
        const rows = 5;
        const x = randn(rows * cols, 3),
          dy = randn(rows * cols);
        if (cols >= 4) {
          x.fill(-Infinity, 0, cols); //                       a row of −inf
          x[cols] = Infinity; //                                a row with +inf
          x[2 * cols + 1] = NaN; //                             a row with NaN
          x[3 * cols] = -Infinity; //                           one −inf entry
        }
        for (const [fwd, bwd] of [
          ["softmax", "softmaxBackward"],
          ["logSoftmax", "logSoftmaxBackward"],
        ] as const) {
          const got = new Float32Array(rows * cols),
            want = new Float32Array(rows * cols);
          wasm[fwd](x, got, rows, cols, 1);
          ref[fwd](x, want, rows, cols, 1);
          assertClose(got, want, { rtol: 1e-5, atol: 1e-6 }, `${fwd} cols=${cols}`);
          const y = Float32Array.from(want, (v) => (Number.isFinite(v) ? v : 0));
          const dg = new Float32Array(rows * cols),
            dw = new Float32Array(rows * cols);
          wasm[bwd](y, dy, dg, rows, cols, 1);
          ref[bwd](y, dy, dw, rows, cols, 1);
          assertClose(dg, dw, { rtol: 1e-5, atol: 1e-5 }, `${bwd} cols=${cols}`);
        }
      }
    });

    test("cross-entropy and its backward: class tails, ignored targets, label smoothing", () => {
      for (const c of [...TAILS, 65]) {
        for (const eps of [0, 0.1]) {
          const rows = 9;
          const logits = randn(rows * c, 2);
          const target = Int32Array.from({ length: rows }, (_, i) => (i === 2 ? -100 : (i * 7) % c));
          const losses = [new Float32Array(rows), new Float32Array(rows)],
            lse = [new Float32Array(rows), new Float32Array(rows)];
          wasm.crossEntropy(logits, target, losses[0]!, lse[0]!, rows, c, 1, -100, eps);
          ref.crossEntropy(logits, target, losses[1]!, lse[1]!, rows, c, 1, -100, eps);
          const tol = { rtol: 1e-5, atol: 1e-5 };
          assertClose(losses[0]!, losses[1]!, tol, `crossEntropy c=${c} ε=${eps}`);
          assertClose(lse[0]!, lse[1]!, tol, "lse");
          const dloss = randn(rows),
            dg = new Float32Array(rows * c),
            dw = new Float32Array(rows * c);
          wasm.crossEntropyBackward(logits, target, lse[1]!, dloss, dg, rows, c, 1, -100, eps);
          ref.crossEntropyBackward(logits, target, lse[1]!, dloss, dw, rows, c, 1, -100, eps);
          assertClose(dg, dw, tol, `crossEntropyBackward c=${c} ε=${eps}`);
        }
      }
    });

    test("AdamW and Adam: ten steps against the reference", () => {
      for (const n of [1, 5, 33, 1000]) {
        for (const decoupled of [true, false]) {
          const p = [randn(n), randn(n)];
          p[1]!.set(p[0]!);
          const m = [new Float32Array(n), new Float32Array(n)],
            v = [new Float32Array(n), new Float32Array(n)];
          for (let t = 1; t <= 10; t++) {
            const g = randn(n);
            const prm = {
              lr: 1e-2,
              beta1: 0.9,
              beta2: 0.99,
              eps: 1e-8,
              weightDecay: 0.1,
              decoupledWeightDecay: decoupled,
              maximize: false,
              biasCorrection1: 1 - 0.9 ** t,
              biasCorrection2: 1 - 0.99 ** t,
            };
            wasm.adam(p[0]!, g, m[0]!, v[0]!, null, prm);
            ref.adam(p[1]!, g, m[1]!, v[1]!, null, prm);
          }
          assertClose(p[0]!, p[1]!, { rtol: 1e-5, atol: 1e-6 }, `adam n=${n} decoupled=${decoupled}`);
          assertClose(m[0]!, m[1]!, { rtol: 1e-5, atol: 1e-7 }, "m");
          assertClose(v[0]!, v[1]!, { rtol: 1e-5, atol: 1e-9 }, "v");
        }
      }
    });

    test("attention and its backward: head-size and length tails, causal, masks, dmask", () => {
      const shapes: [number, number, number, number, number][] = [
        // bh, tq, tk, d, dv
        [1, 1, 1, 1, 1],
        [2, 3, 5, 3, 7],
        [3, 4, 4, 4, 4],
        [2, 5, 17, 5, 8],
        [1, 17, 7, 8, 3],
        [2, 16, 16, 32, 32],
        [1, 33, 31, 15, 17],
        [3, 20, 40, 16, 16],
      ];
      for (const [bh, tq, tk, d, dv] of shapes) {
        for (const variant of ["plain", "causal", "mask", "bcast-mask"] as const) {
          if (variant === "causal" && tq > tk) continue;
          const p: AttentionParams = { bh, tq, tk, d, dv, scale: 1 / Math.sqrt(d), causal: variant === "causal" };
          const q = randn(bh * tq * d),
            k = randn(bh * tk * d),
            v = randn(bh * tk * dv),
            dy = randn(bh * tq * dv);
          let mask: Float32Array | null = null,
            ms: number[] | null = null;
          if (variant === "mask") {
            mask = randn(bh * tq * tk);
            for (let i = 0; i < mask.length; i += 3) mask[i] = -Infinity;
            for (let j = 0; j < tk; j++) mask[j] = -Infinity; // query 0 of slice 0 sees no key: NaN, as PyTorch
            ms = [tq * tk, tk, 1];
          } else if (variant === "bcast-mask") {
            mask = randn(tk); // one row of key biases for every slice and query
            ms = [0, 0, 1];
          }
          const run = (kt: KernelTable, dtype: "f32" | "f64") => {
            const c = <T extends FloatArr>(a: Float32Array): FloatArr =>
              (dtype === "f64" ? Float64Array.from(a) : a) as T;
            const mk = (n: number): FloatArr => (dtype === "f64" ? new Float64Array(n) : new Float32Array(n));
            const y = mk(bh * tq * dv),
              lse = mk(bh * tq);
            const mm = mask && c(mask);
            kt.attention(c(q), c(k), c(v), mm, ms, p, y, lse);
            const dq = mk(bh * tq * d),
              dk = mk(bh * tk * d),
              dvv = mk(bh * tk * dv),
              dmask = mask ? mk(bh * tq * tk) : null;
            kt.attentionBackward(c(q), c(k), c(v), mm, ms, p, y, lse, c(dy), dq, dk, dvv, dmask);
            return { y, lse, dq, dk, dv: dvv, dmask };
          };
          const got = run(wasm, "f32"),
            want = run(ref, "f64");
          const tol = { rtol: 1e-4, atol: 2e-5 };
          const what = `attention ${variant} (bh ${bh}, tq ${tq}, tk ${tk}, d ${d}, dv ${dv})`;
          assertClose(got.y, want.y, tol, `${what} y`);
          assertClose(got.lse, want.lse, tol, `${what} lse`);
          assertClose(got.dq, want.dq, tol, `${what} dq`);
          assertClose(got.dk, want.dk, tol, `${what} dk`);
          assertClose(got.dv, want.dv, tol, `${what} dv`);
          if (got.dmask) assertClose(got.dmask, want.dmask!, tol, `${what} dmask`);
        }
      }
    });

    test("attention in the (B, T, H, D) layout (AttentionParams.heads): forward and backward against the reference", () => {
      for (const [B, H, tq, tk, d, dv, causal] of [
        [2, 4, 7, 7, 32, 32, true],
        [1, 3, 5, 9, 5, 3, false],
        [3, 2, 1, 4, 8, 7, true],
        // head dims that are multiples of 4 are read and written in place, in the (B, T, H, D) layout
        [2, 3, 9, 6, 8, 12, false],
        [1, 2, 5, 5, 4, 4, true],
      ] as [number, number, number, number, number, number, boolean][]) {
        const p: AttentionParams = { bh: B * H, tq, tk, d, dv, scale: 1 / Math.sqrt(d), causal, heads: H };
        const q = randn(B * tq * H * d),
          k = randn(B * tk * H * d),
          v = randn(B * tk * H * dv),
          dy = randn(B * tq * H * dv);
        const run = (kt: KernelTable, mk: (n: number) => FloatArr, c: (x: Float32Array) => FloatArr) => {
          const y = mk(B * tq * H * dv),
            lse = mk(B * H * tq);
          kt.attention(c(q), c(k), c(v), null, null, p, y, lse);
          const dq = mk(q.length),
            dk = mk(k.length),
            dvv = mk(v.length);
          kt.attentionBackward(c(q), c(k), c(v), null, null, p, y, lse, c(dy), dq, dk, dvv, null);
          return { y, lse, dq, dk, dv: dvv };
        };
        const got = run(
            wasm,
            (n) => new Float32Array(n),
            (x) => x,
          ),
          want = run(
            ref,
            (n) => new Float64Array(n),
            (x) => Float64Array.from(x),
          );
        const tol = { rtol: 1e-4, atol: 2e-5 };
        for (const key of ["y", "lse", "dq", "dk", "dv"] as const)
          assertClose(
            got[key],
            want[key],
            tol,
            `attention heads ${key} (B ${B}, H ${H}, tq ${tq}, tk ${tk}, d ${d}, dv ${dv})`,
          );
      }
    });

    test("rmsNorm and its backward: tails, with and without weight, huge rows", () => {
      for (const cols of [...TAILS, 128, 1000]) {
        for (const withW of [true, false]) {
          const rows = 6,
            n = rows * cols;
          const x = randn(n, 2),
            dy = randn(n),
            w = withW ? randn(cols) : null;
          x.fill(3e19, 0, cols); // the first row's float32 sum of squares overflows: float64 path
          const y = [new Float32Array(n), new Float32Array(n)],
            rs = [new Float32Array(rows), new Float32Array(rows)];
          wasm.rmsNorm(x, w, y[0]!, rs[0]!, rows, cols, 1e-6);
          ref.rmsNorm(x, w, y[1]!, rs[1]!, rows, cols, 1e-6);
          assertClose(y[0]!, y[1]!, { rtol: 1e-5, atol: 1e-6 }, `rmsNorm y cols=${cols}`);
          assertClose(rs[0]!, rs[1]!, { rtol: 1e-5, atol: 1e-30 }, `rmsNorm rstd cols=${cols}`);
          x.fill(0.5, 0, cols);
          ref.rmsNorm(x, w, y[1]!, rs[1]!, rows, cols, 1e-6);
          const dx = [new Float32Array(n), new Float32Array(n)];
          const dw = withW ? [randn(cols), new Float32Array(cols)] : [null, null];
          if (dw[1]) dw[1].set(dw[0]!); // accumulated into
          wasm.rmsNormBackward(dy, x, w, rs[1]!, dx[0]!, dw[0]!, rows, cols);
          ref.rmsNormBackward(dy, x, w, rs[1]!, dx[1]!, dw[1]!, rows, cols);
          assertClose(dx[0]!, dx[1]!, { rtol: 1e-4, atol: 2e-5 }, `rmsNormBackward dx cols=${cols}`);
          if (withW) assertClose(dw[0]!, dw[1]!, { rtol: 1e-4, atol: 2e-5 }, `rmsNormBackward dw cols=${cols}`);
        }
      }
    });

    test("im2col, col2im, bias, max and average pooling: padding, stride, dilation, tails; bit-identical", () => {
      // (c, h, w, kh, kw, sh, sw, ph, pw, dh, dw)
      const shapes = [
        [3, 7, 9, 3, 3, 1, 1, 1, 1, 1, 1],
        [2, 8, 8, 2, 2, 2, 2, 0, 0, 1, 1],
        [1, 5, 33, 3, 5, 2, 3, 1, 2, 1, 1],
        [2, 9, 7, 3, 3, 1, 2, 1, 1, 2, 2],
        [4, 1, 40, 1, 3, 1, 1, 0, 1, 1, 1],
        [1, 32, 32, 5, 5, 1, 1, 2, 2, 1, 1],
        [2, 6, 6, 4, 4, 3, 3, 2, 2, 1, 1],
        [1, 3, 3, 3, 3, 1, 1, 0, 0, 1, 1],
      ];
      for (const [c, h, w, kh, kw, sh, sw, ph, pw, dh, dw] of shapes as number[][]) {
        const n = 2;
        const oh = Math.floor((h! + 2 * ph! - dh! * (kh! - 1) - 1) / sh!) + 1,
          ow = Math.floor((w! + 2 * pw! - dw! * (kw! - 1) - 1) / sw!) + 1;
        const g = {
          n,
          c: c!,
          h: h!,
          w: w!,
          kh: kh!,
          kw: kw!,
          sh: sh!,
          sw: sw!,
          ph: ph!,
          pw: pw!,
          dh: dh!,
          dw: dw!,
          oh,
          ow,
        };
        const what = JSON.stringify(g);
        const x = randn(n * c! * h! * w!);
        x[3] = NaN;
        const colsLen = n * c! * kh! * kw! * oh * ow;
        const cols = [new Float32Array(colsLen).fill(7), new Float32Array(colsLen)];
        wasm.im2col(x, g, cols[0]!);
        ref.im2col(x, g, cols[1]!);
        assertSame(cols[0]!, cols[1]!, `im2col ${what}`);
        const dcols = randn(colsLen),
          dx = [new Float32Array(x.length), new Float32Array(x.length)];
        wasm.col2im(dcols, g, dx[0]!);
        ref.col2im(dcols, g, dx[1]!);
        assertSame(dx[0]!, dx[1]!, `col2im ${what}`);
        const bias = randn(c!),
          yb = [randn(x.length), new Float32Array(x.length)],
          db = [new Float32Array(c!), new Float32Array(c!)];
        yb[1]!.set(yb[0]!);
        wasm.biasAdd(yb[0]!, bias, n, c!, h! * w!);
        ref.biasAdd(yb[1]!, bias, n, c!, h! * w!);
        assertSame(yb[0]!, yb[1]!, `biasAdd ${what}`);
        wasm.biasGrad(x, db[0]!, n, c!, h! * w!);
        ref.biasGrad(x, db[1]!, n, c!, h! * w!);
        assertSame(db[0]!, db[1]!, `biasGrad ${what}`);
        if (2 * ph! > kh! || 2 * pw! > kw!) continue; // pooling allows padding up to half the kernel
        const out = n * c! * oh * ow,
          dy = randn(out);
        const y = [new Float32Array(out), new Float32Array(out)],
          idx = [new Int32Array(out), new Int32Array(out)];
        wasm.maxPool2d(x, g, y[0]!, idx[0]!);
        ref.maxPool2d(x, g, y[1]!, idx[1]!);
        assertSame(y[0]!, y[1]!, `maxPool2d ${what}`);
        assertSame(idx[0]!, idx[1]!, `maxPool2d indices ${what}`);
        wasm.maxPool2dBackward(dy, idx[1]!, g, dx[0]!);
        ref.maxPool2dBackward(dy, idx[1]!, g, dx[1]!);
        assertSame(dx[0]!, dx[1]!, `maxPool2dBackward ${what}`);
        if (dh !== 1 || dw !== 1) continue; // average pooling has no dilation
        for (const cip of [true, false]) {
          wasm.avgPool2d(x, g, y[0]!, cip);
          ref.avgPool2d(x, g, y[1]!, cip);
          assertSame(y[0]!, y[1]!, `avgPool2d ${what} countIncludePad=${cip}`);
          wasm.avgPool2dBackward(dy, g, dx[0]!, cip);
          ref.avgPool2dBackward(dy, g, dx[1]!, cip);
          assertSame(dx[0]!, dx[1]!, `avgPool2dBackward ${what} countIncludePad=${cip}`);
        }
      }
    });

    test("im2col and col2im on blocks of the wasm heap (the wasm kernels): padding, stride, dilation; bit-identical", () => {
      // (c, h, w, kh, kw, sh, sw, ph, pw, dh, dw): the U-Net's 3×3 convolutions (stride 1 and 2), then the odd cases
      const shapes = [
        [3, 28, 28, 3, 3, 1, 1, 1, 1, 1, 1],
        [4, 28, 28, 3, 3, 2, 2, 1, 1, 1, 1],
        [2, 7, 7, 1, 1, 1, 1, 0, 0, 1, 1],
        [1, 5, 33, 3, 5, 2, 3, 1, 2, 1, 1],
        [2, 9, 7, 3, 3, 1, 2, 1, 1, 2, 2],
        [4, 1, 40, 1, 3, 1, 1, 0, 1, 1, 1],
        [2, 6, 6, 4, 4, 3, 3, 2, 2, 1, 1],
        [1, 3, 3, 3, 3, 1, 1, 0, 0, 1, 1],
        [1, 2, 2, 3, 3, 1, 1, 3, 3, 1, 1], // every window mostly padding; rows entirely outside the input
      ];
      const blocks: Float32Array[] = [];
      const resident = (v: Float32Array): Float32Array => {
        const b = residentAllocator.alloc("float32", v.length) as Float32Array;
        b.set(v);
        blocks.push(b);
        return b;
      };
      for (const [c, h, w, kh, kw, sh, sw, ph, pw, dh, dw] of shapes as number[][]) {
        const n = 2;
        const oh = Math.floor((h! + 2 * ph! - dh! * (kh! - 1) - 1) / sh!) + 1,
          ow = Math.floor((w! + 2 * pw! - dw! * (kw! - 1) - 1) / sw!) + 1;
        const g = {
          n,
          c: c!,
          h: h!,
          w: w!,
          kh: kh!,
          kw: kw!,
          sh: sh!,
          sw: sw!,
          ph: ph!,
          pw: pw!,
          dh: dh!,
          dw: dw!,
          oh,
          ow,
        };
        const what = JSON.stringify(g);
        const x = randn(n * c! * h! * w!);
        x[1] = -0;
        const colsLen = n * c! * kh! * kw! * oh * ow;
        const cols = resident(new Float32Array(colsLen).fill(7)), // the padding's zeros must be written
          want = new Float32Array(colsLen);
        wasm.im2col(resident(x), g, cols);
        ref.im2col(x, g, want);
        assertSame(cols, want, `im2col ${what} (resident)`);
        // col2im adds into dx: start both from the same values
        const dcols = randn(colsLen),
          dx0 = randn(x.length);
        const dx = resident(dx0),
          dxWant = dx0.slice();
        wasm.col2im(resident(dcols), g, dx);
        ref.col2im(dcols, g, dxWant);
        assertSame(dx, dxWant, `col2im ${what} (resident)`);
        // a chunk of the batch: views into the blocks (src/ops/conv.ts hands the kernels subarrays)
        const one = { ...g, n: 1 },
          chw = c! * h! * w!;
        const part = resident(new Float32Array(colsLen / 2)),
          partWant = new Float32Array(colsLen / 2);
        wasm.im2col(resident(x).subarray(chw), one, part);
        ref.im2col(x.subarray(chw), one, partWant);
        assertSame(part, partWant, `im2col ${what}, the second sample (resident)`);
      }
      for (const b of blocks) residentAllocator.free(b);
    });

    test("gather, scatterAdd, indexSelect, indexAdd: short and long rows; bit-identical", () => {
      for (const [outer, rx, ri, inner] of [
        [1, 5, 7, 1],
        [3, 4, 6, 5],
        [2, 9, 3, 33],
        [1, 65, 40, 128],
      ] as number[][]) {
        const x = randn(outer! * rx! * inner!),
          src = randn(outer! * ri! * inner!);
        const index = new Int32Array(outer! * ri! * inner!).map(() => gen.randint(0, rx!));
        const out = [new Float32Array(src.length), new Float32Array(src.length)];
        wasm.gather(x, index, out[0]!, outer!, rx!, ri!, inner!);
        ref.gather(x, index, out[1]!, outer!, rx!, ri!, inner!);
        assertSame(out[0]!, out[1]!, `gather ${[outer, rx, ri, inner]}`);
        const dst = [x.slice(), x.slice()];
        wasm.scatterAdd(dst[0]!, index, src, outer!, rx!, ri!, inner!);
        ref.scatterAdd(dst[1]!, index, src, outer!, rx!, ri!, inner!);
        assertSame(dst[0]!, dst[1]!, `scatterAdd ${[outer, rx, ri, inner]}`);
        const idx = new Int32Array(ri!).map(() => gen.randint(0, rx!));
        wasm.indexSelect(x, idx, out[0]!, outer!, rx!, inner!);
        ref.indexSelect(x, idx, out[1]!, outer!, rx!, inner!);
        assertSame(out[0]!, out[1]!, `indexSelect ${[outer, rx, ri, inner]}`);
        const d2 = [x.slice(), x.slice()];
        wasm.indexAdd(d2[0]!, idx, src, outer!, rx!, inner!);
        ref.indexAdd(d2[1]!, idx, src, outer!, rx!, inner!);
        assertSame(d2[0]!, d2[1]!, `indexAdd ${[outer, rx, ri, inner]}`);
      }
    });

    test("float64 runs the reference kernels, bit for bit", () => {
      const x = Float64Array.from(randn(37, 3)),
        dy = Float64Array.from(randn(37));
      const g = new Float64Array(37),
        w = new Float64Array(37);
      wasm.geluTanhBackward(x, dy, g);
      ref.geluTanhBackward(x, dy, w);
      assertSame(g, w, "geluTanhBackward float64");
      const s = new Float64Array(37);
      wasm.geluTanhGate(x, g, s);
      ref.geluTanhGate(x, w, s);
      assertSame(g, w, "geluTanhGate float64");
      wasm.geluTanhGateBackward(x, s, dy, g);
      ref.geluTanhGateBackward(x, s, dy, w);
      assertSame(g, w, "geluTanhGateBackward float64");
      for (const k of ["tanhBackward", "sigmoidBackward", "absBackward", "sqrtBackward"] as const) {
        wasm[k](x, dy, g);
        ref[k](x, dy, w);
        assertSame(g, w, `${k} float64`);
      }
      const g2 = new Float64Array(37),
        w2 = new Float64Array(37);
      wasm.mulBackward(dy, x, s, g, g2);
      ref.mulBackward(dy, x, s, w, w2);
      assertSame(g, w, "mulBackward da float64");
      assertSame(g2, w2, "mulBackward db float64");
      wasm.divBackward(dy, x, s, g, g2);
      ref.divBackward(dy, x, s, w, w2);
      assertSame(g, w, "divBackward da float64");
      assertSame(g2, w2, "divBackward db float64");
      for (const k of ["geluSlope", "siluSlope"] as const) {
        wasm[k](x, g, g2);
        ref[k](x, w, w2);
        assertSame(g, w, `${k} y float64`);
        assertSame(g2, w2, `${k} slope float64`);
      }
      wasm.mulColumnBackward(dy, x, s.subarray(0, 1), g, g2.subarray(0, 1), 1, 37);
      ref.mulColumnBackward(dy, x, s.subarray(0, 1), w, w2.subarray(0, 1), 1, 37);
      assertSame(g, w, "mulColumnBackward dx float64");
      assertSame(g2, w2, "mulColumnBackward dcol float64");
      wasm.layerNorm(x, null, null, g, new Float64Array(1), new Float64Array(1), 1, 37, 1e-5);
      ref.layerNorm(x, null, null, w, new Float64Array(1), new Float64Array(1), 1, 37, 1e-5);
      assertSame(g, w, "layerNorm float64");
    });
  });
}

suite(1);
suite(2);

after(() => {
  setParallelMin(null);
  setNumThreads(1); // closes the workers
});
