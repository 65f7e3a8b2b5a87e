// The op table, in the manner of PyTorch's OpInfo: one entry per exported op with sample inputs,
// an optional independent float64 reference, gradient-check samples and error cases. One runner
// turns every entry into tests; a completeness test fails when an exported op has no entry.

import assert from "node:assert/strict";
import { test } from "node:test";
import { Generator, Tensor, allocate, isFloating, noGrad, tidy, type DType } from "../../src/index.js";
import { assertClose, assertThrowsWith, type Tolerance } from "./assert.js";
import { gradcheck, outputsOf, type Outputs } from "./gradcheck.js";

export interface Sample {
  label: string;
  /** tensors in float64 (int32/bool tensors are passed as they are) */
  inputs: Tensor[];
  /** extra arguments after the tensors: dims, keepdim, options objects */
  args?: unknown[];
  /** false: no gradient check for this sample (e.g. it sits on a kink, or holds inf/NaN) */
  grad?: boolean;
  /** indices of float inputs that are not differentiated (masks, constants) */
  gradSkip?: number[];
}

export interface ErrorCase {
  label: string;
  call: () => unknown;
  error: new (...a: never[]) => Error;
  /** patterns the message must match: the op's name and the shapes involved */
  message: RegExp[];
}

export interface OpInfo {
  /** the exported name (wnn.<name> or wnn.nn.functional.<name>) */
  name: string;
  /** the exported function itself: the completeness test matches entries to exports by identity */
  fn: (...a: never[]) => unknown;
  /** how a sample calls the op; default fn(...inputs, ...args) */
  call?: (inputs: Tensor[], args: unknown[]) => Outputs;
  samples: Sample[];
  differentiable: boolean;
  /** an independent float64 reference written in plain JS (no library ops) */
  ref?: (inputs: Tensor[], args: unknown[]) => number[] | number[][];
  /** float32 result vs float64 computation; default rtol 1.3e-6 / atol 1e-5 */
  tol?: Tolerance;
  /** gradcheck tolerances, when the default (atol 1e-5, rtol 1e-3) does not fit */
  gradTol?: { atol?: number; rtol?: number; eps?: number };
  errors: ErrorCase[];
}

export const ELEMENTWISE_TOL: Tolerance = { rtol: 1.3e-6, atol: 1e-5 };
export const FUSED_TOL: Tolerance = { rtol: 1e-4, atol: 1e-4 };

// ---------------------------------------------------------------------------------------------------
// Input makers (float64, seeded)

/** Sizes that hit the tails of 4- and 8-wide SIMD loops. */
export const TAIL_SIZES = [1, 3, 4, 5, 7, 8, 15, 16, 17, 31, 32, 33];
/** ±0, ±inf, NaN, tiny and huge values. */
export const EXTREMES = [0, -0, Infinity, -Infinity, NaN, 1e-30, -1e-30, 1e30, -1e30, 88, -88, 1, -1];

