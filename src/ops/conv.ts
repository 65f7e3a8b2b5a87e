// Convolution, pooling and resampling (NCHW), with PyTorch's semantics. Convolution is im2col + the
// matmul kernel; its backward is the transpose of that product (dW from the columns, dx through col2im),
// and the transposed convolution is the same three products with their roles swapped.
// Derivation: docs/derivations/conv2d.md.
//
// Vocabulary: N batch, C input channels, O output channels, G groups (Cg = C/G, Og = O/G),
// (H, W) input plane, (kh, kw) kernel, (oh, ow) output plane, L = oh·ow, K = Cg·kh·kw.

import { record } from "../engine/autograd.js";
import { allocate, type TypedArray } from "../engine/dtype.js";
import { ArgumentError, DTypeError, ShapeError } from "../engine/errors.js";
import { fmt, type Shape } from "../engine/shape.js";
import { Tensor, checkTensor } from "../engine/tensor.js";
import type { Conv2dGeometry, FloatArr, ResampleGeometry } from "../backend/backend.js";
import { kernels } from "./kernels.js";
import { empty, requireFloat } from "./util.js";

export type IntPair = number | readonly [number, number];

// ---------------------------------------------------------------------------------------------------
// Argument checks

function pairOf(op: string, name: string, v: IntPair | readonly [number], min: number): [number, number] {
  const p = typeof v === "number" ? [v, v] : v.length === 1 ? [v[0], v[0]] : [v[0], v[1]];
  if (
    !(Array.isArray(v) ? v.length === 2 || v.length === 1 : true) ||
    p.some((n) => !Number.isInteger(n) || n! < min)
  ) {
    throw new ArgumentError(`${op}: ${name} must be an integer ≥ ${min} or a pair of them, got ${JSON.stringify(v)}`);
  }
  return p as [number, number];
}

function intOf(op: string, name: string, v: number | readonly [number], min: number): number {
  const n = typeof v === "number" ? v : v.length === 1 ? v[0] : NaN;
  if (!Number.isInteger(n) || n < min)
    throw new ArgumentError(`${op}: ${name} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return n;
}

/** x must be float and have one of the given ranks (the batched one first). Returns true when batched. */
function checkInput(op: string, x: Tensor, batchedRank: number, what: string): boolean {
  checkTensor(op, x);
  requireFloat(op, x);
  if (x.ndim !== batchedRank && x.ndim !== batchedRank - 1) {
    throw new ShapeError(
      `${op}: expected a ${batchedRank - 1}-D (unbatched) or ${batchedRank}-D (batched) input ${what}, got shape ${fmt(x.shape)}`,
    );
  }
  return x.ndim === batchedRank;
}

function checkSameDType(op: string, x: Tensor, t: Tensor, what: string): void {
  checkTensor(op, t, what);
  if (t.dtype !== x.dtype)
    throw new DTypeError(
      `${op}: ${what} is ${t.dtype} of shape ${fmt(t.shape)} but the input is ${x.dtype}; they must have the same dtype`,
    );
}

/** out = ⌊(in + 2p − d(k−1) − 1)/s⌋ + 1 (with ceil mode: ⌈…⌉, dropping a last window that starts in the right padding). */
function outSize(
  inSize: number,
  k: number,
  s: number,
  padBefore: number,
  padTotal: number,
  d: number,
  ceil: boolean,
): number {
  const span = inSize + padTotal - d * (k - 1) - 1;
  let o = Math.floor((span + (ceil ? s - 1 : 0)) / s) + 1;
  if (ceil && (o - 1) * s >= inSize + padBefore) o--;
  return o;
}

/** A view of a[start, start + length) (no copy): the matmul kernel reads and writes through it. */
function part(a: FloatArr, start: number, length: number): FloatArr {
  return a.subarray(start, start + length) as FloatArr;
}

function alloc(like: TypedArray, n: number): FloatArr {
  return allocate(like instanceof Float64Array ? "float64" : "float32", n) as FloatArr;
}

// ---------------------------------------------------------------------------------------------------
// The three products of a convolution, on storage. Each sample n and group g:
//   y[n,g] (Og, L) = W_g (Og, K) · cols[n,g] (K, L)                       convGemm
//   dcols[n,g] (K, L) = W_gᵀ (K, Og) · dy[n,g] (Og, L);  dx = col2im(dcols)    convAdjoint
//   dW_g (Og, K) += dy[n,g] (Og, L) · cols[n,g]ᵀ (L, K)                     convWeightGrad
// where cols = im2col(x). The columns of a chunk of samples are held (at most COLS_MAX floats, at least one
// sample), never the whole batch's; with one group, a chunk's products are one batched matmul.

function matmul(
  a: FloatArr,
  b: FloatArr,
  out: FloatArr,
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
  accumulate: boolean,
): void {
  kernels().matmul(a, b, out, { batch: 1, m, n, k, transA, transB, strideA: 0, strideB: 0 }, accumulate);
}

/** A geometry for `count` samples of g. */
const some = (g: Conv2dGeometry, count: number): Conv2dGeometry => ({ ...g, n: count });

/** Columns held at once: samples are taken in chunks of at most this many floats of columns (2 MiB, about an L2; at least one sample). */
const COLS_MAX = 1 << 19;

/** Samples per chunk when one sample's columns hold `perSample` floats. */
const chunkOf = (perSample: number, n: number): number =>
  Math.max(1, Math.min(n, Math.floor(COLS_MAX / Math.max(1, perSample))));

/** y (N, O, oh, ow) from x (N, C, H, W) and w (O, Cg, kh, kw). */
function convGemm(x: FloatArr, w: FloatArr, g: Conv2dGeometry, groups: number, o: number, y: FloatArr): void {
  const L = g.oh * g.ow,
    K = (g.c / groups) * g.kh * g.kw,
    og = o / groups,
    chw = g.c * g.h * g.w;
  const chunk = chunkOf(g.c * g.kh * g.kw * L, g.n);
  const cols = alloc(x, chunk * g.c * g.kh * g.kw * L); // (chunk, C·kh·kw, L)
  for (let n0 = 0; n0 < g.n; n0 += chunk) {
    const cn = Math.min(chunk, g.n - n0);
    kernels().im2col(part(x, n0 * chw, cn * chw), some(g, cn), cols);
    if (groups === 1) {
      // y[n] = W · cols[n] for the chunk's samples in one batched product (W broadcast)
      kernels().matmul(
        w,
        cols,
        part(y, n0 * o * L, cn * o * L),
        { batch: cn, m: o, n: L, k: K, transA: false, transB: false, strideA: 0, strideB: K * L },
        false,
      );
      continue;
    }
    for (let s = 0; s < cn; s++) {
      for (let gi = 0; gi < groups; gi++) {
        // y[n,g] = W_g · cols[n,g]
        matmul(
          part(w, gi * og * K, og * K),
          part(cols, (s * groups + gi) * K * L, K * L),
          part(y, ((n0 + s) * o + gi * og) * L, og * L),
          og,
          L,
          K,
          false,
          false,
          false,
        );
      }
    }
  }
}

/** dx (N, C, H, W) from dy (N, O, oh, ow) and w (O, Cg, kh, kw): the adjoint of convGemm in x. */
function convAdjoint(dy: FloatArr, w: FloatArr, g: Conv2dGeometry, groups: number, o: number, dx: FloatArr): void {
  const L = g.oh * g.ow,
    K = (g.c / groups) * g.kh * g.kw,
    og = o / groups,
    chw = g.c * g.h * g.w;
  const chunk = chunkOf(g.c * g.kh * g.kw * L, g.n);
  const dcols = alloc(dy, chunk * g.c * g.kh * g.kw * L);
  dx.fill(0);
  for (let n0 = 0; n0 < g.n; n0 += chunk) {
    const cn = Math.min(chunk, g.n - n0);
    if (groups === 1) {
      // dcols[n] = Wᵀ · dy[n] for the chunk's samples in one batched product
      kernels().matmul(
        w,
        part(dy, n0 * o * L, cn * o * L),
        dcols,
        { batch: cn, m: K, n: L, k: o, transA: true, transB: false, strideA: 0, strideB: o * L },
        false,
      );
    } else {
      for (let s = 0; s < cn; s++) {
        for (let gi = 0; gi < groups; gi++) {
          // dcols[n,g] = W_gᵀ · dy[n,g]
          matmul(
            part(w, gi * og * K, og * K),
            part(dy, ((n0 + s) * o + gi * og) * L, og * L),
            part(dcols, (s * groups + gi) * K * L, K * L),
            K,
            L,
            og,
            true,
            false,
            false,
          );
        }
      }
    }
    kernels().col2im(dcols, some(g, cn), part(dx, n0 * chw, cn * chw));
  }
}

/** dw (O, Cg, kh, kw) from x (N, C, H, W) and dy (N, O, oh, ow): the adjoint of convGemm in w. */
function convWeightGrad(x: FloatArr, dy: FloatArr, g: Conv2dGeometry, groups: number, o: number, dw: FloatArr): void {
  const L = g.oh * g.ow,
    K = (g.c / groups) * g.kh * g.kw,
    og = o / groups,
    chw = g.c * g.h * g.w;
  const chunk = chunkOf(g.c * g.kh * g.kw * L, g.n);
  const cols = alloc(x, chunk * g.c * g.kh * g.kw * L);
  dw.fill(0);
  for (let n0 = 0; n0 < g.n; n0 += chunk) {
    const cn = Math.min(chunk, g.n - n0);
    kernels().im2col(part(x, n0 * chw, cn * chw), some(g, cn), cols);
    for (let s = 0; s < cn; s++) {
      for (let gi = 0; gi < groups; gi++) {
        // dW_g += dy[n,g] · cols[n,g]ᵀ
        matmul(
          part(dy, ((n0 + s) * o + gi * og) * L, og * L),
          part(cols, (s * groups + gi) * K * L, K * L),
          part(dw, gi * og * K, og * K),
          og,
          K,
          L,
          false,
          true,
          true,
        );
      }
    }
  }
}

function biasGrad(dy: Tensor, bias: Tensor, n: number, o: number, inner: number): Tensor {
  const db = empty(bias.shape, bias.dtype);
  kernels().biasGrad(dy.storage as FloatArr, db.storage as FloatArr, n, o, inner);
  return db;
}

// ---------------------------------------------------------------------------------------------------
// Convolution

export interface Conv2dOptions {
  stride?: IntPair;
  /** zeros on each side; "valid" = 0; "same" keeps the size (stride 1), the odd pixel going bottom/right */
  padding?: IntPair | "same" | "valid";
  dilation?: IntPair;
  groups?: number;
}

export interface Conv1dOptions {
  stride?: number | readonly [number];
  padding?: number | readonly [number] | "same" | "valid";
  dilation?: number | readonly [number];
  groups?: number;
}

/**
 * The convolution shared by conv1d and conv2d, recorded under `op`: x (N, C, H, W) storage with the
 * geometry g, weight (O, Cg, kh, kw) storage, bias (O). `outShape` is y's shape as the caller shows it.
 */
function convolution(
  op: string,
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  g: Conv2dGeometry,
  groups: number,
  outShape: Shape,
): Tensor {
  const o = weight.shape[0]!,
    L = g.oh * g.ow;
  const y = empty(outShape, x.dtype); // (N, O, oh, ow)
  // y[n, o] = Σ_{c ∈ group(o), ki, kj} W[o, c, ki, kj]·x[n, c, oi·sh − ph + ki·dh, oj·sw − pw + kj·dw] + b[o]
  convGemm(x.storage as FloatArr, weight.storage as FloatArr, g, groups, o, y.storage as FloatArr);
  if (bias) kernels().biasAdd(y.storage as FloatArr, bias.storage as FloatArr, g.n, o, L);
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return record(op, inputs, y, (dy) => {
    let dx: Tensor | null = null,
      dw: Tensor | null = null;
    if (x.requiresGrad) {
      // dx = col2im(W_gᵀ · dy)
      dx = empty(x.shape, x.dtype);
      convAdjoint(dy.storage as FloatArr, weight.storage as FloatArr, g, groups, o, dx.storage as FloatArr);
    }
    if (weight.requiresGrad) {
      // dW_g = Σ_n dy[n,g] · cols[n,g]ᵀ (the columns are recomputed rather than saved)
      dw = empty(weight.shape, weight.dtype);
      convWeightGrad(x.storage as FloatArr, dy.storage as FloatArr, g, groups, o, dw.storage as FloatArr);
    }
    // db[o] = Σ_{n, oi, oj} dy[n, o, oi, oj]
    const db = bias?.requiresGrad ? biasGrad(dy, bias, g.n, o, L) : null;
    return [dx, dw, db];
  });
}

/** Checks shared by conv1d/conv2d: dtypes, the weight's rank, channels against groups, the bias. */
function checkConv(
  op: string,
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null | undefined,
  rank: number,
  groupsArg: unknown,
): number {
  checkSameDType(op, x, weight, "weight");
  if (weight.ndim !== rank)
    throw new ShapeError(
      `${op}: weight must be ${rank}-D (out_channels, in_channels/groups, kernel...), got shape ${fmt(weight.shape)}`,
    );
  const groups = intOf(op, "groups", (groupsArg ?? 1) as number, 1);
  const batched = x.ndim === rank;
  const c = x.shape[batched ? 1 : 0]!,
    o = weight.shape[0]!,
    cg = weight.shape[1]!;
  if (c !== cg * groups) {
    throw new ShapeError(
      `${op}: input ${fmt(x.shape)} has ${c} channels but weight ${fmt(weight.shape)} expects ${cg}·groups = ${cg * groups}`,
    );
  }
  if (o % groups !== 0)
    throw new ShapeError(
      `${op}: weight ${fmt(weight.shape)} has ${o} output channels, which groups = ${groups} does not divide`,
    );
  if (bias !== null && bias !== undefined) {
    checkSameDType(op, x, bias, "bias");
    if (bias.ndim !== 1 || bias.shape[0] !== o)
      throw new ShapeError(
        `${op}: bias ${fmt(bias.shape)} must have shape (${o}) to match weight ${fmt(weight.shape)}`,
      );
  }
  return groups;
}

/** [padBefore, padTotal] along one dim for a padding argument ("same": total d(k−1), the smaller half first). */
function padOf(op: string, padding: number | "same" | "valid", k: number, d: number, s: number): [number, number] {
  if (padding === "valid") return [0, 0];
  if (padding === "same") {
    if (s !== 1)
      throw new ArgumentError(`${op}: padding="same" is not supported for strided convolutions (stride ${s})`);
    const total = d * (k - 1);
    return [Math.floor(total / 2), total];
  }
  return [padding, 2 * padding];
}

function checkOutput(op: string, x: Tensor, weight: Tensor, oh: number, ow: number): void {
  if (oh <= 0 || ow <= 0) {
    throw new ShapeError(
      `${op}: input ${fmt(x.shape)} (padded) is smaller than the dilated kernel of weight ${fmt(weight.shape)}: the output would be (${oh},${ow})`,
    );
  }
}

/**
 * 2-D convolution (cross-correlation, as PyTorch): x (N, C, H, W) or (C, H, W), weight (O, C/groups, kh, kw),
 * bias (O) → (N, O, oh, ow) with oh = ⌊(H + 2·ph − dh·(kh−1) − 1)/sh⌋ + 1.
 */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  const op = "conv2d";
  const batched = checkInput(op, x, 4, "(N, C, H, W)");
  const groups = checkConv(op, x, weight, bias, 4, opts.groups);
  const [sh, sw] = pairOf(op, "stride", opts.stride ?? 1, 1);
  const [dh, dw] = pairOf(op, "dilation", opts.dilation ?? 1, 1);
  const [kh, kw] = [weight.shape[2]!, weight.shape[3]!];
  const padding = opts.padding ?? 0;
  const [padH, padW]: [number | "same" | "valid", number | "same" | "valid"] =
    typeof padding === "string" ? [padding, padding] : pairOf(op, "padding", padding, 0);
  if (typeof padding === "string" && padding !== "same" && padding !== "valid")
    throw new ArgumentError(
      `${op}: padding must be a number, a pair, "same" or "valid", got ${JSON.stringify(padding)}`,
    );
  const [ph, pth] = padOf(op, padH, kh, dh, sh),
    [pw, ptw] = padOf(op, padW, kw, dw, sw);
  const [n, c, h, w] = batched ? x.shape : [1, ...x.shape];
  const oh = outSize(h!, kh, sh, ph, pth, dh, false),
    ow = outSize(w!, kw, sw, pw, ptw, dw, false);
  checkOutput(op, x, weight, oh, ow);
  const g: Conv2dGeometry = { n: n!, c: c!, h: h!, w: w!, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow };
  const o = weight.shape[0]!;
  return convolution(op, x, weight, bias ?? null, g, groups, batched ? [n!, o, oh, ow] : [o, oh, ow]);
}

/** 1-D convolution: x (N, C, L) or (C, L), weight (O, C/groups, k), bias (O) → (N, O, oL); conv2d with H = 1. */
export function conv1d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: Conv1dOptions = {}): Tensor {
  const op = "conv1d";
  const batched = checkInput(op, x, 3, "(N, C, L)");
  const groups = checkConv(op, x, weight, bias, 3, opts.groups);
  const s = intOf(op, "stride", opts.stride ?? 1, 1);
  const d = intOf(op, "dilation", opts.dilation ?? 1, 1);
  const k = weight.shape[2]!;
  const padding = opts.padding ?? 0;
  if (typeof padding === "string" && padding !== "same" && padding !== "valid")
    throw new ArgumentError(`${op}: padding must be a number, "same" or "valid", got ${JSON.stringify(padding)}`);
  const [p, pt] = padOf(op, typeof padding === "string" ? padding : intOf(op, "padding", padding, 0), k, d, s);
  const [n, c, len] = batched ? x.shape : [1, ...x.shape];
  const ol = outSize(len!, k, s, p, pt, d, false);
  checkOutput(op, x, weight, 1, ol);
  // the 1-D signal is a 1 × L image and the kernel a 1 × k one
  const g: Conv2dGeometry = {
    n: n!,
    c: c!,
    h: 1,
    w: len!,
    kh: 1,
    kw: k,
    sh: 1,
    sw: s,
    ph: 0,
    pw: p,
    dh: 1,
    dw: d,
    oh: 1,
    ow: ol,
  };
  const o = weight.shape[0]!;
  return convolution(op, x, weight, bias ?? null, g, groups, batched ? [n!, o, ol] : [o, ol]);
}

export interface ConvTranspose2dOptions {
  stride?: IntPair;
  padding?: IntPair;
  outputPadding?: IntPair;
  groups?: number;
  dilation?: IntPair;
}

/**
 * The transposed convolution (the adjoint of conv2d in its input): x (N, Cin, H, W) or (Cin, H, W),
 * weight (Cin, Cout/groups, kh, kw), bias (Cout) → (N, Cout, Hout, Wout) with
 * Hout = (H − 1)·sh − 2·ph + dh·(kh − 1) + outputPadding + 1.
 */
export function convTranspose2d(
  x: Tensor,
  weight: Tensor,
  bias?: Tensor | null,
  opts: ConvTranspose2dOptions = {},
): Tensor {
  const op = "convTranspose2d";
  const batched = checkInput(op, x, 4, "(N, Cin, H, W)");
  checkSameDType(op, x, weight, "weight");
  if (weight.ndim !== 4)
    throw new ShapeError(
      `${op}: weight must be 4-D (in_channels, out_channels/groups, kh, kw), got shape ${fmt(weight.shape)}`,
    );
  const groups = intOf(op, "groups", opts.groups ?? 1, 1);
  const [sh, sw] = pairOf(op, "stride", opts.stride ?? 1, 1);
  const [dh, dw] = pairOf(op, "dilation", opts.dilation ?? 1, 1);
  const [ph, pw] = pairOf(op, "padding", opts.padding ?? 0, 0);
  const [oph, opw] = pairOf(op, "outputPadding", opts.outputPadding ?? 0, 0);
  if ((oph >= sh && oph >= dh) || (opw >= sw && opw >= dw)) {
    throw new ArgumentError(
      `${op}: outputPadding (${oph},${opw}) must be smaller than either stride (${sh},${sw}) or dilation (${dh},${dw})`,
    );
  }
  const [n, cin, h, w] = batched ? x.shape : [1, ...x.shape];
  const [wcin, coutG, kh, kw] = weight.shape as [number, number, number, number];
  if (cin !== wcin)
    throw new ShapeError(
      `${op}: input ${fmt(x.shape)} has ${cin} channels but weight ${fmt(weight.shape)} expects ${wcin}`,
    );
  if (cin! % groups !== 0)
    throw new ShapeError(`${op}: input ${fmt(x.shape)} has ${cin} channels, which groups = ${groups} does not divide`);
  const cout = coutG * groups;
  if (bias !== null && bias !== undefined) {
    checkSameDType(op, x, bias, "bias");
    if (bias.ndim !== 1 || bias.shape[0] !== cout)
      throw new ShapeError(
        `${op}: bias ${fmt(bias.shape)} must have shape (${cout}) to match weight ${fmt(weight.shape)} and groups = ${groups}`,
      );
  }
  const hout = (h! - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1;
  const wout = (w! - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1;
  if (hout <= 0 || wout <= 0)
    throw new ShapeError(
      `${op}: input ${fmt(x.shape)} with weight ${fmt(weight.shape)} and padding (${ph},${pw}) gives an empty output (${hout},${wout})`,
    );
  // The conv2d whose input gradient this is: input y (N, Cout, Hout, Wout), weight (Cin, Cout/G, kh, kw), output x.
  const g: Conv2dGeometry = { n: n!, c: cout, h: hout, w: wout, kh, kw, sh, sw, ph, pw, dh, dw, oh: h!, ow: w! };
  const y = empty(batched ? [n!, cout, hout, wout] : [cout, hout, wout], x.dtype);
  // y = col2im(W_gᵀ · x[n,g])  (conv2d's dx line, with x in the place of dy)
  convAdjoint(x.storage as FloatArr, weight.storage as FloatArr, g, groups, cin!, y.storage as FloatArr);
  if (bias) kernels().biasAdd(y.storage as FloatArr, bias.storage as FloatArr, n!, cout, hout * wout);
  const b = bias ?? null;
  return record(op, b ? [x, weight, b] : [x, weight], y, (dy) => {
    let dx: Tensor | null = null,
      dwt: Tensor | null = null;
    if (x.requiresGrad) {
      // forward: y = convᵀ(x)  ⇒  dx = conv(dy) = W_g · im2col(dy)
      dx = empty(x.shape, x.dtype);
      convGemm(dy.storage as FloatArr, weight.storage as FloatArr, g, groups, cin!, dx.storage as FloatArr);
    }
    if (weight.requiresGrad) {
      // forward: y = col2im(W_gᵀ·x)  ⇒  dW_g = Σ_n x[n,g] · im2col(dy)[n,g]ᵀ
      dwt = empty(weight.shape, weight.dtype);
      convWeightGrad(dy.storage as FloatArr, x.storage as FloatArr, g, groups, cin!, dwt.storage as FloatArr);
    }
    const db = b?.requiresGrad ? biasGrad(dy, b, n!, cout, hout * wout) : null;
    return [dx, dwt, db];
  });
}

// ---------------------------------------------------------------------------------------------------
// Pooling

export interface MaxPool2dOptions {
  /** default: kernelSize */
  stride?: IntPair;
  padding?: IntPair;
  dilation?: IntPair;
  ceilMode?: boolean;
}

export interface AvgPool2dOptions {
  /** default: kernelSize */
  stride?: IntPair;
  padding?: IntPair;
  ceilMode?: boolean;
  /** divide by the window size including the zero padding (default true, as PyTorch) */
  countIncludePad?: boolean;
}

/** The geometry of a pooling window over x (N, C, H, W) or (C, H, W); checks padding ≤ half the kernel. */
function poolGeometry(
  op: string,
  x: Tensor,
  kernelSize: IntPair,
  stride: IntPair | undefined,
  padding: IntPair,
  dilation: IntPair,
  ceilMode: boolean,
): [Conv2dGeometry, Shape] {
  const batched = checkInput(op, x, 4, "(N, C, H, W)");
  const [kh, kw] = pairOf(op, "kernelSize", kernelSize, 1);
  const [sh, sw] = pairOf(op, "stride", stride ?? [kh, kw], 1);
  const [ph, pw] = pairOf(op, "padding", padding, 0);
  const [dh, dw] = pairOf(op, "dilation", dilation, 1);
  if (2 * ph > kh || 2 * pw > kw)
    throw new ArgumentError(`${op}: padding (${ph},${pw}) must be at most half of the kernel size (${kh},${kw})`);
  const [n, c, h, w] = batched ? x.shape : [1, ...x.shape];
  const oh = outSize(h!, kh, sh, ph, 2 * ph, dh, ceilMode),
    ow = outSize(w!, kw, sw, pw, 2 * pw, dw, ceilMode);
  if (oh <= 0 || ow <= 0)
    throw new ShapeError(
      `${op}: input ${fmt(x.shape)} is too small for kernel (${kh},${kw}) with dilation (${dh},${dw}) and padding (${ph},${pw}): the output would be (${oh},${ow})`,
    );
  const g: Conv2dGeometry = { n: n!, c: c!, h: h!, w: w!, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow };
  return [g, batched ? [n!, c!, oh, ow] : [c!, oh, ow]];
}

/** Max over each kh × kw window (padding never wins): x (N, C, H, W) or (C, H, W). */
export function maxPool2d(x: Tensor, kernelSize: IntPair, opts: MaxPool2dOptions = {}): Tensor {
  const [g, shape] = poolGeometry(
    "maxPool2d",
    x,
    kernelSize,
    opts.stride,
    opts.padding ?? 0,
    opts.dilation ?? 1,
    opts.ceilMode ?? false,
  );
  const y = empty(shape, x.dtype);
  const indices = new Int32Array(y.numel()); // where each maximum sat in its plane
  // y[n, c, oi, oj] = max_{ki, kj} x[n, c, oi·sh − ph + ki·dh, oj·sw − pw + kj·dw]
  kernels().maxPool2d(x.storage as FloatArr, g, y.storage as FloatArr, indices);
  return record("maxPool2d", [x], y, (dy) => {
    // dx[argmax] += dy: the gradient goes to the pixel that won
    const dx = empty(x.shape, x.dtype);
    kernels().maxPool2dBackward(dy.storage as FloatArr, indices, g, dx.storage as FloatArr);
    return [dx];
  });
}

/** Mean over each kh × kw window: x (N, C, H, W) or (C, H, W). */
export function avgPool2d(x: Tensor, kernelSize: IntPair, opts: AvgPool2dOptions = {}): Tensor {
  const [g, shape] = poolGeometry(
    "avgPool2d",
    x,
    kernelSize,
    opts.stride,
    opts.padding ?? 0,
    1,
    opts.ceilMode ?? false,
  );
  const countIncludePad = opts.countIncludePad ?? true;
  const y = empty(shape, x.dtype);
  // y[n, c, oi, oj] = Σ_window x / divisor
  kernels().avgPool2d(x.storage as FloatArr, g, y.storage as FloatArr, countIncludePad);
  return record("avgPool2d", [x], y, (dy) => {
    // dx[window] += dy / divisor
    const dx = empty(x.shape, x.dtype);
    kernels().avgPool2dBackward(dy.storage as FloatArr, g, dx.storage as FloatArr, countIncludePad);
    return [dx];
  });
}

/** The (oh, ow) of outputSize (a null size keeps the input's), checked positive. */
function resampleSize(
  op: string,
  outputSize: number | readonly [number | null, number | null],
  h: number,
  w: number,
): [number, number] {
  const [oh, ow] = typeof outputSize === "number" ? [outputSize, outputSize] : [outputSize[0] ?? h, outputSize[1] ?? w];
  if (![oh, ow].every((v) => Number.isInteger(v) && v > 0) || (Array.isArray(outputSize) && outputSize.length !== 2)) {
    throw new ArgumentError(
      `${op}: outputSize must be a positive integer or a pair of them, got ${JSON.stringify(outputSize)}`,
    );
  }
  return [oh, ow];
}

/** Mean over the adaptive windows rows [⌊i·H/oh⌋, ⌈(i+1)·H/oh⌉) × columns likewise: x (N, C, H, W) or (C, H, W). */
export function adaptiveAvgPool2d(x: Tensor, outputSize: number | readonly [number | null, number | null]): Tensor {
  const op = "adaptiveAvgPool2d";
  checkInput(op, x, 4, "(N, C, H, W)");
  const lead = x.shape.slice(0, -2),
    h = x.shape[x.ndim - 2]!,
    w = x.shape[x.ndim - 1]!;
  if (h === 0 || w === 0) throw new ShapeError(`${op}: input ${fmt(x.shape)} has an empty plane`);
  const [oh, ow] = resampleSize(op, outputSize, h, w);
  const g: ResampleGeometry = { planes: lead.reduce((a, b) => a * b, 1), h, w, oh, ow };
  const y = empty([...lead, oh, ow], x.dtype);
  kernels().adaptiveAvgPool2d(x.storage as FloatArr, g, y.storage as FloatArr);
  return record(op, [x], y, (dy) => {
    // dx[window] += dy / |window|
    const dx = empty(x.shape, x.dtype);
    kernels().adaptiveAvgPool2dBackward(dy.storage as FloatArr, g, dx.storage as FloatArr);
    return [dx];
  });
}

// ---------------------------------------------------------------------------------------------------
// Resampling

export interface InterpolateOptions {
  /** the output plane (oh, ow); exactly one of size and scaleFactor */
  size?: number | readonly [number, number];
  /** oh = ⌊H·scaleFactor⌋; the kernel then maps with 1/scaleFactor, as PyTorch's default recomputeScaleFactor = false */
  scaleFactor?: number | readonly [number, number];
  mode?: "nearest" | "bilinear";
  /** bilinear only: map the corner pixels' centres onto each other (default false) */
  alignCorners?: boolean;
}

/** Resize the planes of x (N, C, H, W) by nearest-neighbour or bilinear interpolation, as F.interpolate. */
export function interpolate(x: Tensor, opts: InterpolateOptions = {}): Tensor {
  const op = "interpolate";
  checkTensor(op, x);
  requireFloat(op, x);
  if (x.ndim !== 4) throw new ShapeError(`${op}: expected a 4-D input (N, C, H, W), got shape ${fmt(x.shape)}`);
  const mode = opts.mode ?? "nearest";
  if (mode !== "nearest" && mode !== "bilinear")
    throw new ArgumentError(`${op}: mode must be "nearest" or "bilinear", got ${JSON.stringify(mode)}`);
  if (opts.alignCorners !== undefined && mode === "nearest")
    throw new ArgumentError(`${op}: alignCorners can only be set with mode "bilinear"`);
  const alignCorners = opts.alignCorners ?? false;
  const [n, c, h, w] = x.shape as [number, number, number, number];
  let oh: number, ow: number, scaleH: number, scaleW: number;
  if ((opts.size === undefined) === (opts.scaleFactor === undefined))
    throw new ArgumentError(`${op}: give exactly one of size and scaleFactor`);
  if (opts.size !== undefined) {
    [oh, ow] = pairOf(op, "size", opts.size, 1);
    // the input pixels per output pixel
    [scaleH, scaleW] = [h / oh, w / ow];
  } else {
    const sf = opts.scaleFactor!;
    const [fh, fw] = typeof sf === "number" ? [sf, sf] : [sf[0], sf[1]];
    if (!(fh > 0 && fw > 0 && Number.isFinite(fh) && Number.isFinite(fw)))
      throw new ArgumentError(`${op}: scaleFactor must be positive, got ${JSON.stringify(sf)}`);
    [oh, ow] = [Math.floor(h * fh), Math.floor(w * fw)];
    [scaleH, scaleW] = [1 / fh, 1 / fw];
  }
  if (h === 0 || w === 0 || oh <= 0 || ow <= 0)
    throw new ShapeError(`${op}: input ${fmt(x.shape)} would be resized to an empty plane (${oh},${ow})`);
  const g: ResampleGeometry = { planes: n * c, h, w, oh, ow };
  const y = empty([n, c, oh, ow], x.dtype);
  if (mode === "nearest") kernels().upsampleNearest2d(x.storage as FloatArr, g, scaleH, scaleW, y.storage as FloatArr);
  else kernels().upsampleBilinear2d(x.storage as FloatArr, g, alignCorners, scaleH, scaleW, y.storage as FloatArr);
  return record(op, [x], y, (dy) => {
    // y = R·x for a fixed sparse resampling matrix R  ⇒  dx = Rᵀ·dy
    const dx = empty(x.shape, x.dtype);
    if (mode === "nearest")
      kernels().upsampleNearest2dBackward(dy.storage as FloatArr, g, scaleH, scaleW, dx.storage as FloatArr);
    else
      kernels().upsampleBilinear2dBackward(
        dy.storage as FloatArr,
        g,
        alignCorners,
        scaleH,
        scaleW,
        dx.storage as FloatArr,
      );
    return [dx];
  });
}