export function randn64(shape: number[], seed = 0, scale = 1, shift = 0): Tensor {
  const g = new Generator(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const s = new Float64Array(n);
  for (let i = 0; i < n; i++) s[i] = shift + scale * g.normal();
  return new Tensor(s, shape);
}

/** Uniform in [lo, hi). */
export function uniform64(shape: number[], lo: number, hi: number, seed = 0): Tensor {
  const g = new Generator(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const s = new Float64Array(n);
  for (let i = 0; i < n; i++) s[i] = lo + (hi - lo) * g.random();
  return new Tensor(s, shape);
}

export function values64(values: number[], shape = [values.length]): Tensor {
  return new Tensor(Float64Array.from(values), shape);
}

export function int32(values: number[], shape = [values.length]): Tensor {
  return new Tensor(Int32Array.from(values), shape);
}

export function bool(values: (0 | 1 | boolean)[], shape = [values.length]): Tensor {
  return new Tensor(Uint8Array.from(values.map(Number)), shape);
}

/** A float64 tensor as another dtype (float32 rounding), without recording anything. */
export function as(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  const out =
    dtype === "float32"
      ? new Float32Array(x.numel())
      : dtype === "float64"
        ? new Float64Array(x.numel())
        : dtype === "int32"
          ? new Int32Array(x.numel())
          : new Uint8Array(x.numel());
  out.set(x.storage);
  return new Tensor(out, x.shape);
}

// ---------------------------------------------------------------------------------------------------
// The runner

function callOp(info: OpInfo, inputs: Tensor[], args: unknown[]): Tensor[] {
  const out = info.call ? info.call(inputs, args) : (info.fn as (...a: unknown[]) => Outputs)(...inputs, ...args);
  if (out instanceof Tensor || Array.isArray(out)) return outputsOf(out);
  const o = out as { values: Tensor; indices?: Tensor };
  return o.indices ? [o.values, o.indices] : [o.values];
}

export interface OpTableOptions {
  /** run the float64 gradient checks (default true; a backend-parity run skips them: float64 always runs the reference kernels) */
  gradcheck?: boolean;
  /** a prefix for the test names */
  prefix?: string;
  /**
   * only the memory-scope check of every sample: inside `tidy`, on inputs copied into the scope's storage
   * (the wasm heap when that backend is active), the float32 outputs and the gradients of a backward are
   * bit-identical to the same computation outside any scope, and they are released when the scope ends
   */
  scopedOnly?: boolean;
}

/** A copy of x made inside the running scope (its storage a scope block where the backend lends one). */
function scopedCopy(x: Tensor): Tensor {
  const t = new Tensor(allocate(x.dtype, x.numel()), x.shape);
  t.storage.set(x.storage);
  if (x.requiresGrad) t.requiresGrad = true;
  return t;
}

/** outputs, then the gradients of Σ outᵢ·wᵢ (fixed weights) with respect to every float input */
function valuesAndGrads(info: OpInfo, inputs: Tensor[], args: unknown[]): number[][] {
  const xs = inputs.map((x) => (isFloating(x.dtype) ? x.detach().requiresGrad_(info.differentiable) : x));
  const outs = callOp(info, xs, args);
  const res = outs.map((o) => [...o.storage]);
  if (info.differentiable) {
    let loss: Tensor | null = null;
    outs.forEach((o, i) => {
      if (!o.requiresGrad || o.dtype !== "float32") return;
      const w = new Tensor(
        Float32Array.from({ length: o.numel() }, (_, j) => ((j * 7 + i * 3) % 11) / 11 - 0.5),
        o.shape,
      );
      const term = o.mul(w).sum();
      loss = loss === null ? term : loss.add(term);
    });
    if (loss !== null) {
      (loss as Tensor).backward();
      for (const x of xs) if (x.grad) res.push([...x.grad.storage]);
    }
  }
  return res;
}

export function runOpTable(infos: OpInfo[], opts: OpTableOptions = {}): void {
  const { gradcheck: withGradcheck = true, prefix = "" } = opts;
  if (opts.scopedOnly) {
    for (const info of infos) {
      test(`${prefix}op ${info.name} inside tidy`, async (t) => {
        for (const s of info.samples) {
          const args = s.args ?? [];
          await t.test(`the same values and gradients inside a scope: ${s.label}`, () => {
            const in32 = s.inputs.map((x) => (x.dtype === "float64" ? as(x, "float32") : x));
            const want = valuesAndGrads(info, in32, args);
            let inside: Tensor[] = [];
            const got = tidy(() => {
              const xs = in32.map(scopedCopy);
              inside = xs;
              return valuesAndGrads(info, xs, args);
            });
            assert.deepEqual(got, want, `${info.name}: scoped float32 values and gradients`);
            for (const x of inside)
              assert.ok(x.isReleased, `${info.name}: an input made inside the scope is released at its end`);
          });
        }
      });
    }
    return;
  }
  for (const info of infos) {
    test(`${prefix}op ${info.name}`, async (t) => {
      await t.test("has samples and error cases", () => {
        assert.ok(info.samples.length > 0, `${info.name} has no samples`);
        assert.ok(info.errors.length > 0, `${info.name} has no error cases`);
        if (info.differentiable) {
          const n = info.samples.filter((s) => s.grad !== false).length;
          assert.ok(n >= 8, `${info.name} has ${n} gradient-check samples; at least 8 are required`);
        }
      });
      for (const s of info.samples) {
        const args = s.args ?? [];
        await t.test(`float32 vs float64: ${s.label}`, () => {
          const out64 = noGrad(() => callOp(info, s.inputs, args));
          if (info.ref) {
            const r = info.ref(s.inputs, args);
            const refs = (Array.isArray(r[0]) ? r : [r]) as number[][];
            refs.forEach((ref, i) =>
              assertClose(
                out64[i]!.storage,
                ref,
                { rtol: 1e-9, atol: 1e-12 },
                `${info.name} float64 vs reference, output ${i}`,
              ),
            );
          }
          const in32 = s.inputs.map((x) => (x.dtype === "float64" ? as(x, "float32") : x));
          const out32 = noGrad(() => callOp(info, in32, args));
          assert.equal(out32.length, out64.length);
          out32.forEach((o, i) => {
            const e = out64[i]!;
            assert.deepEqual([...o.shape], [...e.shape], `${info.name}: float32 output ${i} shape`);
            if (e.dtype === "float64")
              assert.equal(o.dtype, "float32", `${info.name}: float32 inputs must give a float32 output ${i}`);
            assertClose(
              o.storage,
              e.storage,
              info.tol ?? ELEMENTWISE_TOL,
              `${info.name} float32 vs float64, output ${i}`,
            );
          });
        });
        if (withGradcheck && info.differentiable && s.grad !== false) {
          await t.test(`gradcheck: ${s.label}`, () => {
            gradcheck((...xs) => callOp(info, xs, args), s.inputs, { skip: s.gradSkip, ...info.gradTol });
          });
        }
      }
      for (const e of info.errors) {
        await t.test(`error: ${e.label}`, () => assertThrowsWith(e.call, e.error, ...e.message));
      }
    });
  }
}

/** Fail when an exported function has no entry (matched by identity), unless it is listed as not an op. */
export function checkComplete(
  exports: Record<string, unknown>[],
  infos: OpInfo[],
  notOps: Record<string, string>,
): void {
  test("every exported op has an op-table entry", () => {
    const covered = new Set<unknown>(infos.map((i) => i.fn));
    const missing: string[] = [];
    for (const mod of exports) {
      for (const [name, v] of Object.entries(mod)) {
        if (typeof v !== "function" || name in notOps) continue;
        if (/^[A-Z]/.test(name)) continue; // classes (Tensor, Generator, errors)
        if (!covered.has(v)) missing.push(name);
      }
    }
    assert.deepEqual(missing, [], `exported ops without an op-table entry: ${missing.join(", ")}`);
  });
}
