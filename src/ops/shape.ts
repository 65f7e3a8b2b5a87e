// Shape ops: reshape and friends (which share storage), and the ops that move elements around
// (permute, slice, flip, expand, repeat, cat, pad, tril/triu), each a strided copy through the layout
// kernels so that a faster backend can replace the loops without touching an op.
//
// Vocabulary: x input, y output, dy the gradient of y, dx the gradient of x. A strided view of x is
// (offset, strides, shape): element idx of the view is x.storage[offset + idx·strides].
// Semantics are PyTorch's: negative dims count from the end, slicing clamps like Python.

import { record } from "../engine/autograd.js";
import { promoteTypes } from "../engine/dtype.js";
import { ArgumentError, ShapeError } from "../engine/errors.js";
import { fmt, normDim, normDims, numel, sameShape, stridesOf, type Shape } from "../engine/shape.js";
import { checkTensor, Tensor } from "../engine/tensor.js";
import { kernels } from "./kernels.js";
import { empty, sumToShape, toDType, uninitialised } from "./util.js";

/** Sizes or dims given either as one array or as separate numbers: `permute(x, [1, 0])` or `permute(x, 1, 0)`. */
export type SizeArgs = number[] | [readonly number[]];

function sizeList(op: string, args: SizeArgs): number[] {
  const list = args.length === 1 && Array.isArray(args[0]) ? [...(args[0] as readonly number[])] : (args as number[]);
  for (const v of list)
    if (!Number.isInteger(v)) throw new ArgumentError(`${op}: expected integers, got ${JSON.stringify(list)}`);
  return list;
}

function checkInt(op: string, name: string, v: unknown): number {
  if (!Number.isInteger(v)) throw new ArgumentError(`${op}: ${name} must be an integer, got ${JSON.stringify(v)}`);
  return v as number;
}

// ---------------------------------------------------------------------------------------------------
// The two primitives: a view that shares storage, and a strided copy.

/** y = x with another shape of the same numel, sharing x's storage;  dx = dy with x's shape. */
function viewAs(op: string, x: Tensor, shape: Shape): Tensor {
  const y = new Tensor(x.storage, shape);
  return record(op, [x], y, (dy) => [new Tensor(dy.storage, x.shape)]);
}

/**
 * How strided's backward gives dx back from dy, by how the view reads x:
 * - "accumulate": an element may be read many times (a zero stride: repeat), so the adjoint scatters with +=:
 *     dx = 0;  dx[offset + idx·strides] += dy[idx]
 * - "scatter": each element at most once (slice, narrow): zeros with dy copied into the view, as PyTorch's
 *   slice backward (no additions, so a −0 in dy stays −0):
 *     dx = 0;  dx[offset + idx·strides] = dy[idx]
 * - a gather, when each element is read exactly once (permute, transpose, flip): the offset and strides over
 *   dy that give dx back as dx[jdx] = dy[inverse.offset + jdx·inverse.strides] over x's shape, which writes
 *   each element once (no zero-fill).
 */
type Adjoint = "accumulate" | "scatter" | { offset: number; strides: readonly number[] };

/**
 * y[idx] = x[offset + idx·strides] for every idx of `viewShape`, written contiguously and given
 * `outShape` (the same numel; defaults to viewShape); its backward as `adjoint` says.
 */
function strided(
  op: string,
  x: Tensor,
  offset: number,
  strides: readonly number[],
  viewShape: Shape,
  adjoint: Adjoint,
  outShape: Shape = viewShape,
): Tensor {
  const y = uninitialised(outShape, x.dtype); // the copy writes every element
  kernels().stridedCopy(x.storage, offset, strides, viewShape, y.storage);
  return record(op, [x], y, (dy) => {
    if (typeof adjoint === "object") {
      const dx = uninitialised(x.shape, dy.dtype);
      kernels().stridedCopy(dy.storage, adjoint.offset, adjoint.strides, x.shape, dx.storage);
      return [dx];
    }
    const dx = empty(x.shape, dy.dtype);
    kernels().stridedAssign(dy.storage, dx.storage, offset, strides, viewShape, adjoint === "accumulate");
    return [dx];
  });
}

// ---------------------------------------------------------------------------------------------------
// Views that share storage

/** The shape with its one −1 inferred from numel. */
function inferShape(op: string, x: Tensor, shape: Shape): number[] {
  if (!Array.isArray(shape as unknown))
    throw new ArgumentError(`${op}: shape must be an array of integers, got ${JSON.stringify(shape)}`);
  const s = [...shape];
  const bad = () =>
    new ShapeError(
      `${op}: cannot reshape a tensor of shape ${fmt(x.shape)} (${x.numel()} elements) into shape ${fmt(s)}`,
    );
  let infer = -1,
    known = 1;
  for (let i = 0; i < s.length; i++) {
    const d = s[i]!;
    if (!Number.isInteger(d) || d < -1)
      throw new ArgumentError(`${op}: invalid size ${d} at position ${i} of shape ${fmt(s)}`);
    if (d === -1) {
      if (infer >= 0) throw new ArgumentError(`${op}: only one dim can be inferred (-1), got shape ${fmt(s)}`);
      infer = i;
    } else known *= d;
  }
  if (infer >= 0) {
    if (known === 0 || x.numel() % known !== 0) throw bad();
    s[infer] = x.numel() / known;
  }
  if (numel(s) !== x.numel()) throw bad();
  return s;
}

/** x with a new shape of the same number of elements (one size may be −1); shares x's storage. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  checkTensor("reshape", x);
  return viewAs("reshape", x, inferShape("reshape", x, shape));
}

/** The same as reshape: our tensors are always contiguous, so every reshape is a view. */
export function view(x: Tensor, shape: Shape): Tensor {
  checkTensor("view", x);
  return viewAs("view", x, inferShape("view", x, shape));
}

/** Merge dims startDim..endDim (inclusive) into one; a 0-d tensor becomes (1). */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  checkTensor("flatten", x);
  if (x.ndim === 0) return viewAs("flatten", x, [1]);
  const s = normDim("flatten", startDim, x.ndim, x.shape),
    e = normDim("flatten", endDim, x.ndim, x.shape);
  if (s > e)
    throw new ArgumentError(
      `flatten: startDim ${startDim} comes after endDim ${endDim} for a tensor of shape ${fmt(x.shape)}`,
    );
  const shape = [...x.shape.slice(0, s), numel(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
  return viewAs("flatten", x, shape);
}

/** Remove size-1 dims: all of them, or those named in `dim` (a named dim of another size stays, as in PyTorch). */
export function squeeze(x: Tensor, dim?: number | readonly number[]): Tensor {
  checkTensor("squeeze", x);
  const dims = normDims("squeeze", dim, x.ndim, x.shape);
  const shape = x.shape.filter((d, i) => !(d === 1 && dims.includes(i)));
  return viewAs("squeeze", x, shape);
}

/** The position of a new dim inserted into `shape` (unsqueeze, stack): in [−ndim−1, ndim]. */
function newDim(op: string, dim: number, shape: Shape): number {
  const n = shape.length + 1;
  if (!Number.isInteger(dim) || dim < -n || dim >= n) {
    throw new ArgumentError(
      `${op}: dim ${dim} is out of range for inserting a dim into shape ${fmt(shape)}; expected a dim in [${-n}, ${n - 1}]`,
    );
  }
  return dim < 0 ? dim + n : dim;
}

/** Insert a size-1 dim at `dim` (in [−ndim−1, ndim]). */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  checkTensor("unsqueeze", x);
  const d = newDim("unsqueeze", dim, x.shape);
  return viewAs("unsqueeze", x, [...x.shape.slice(0, d), 1, ...x.shape.slice(d)]);
}

// ---------------------------------------------------------------------------------------------------
// Strided copies

/** Reorder the dims: y.shape[i] = x.shape[dims[i]]. `permute(x, 2, 0, 1)` or `permute(x, [2, 0, 1])`. */
export function permute(x: Tensor, ...dims: SizeArgs): Tensor {
  checkTensor("permute", x);
  const list = sizeList("permute", dims);
  if (list.length !== x.ndim) {
    throw new ArgumentError(
      `permute: dims ${JSON.stringify(list)} must name each of the ${x.ndim} dims of shape ${fmt(x.shape)} once`,
    );
  }
  const perm = list.map((d) => normDim("permute", d, x.ndim, x.shape));
  if (new Set(perm).size !== perm.length)
    throw new ArgumentError(`permute: dims ${JSON.stringify(list)} repeat a dim of shape ${fmt(x.shape)}`);
  const st = stridesOf(x.shape);
  // y[i0, i1, ...] = x[..., i_k at dim perm[k], ...]
  return strided(
    "permute",
    x,
    0,
    perm.map((d) => st[d]!),
    perm.map((d) => x.shape[d]!),
    { offset: 0, strides: inversePermutationStrides(x.shape, perm) },
  );
}

/** dx = dy permuted back: x's dim d is y's dim k where perm[k] = d, so dx steps through dy by y's stride k. */
function inversePermutationStrides(shape: Shape, perm: readonly number[]): number[] {
  const stY = stridesOf(perm.map((d) => shape[d]!));
  const inv: number[] = new Array<number>(perm.length);
  perm.forEach((d, k) => (inv[d] = stY[k]!));
  return inv;
}

/** Swap two dims. */
export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  checkTensor("transpose", x);
  const a = normDim("transpose", dim0, x.ndim, x.shape),
    b = normDim("transpose", dim1, x.ndim, x.shape);
  if (x.ndim === 0) return viewAs("transpose", x, []);
  const perm = x.shape.map((_, i) => (i === a ? b : i === b ? a : i));
  const st = stridesOf(x.shape);
  return strided(
    "transpose",
    x,
    0,
    perm.map((d) => st[d]!),
    perm.map((d) => x.shape[d]!),
    { offset: 0, strides: inversePermutationStrides(x.shape, perm) },
  );
}

/**
 * Broadcast x to `sizes` without new data: new dims are added in front, a size-1 dim may take any size,
 * −1 keeps x's size. The backward sums dy over the broadcast dims.
 */
export function expand(x: Tensor, ...sizes: SizeArgs): Tensor {
  checkTensor("expand", x);
  const target = sizeList("expand", sizes);
  const lead = target.length - x.ndim;
  if (lead < 0) {
    throw new ShapeError(`expand: the target shape ${fmt(target)} has fewer dims than the input ${fmt(x.shape)}`);
  }
  const st = stridesOf(x.shape);
  const shape: number[] = [],
    strides: number[] = [];
  for (let i = 0; i < target.length; i++) {
    const want = target[i]!;
    if (i < lead) {
      if (want < 0)
        throw new ShapeError(
          `expand: size ${want} is not allowed for the new leading dim ${i} of ${fmt(target)} (input ${fmt(x.shape)})`,
        );
      shape.push(want);
      strides.push(0);
      continue;
    }
    const have = x.shape[i - lead]!;
    const size = want === -1 ? have : want;
    if (size === have) strides.push(st[i - lead]!);
    else if (have === 1 && size >= 0) strides.push(0);
    else {
      throw new ShapeError(
        `expand: cannot expand ${fmt(x.shape)} to ${fmt(target)}: dim ${i - lead} has size ${have}; only size-1 dims can expand`,
      );
    }
    shape.push(size);
  }
  const y = empty(shape, x.dtype); // (...sizes)
  kernels().stridedCopy(x.storage, 0, strides, shape, y.storage);
  // y = broadcast(x)  ⇒  dx = dy summed over the broadcast dims
  return record("expand", [x], y, (dy) => [sumToShape(dy, x.shape)]);
}

/** Tile x: y.shape[i] = sizes[i]·x.shape[i] (x gets leading size-1 dims when sizes is longer). */
export function repeat(x: Tensor, ...sizes: SizeArgs): Tensor {
  checkTensor("repeat", x);
  const reps = sizeList("repeat", sizes);
  if (reps.length < x.ndim) {
    throw new ArgumentError(
      `repeat: ${reps.length} repeat counts ${JSON.stringify(reps)} cannot cover the ${x.ndim} dims of ${fmt(x.shape)}`,
    );
  }
  if (reps.some((r) => r < 0))
    throw new ArgumentError(`repeat: repeat counts must be non-negative, got ${JSON.stringify(reps)}`);
  const xs = [...new Array<number>(reps.length - x.ndim).fill(1), ...x.shape];
  const st = stridesOf(xs);
  // View y as (r0, s0, r1, s1, ...): y[a0, b0, a1, b1, ...] = x[b0, b1, ...] (stride 0 along each a_i).
  const viewShape = xs.flatMap((s, i) => [reps[i]!, s]);
  const viewStrides = st.flatMap((s) => [0, s]);
  return strided(
    "repeat",
    x,
    0,
    viewStrides,
    viewShape,
    "accumulate",
    xs.map((s, i) => s * reps[i]!),
  );
}

/** [start, stop, step] for one dim; null or a missing entry keeps the whole dim. */
export type SliceSpec = readonly [start?: number | null, end?: number | null, step?: number | null] | null | undefined;

/** Clamp a Python slice to a dim of `size`: the first index and the number of elements taken. */
function sliceRange(
  op: string,
  size: number,
  start: number | null | undefined,
  end: number | null | undefined,
  step: number | null | undefined,
): [number, number, number] {
  const k = step ?? 1;
  if (!Number.isInteger(k) || k <= 0) throw new ArgumentError(`${op}: step must be a positive integer, got ${k}`);
  const clamp = (v: number | null | undefined, dflt: number, name: string): number => {
    if (v === null || v === undefined) return dflt;
    checkInt(op, name, v);
    const w = v < 0 ? v + size : v;
    return Math.min(Math.max(w, 0), size);
  };
  const a = clamp(start, 0, "start"),
    b = clamp(end, size, "end");
  return [a, Math.max(0, Math.ceil((b - a) / k)), k];
}

/**
 * x[..., start:end:step, ...] along `dim`, with Python's clamping of out-of-range and negative bounds
 * (step > 0, as in PyTorch). The multi-dim form takes one [start, end, step] (or null) per leading dim:
 * `slice(x, [null, [1, 5, 2]])` is `x[:, 1:5:2]`.
 */
export function slice(x: Tensor, dim: number, start?: number | null, end?: number | null, step?: number): Tensor;
export function slice(x: Tensor, specs: readonly SliceSpec[]): Tensor;
export function slice(
  x: Tensor,
  dimOrSpecs: number | readonly SliceSpec[],
  start?: number | null,
  end?: number | null,
  step = 1,
): Tensor {
  checkTensor("slice", x);
  if (x.ndim === 0) throw new ArgumentError("slice: cannot slice a 0-d tensor");
  const specs: SliceSpec[] = [];
  if (typeof dimOrSpecs === "number") {
    specs[normDim("slice", dimOrSpecs, x.ndim, x.shape)] = [start, end, step];
  } else {
    if (!Array.isArray(dimOrSpecs as unknown) || dimOrSpecs.length > x.ndim) {
      throw new ArgumentError(
        `slice: expected at most ${x.ndim} slices for a tensor of shape ${fmt(x.shape)}, got ${JSON.stringify(dimOrSpecs)}`,
      );
    }
    specs.push(...dimOrSpecs);
  }
  const st = stridesOf(x.shape);
  let offset = 0;
  const shape: number[] = [],
    strides: number[] = [];
  for (let d = 0; d < x.ndim; d++) {
    const spec = specs[d];
    const [a, n, k] = spec ? sliceRange("slice", x.shape[d]!, spec[0], spec[1], spec[2]) : [0, x.shape[d]!, 1];
    offset += n > 0 ? a * st[d]! : 0;
    shape.push(n);
    strides.push(st[d]! * k);
  }
  return strided("slice", x, offset, strides, shape, "scatter");
}

/** x[..., start:start+length, ...] along dim; start may be negative (counted from the end). */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  checkTensor("narrow", x);
  if (x.ndim === 0) throw new ArgumentError("narrow: cannot be applied to a 0-d tensor");
  const d = normDim("narrow", dim, x.ndim, x.shape);
  const size = x.shape[d]!;
  checkInt("narrow", "start", start);
  checkInt("narrow", "length", length);
  if (start < -size || start > size)
    throw new ArgumentError(`narrow: start ${start} is out of range for dim ${dim} of size ${size} in ${fmt(x.shape)}`);
  const a = start < 0 ? start + size : start;
  if (length < 0 || a + length > size) {
    throw new ArgumentError(
      `narrow: start ${a} + length ${length} exceeds dim ${dim} of size ${size} in ${fmt(x.shape)}`,
    );
  }
  const st = stridesOf(x.shape);
  const shape = x.shape.slice();
  shape[d] = length;
  return strided("narrow", x, length > 0 ? a * st[d]! : 0, st, shape, "scatter");
}

/** Reverse the order of elements along each of `dims`. */
export function flip(x: Tensor, dims: number | readonly number[]): Tensor {
  checkTensor("flip", x);
  const ds = normDims("flip", dims, x.ndim, x.shape);
  const st = stridesOf(x.shape);
  let offset = 0;
  const strides = st.slice();
  for (const d of ds) {
    if (d >= x.ndim) continue; // dim 0 of a 0-d tensor
    // y[.., i, ..] = x[.., n−1−i, ..]
    offset += Math.max(x.shape[d]! - 1, 0) * st[d]!;
    strides[d] = -st[d]!;
  }
  // a flip is its own inverse: dx is dy read the same way
  return strided("flip", x, offset, strides, x.shape, { offset, strides });
}

// ---------------------------------------------------------------------------------------------------
// Joining and splitting

/**
 * Join tensors along an existing dim. Every tensor has the same shape except along dim; dtypes are
 * promoted. As in PyTorch, 1-D empty tensors (shape (0)) are skipped whatever the others' shapes.
 */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (!Array.isArray(tensors as unknown) || tensors.length === 0)
    throw new ArgumentError("cat: expected a non-empty array of tensors");
  tensors.forEach((t, i) => checkTensor("cat", t, `tensor ${i}`));
  // As in PyTorch, 1-D empty tensors are skipped (they take no part in the shape check).
  const legacyEmpty = (t: Tensor) => t.ndim === 1 && t.numel() === 0;
  const ref = tensors.find((t) => !legacyEmpty(t)) ?? tensors[0]!;
  const skip = tensors.map((t) => legacyEmpty(t) && t !== ref);
  if (ref.ndim === 0)
    throw new ArgumentError(
      `cat: a 0-d tensor (at position ${tensors.indexOf(ref)}) cannot be concatenated; unsqueeze it or use stack`,
    );
  const d = normDim("cat", dim, ref.ndim, ref.shape);
  const dtype = tensors.map((t) => t.dtype).reduce(promoteTypes);
  let total = 0;
  tensors.forEach((t, i) => {
    if (skip[i]) return;
    const same = t.ndim === ref.ndim && t.shape.every((s, k) => k === d || s === ref.shape[k]);
    if (!same) {
      throw new ShapeError(
        `cat: cannot concatenate ${fmt(ref.shape)} with ${fmt(t.shape)} (tensor ${i}) along dim ${d}: all dims but dim ${d} must match`,
      );
    }
    total += t.shape[d]!;
  });
  const xs = tensors.map((t) => toDType(t, dtype));
  const shape = ref.shape.slice();
  shape[d] = total;
  const y = uninitialised(shape, dtype); // (..., Σ n_i, ...): the inputs cover it
  const st = stridesOf(shape);
  // y[.., o_i : o_i + n_i, ..] = x_i: each input is written at its offset o_i along dim
  const offsets: number[] = [];
  let o = 0;
  xs.forEach((x, i) => {
    offsets.push(o * st[d]!);
    if (skip[i]) return;
    kernels().stridedAssign(x.storage, y.storage, o * st[d]!, st, x.shape, false);
    o += x.shape[d]!;
  });
  // dx_i = dy[.., o_i : o_i + n_i, ..]
  return record("cat", xs, y, (dy) =>
    xs.map((x, i) => {
      const dx = uninitialised(x.shape, dy.dtype); // the copy writes every element (a skipped one has none)
      if (!skip[i]) kernels().stridedCopy(dy.storage, offsets[i]!, st, x.shape, dx.storage);
      return dx;
    }),
  );
}

/** Join tensors of one shape along a new dim (in [−ndim−1, ndim]). */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (!Array.isArray(tensors as unknown) || tensors.length === 0)
    throw new ArgumentError("stack: expected a non-empty array of tensors");
  tensors.forEach((t, i) => checkTensor("stack", t, `tensor ${i}`));
  const ref = tensors[0]!;
  tensors.forEach((t, i) => {
    if (!sameShape(t.shape, ref.shape)) {
      throw new ShapeError(
        `stack: expects tensors of one shape, got ${fmt(ref.shape)} at entry 0 and ${fmt(t.shape)} at entry ${i}`,
      );
    }
  });
  const d = newDim("stack", dim, ref.shape);
  return cat(
    tensors.map((t) => unsqueeze(t, d)),
    d,
  );
}

/**
 * Cut x along dim into pieces of splitSize (the last may be smaller), or into pieces of the given
 * sizes, which must add up to the dim's size.
 */
export function split(x: Tensor, splitSizeOrSections: number | readonly number[], dim = 0): Tensor[] {
  checkTensor("split", x);
  if (x.ndim === 0) throw new ArgumentError("split: expects a tensor with at least 1 dim, got a 0-d tensor");
  const d = normDim("split", dim, x.ndim, x.shape);
  const size = x.shape[d]!;
  let sizes: number[];
  if (typeof splitSizeOrSections === "number") {
    const n = splitSizeOrSections;
    if (!Number.isInteger(n) || n <= 0)
      throw new ArgumentError(`split: splitSize must be a positive integer, got ${n}`);
    sizes = [];
    for (let a = 0; a < size; a += n) sizes.push(Math.min(n, size - a));
    if (sizes.length === 0) sizes.push(0);
  } else {
    sizes = [...splitSizeOrSections];
    if (sizes.some((s) => !Number.isInteger(s) || s < 0) || sizes.reduce((a, b) => a + b, 0) !== size) {
      throw new ArgumentError(
        `split: sizes ${JSON.stringify(sizes)} must be non-negative and add up to ${size}, the size of dim ${dim} of ${fmt(x.shape)}`,
      );
    }
  }
  const out: Tensor[] = [];
  let a = 0;
  for (const n of sizes) {
    out.push(narrow(x, d, a, n));
    a += n;
  }
  return out;
}

/** Cut x along dim into `chunks` pieces of ⌈size/chunks⌉ (fewer when they run out, as in PyTorch). */
export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  checkTensor("chunk", x);
  if (x.ndim === 0) throw new ArgumentError("chunk: expects a tensor with at least 1 dim, got a 0-d tensor");
  if (!Number.isInteger(chunks) || chunks <= 0)
    throw new ArgumentError(`chunk: chunks must be a positive integer, got ${chunks}`);
  const d = normDim("chunk", dim, x.ndim, x.shape);
  const size = x.shape[d]!;
  if (size === 0) return split(x, new Array<number>(chunks).fill(0), d);
  return split(x, Math.ceil(size / chunks), d);
}

// ---------------------------------------------------------------------------------------------------
// Padding

export interface PadOptions {
  /** constant: fill with `value`; reflect: mirror without repeating the edge; replicate: repeat the edge */
  mode?: "constant" | "reflect" | "replicate";
  /** the fill of constant padding (default 0) */
  value?: number;
}

/**
 * Pad the last dims of x. `pad` lists (left, right) pairs starting from the LAST dim, as PyTorch's
 * F.pad: [l_last, r_last, l_prev, r_prev, ...]. Constant pads may be negative (they crop).
 * (PyTorch only allows reflect/replicate on 2–5-d inputs; here any trailing dims work.)
 */
export function pad(x: Tensor, pad: readonly number[], opts: PadOptions = {}): Tensor {
  checkTensor("pad", x);
  const mode = opts.mode ?? "constant";
  if (
    !Array.isArray(pad as unknown) ||
    pad.length % 2 !== 0 ||
    pad.length > 2 * x.ndim ||
    pad.some((p) => !Number.isInteger(p))
  ) {
    throw new ArgumentError(
      `pad: pad must list an even number of integers, at most 2 per dim (${2 * x.ndim} for shape ${fmt(x.shape)}), got ${JSON.stringify(pad)}`,
    );
  }
  // (dim, left, right) for each padded dim
  const dims = Array.from(
    { length: pad.length / 2 },
    (_, k) => [x.ndim - 1 - k, pad[2 * k]!, pad[2 * k + 1]!] as const,
  );
  if (mode === "constant") return padConstant(x, dims, opts.value ?? 0);
  if (mode !== "reflect" && mode !== "replicate")
    throw new ArgumentError(`pad: mode must be "constant", "reflect" or "replicate", got ${JSON.stringify(mode)}`);
  let y = x;
  for (const [d, l, r] of dims) {
    const n = x.shape[d]!;
    if (l < 0 || r < 0)
      throw new ArgumentError(`pad: ${mode} padding must be non-negative, got ${JSON.stringify(pad)}`);
    if (mode === "reflect" && (l >= n || r >= n)) {
      throw new ShapeError(
        `pad: reflect padding (${l}, ${r}) of dim ${d} must be smaller than its size ${n} in ${fmt(x.shape)}`,
      );
    }
    if (mode === "replicate" && n === 0 && l + r > 0)
      throw new ShapeError(`pad: cannot replicate-pad the empty dim ${d} of ${fmt(x.shape)}`);
    // y[.., o, ..] = x[.., src(o), ..] with src(o) = reflect or clamp of (o − l) into [0, n)
    const src = new Int32Array(n + l + r);
    for (let o = 0; o < src.length; o++) {
      const i = o - l;
      src[o] = mode === "reflect" ? (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i) : Math.min(Math.max(i, 0), n - 1);
    }
    y = selectAlong("pad", y, d, src);
  }
  return y;
}

/** y = x[.., src[o], ..] along dim d (src already in range); dx[.., src[o], ..] += dy[.., o, ..]. */
function selectAlong(op: string, x: Tensor, d: number, src: Int32Array): Tensor {
  const outer = numel(x.shape.slice(0, d)),
    n = x.shape[d]!,
    inner = numel(x.shape.slice(d + 1));
  const shape = x.shape.slice();
  shape[d] = src.length;
  const y = uninitialised(shape, x.dtype);
  kernels().indexSelect(x.storage, src, y.storage, outer, n, inner);
  return record(op, [x], y, (dy) => {
    const dx = empty(x.shape, dy.dtype);
    kernels().indexAdd(dx.storage, src, dy.storage, outer, n, inner);
    return [dx];
  });
}

function padConstant(x: Tensor, dims: readonly (readonly [number, number, number])[], value: number): Tensor {
  const shape = x.shape.slice();
  // The part of x that survives (negative pads crop it) and where it lands in y.
  const xStart = new Array<number>(x.ndim).fill(0),
    yStart = new Array<number>(x.ndim).fill(0);
  const region = x.shape.slice();
  for (const [d, l, r] of dims) {
    shape[d] = x.shape[d]! + l + r;
    if (shape[d]! < 0) {
      throw new ShapeError(
        `pad: padding (${l}, ${r}) of dim ${d} would give a negative size ${shape[d]} for input ${fmt(x.shape)}`,
      );
    }
    xStart[d] = Math.max(-l, 0);
    yStart[d] = Math.max(l, 0);
    region[d] = Math.max(x.shape[d]! - Math.max(-l, 0) - Math.max(-r, 0), 0);
  }
  const xs = stridesOf(x.shape),
    ys = stridesOf(shape);
  const xOff = numel(region) > 0 ? xStart.reduce((s, a, i) => s + a * xs[i]!, 0) : 0;
  const yOff = numel(region) > 0 ? yStart.reduce((s, a, i) => s + a * ys[i]!, 0) : 0;
  // y = value everywhere, then y[yStart + idx] = x[xStart + idx] over the region
  const y = empty(shape, x.dtype);
  kernels().fill(y.storage, value);
  const part = empty(region, x.dtype);
  kernels().stridedCopy(x.storage, xOff, xs, region, part.storage);
  kernels().stridedAssign(part.storage, y.storage, yOff, ys, region, false);
  // dx[xStart + idx] = dy[yStart + idx]; the padding receives no gradient
  return record("pad", [x], y, (dy) => {
    const dpart = empty(region, dy.dtype);
    kernels().stridedCopy(dy.storage, yOff, ys, region, dpart.storage);
    const dx = empty(x.shape, dy.dtype);
    kernels().stridedAssign(dpart.storage, dx.storage, xOff, xs, region, false);
    return [dx];
  });
}

// ---------------------------------------------------------------------------------------------------
// Triangles

function tri(op: "tril" | "triu", x: Tensor, diagonal: number): Tensor {
  checkTensor(op, x);
  if (x.ndim < 2) throw new ArgumentError(`${op}: input must have at least 2 dims, got shape ${fmt(x.shape)}`);
  checkInt(op, "diagonal", diagonal);
  const rows = x.shape[x.ndim - 2]!,
    cols = x.shape[x.ndim - 1]!,
    batch = numel(x.shape.slice(0, -2));
  const upper = op === "triu";
  const y = empty(x.shape, x.dtype);
  kernels().tri(x.storage, y.storage, batch, rows, cols, diagonal, upper);
  // y = x ⊙ mask  ⇒  dx = dy ⊙ mask (the same triangle of dy)
  return record(op, [x], y, (dy) => {
    const dx = empty(x.shape, dy.dtype);
    kernels().tri(dy.storage, dx.storage, batch, rows, cols, diagonal, upper);
    return [dx];
  });
}

/** Keep the lower triangle of each matrix in the last two dims: y[i, j] = x[i, j] if j − i ≤ diagonal, else 0. */
export function tril(x: Tensor, diagonal = 0): Tensor {
  return tri("tril", x, diagonal);
}

/** Keep the upper triangle: y[i, j] = x[i, j] if j − i ≥ diagonal, else 0. */
export function triu(x: Tensor, diagonal = 0): Tensor {
  return tri("triu", x, diagonal);
}

// ---------------------------------------------------------------------------------------------------
// Tensor methods

declare module "../engine/tensor.js" {
  interface Tensor {
    /** `x.reshape([2, -1])` or `x.reshape(2, -1)` */
    reshape(...shape: SizeArgs): Tensor;
    view(...shape: SizeArgs): Tensor;
    flatten(startDim?: number, endDim?: number): Tensor;
    squeeze(dim?: number | readonly number[]): Tensor;
    unsqueeze(dim: number): Tensor;
    permute(...dims: SizeArgs): Tensor;
    transpose(dim0: number, dim1: number): Tensor;
    expand(...sizes: SizeArgs): Tensor;
    repeat(...sizes: SizeArgs): Tensor;
    slice(dim: number, start?: number | null, end?: number | null, step?: number): Tensor;
    slice(specs: readonly SliceSpec[]): Tensor;
    narrow(dim: number, start: number, length: number): Tensor;
    flip(dims: number | readonly number[]): Tensor;
    split(splitSizeOrSections: number | readonly number[], dim?: number): Tensor[];
    chunk(chunks: number, dim?: number): Tensor[];
    tril(diagonal?: number): Tensor;
    triu(diagonal?: number): Tensor;
  }
}

Tensor.prototype.reshape = function (...s) {
  return reshape(this, sizeList("reshape", s));
};
Tensor.prototype.view = function (...s) {
  return view(this, sizeList("view", s));
};
Tensor.prototype.flatten = function (s, e) {
  return flatten(this, s, e);
};
Tensor.prototype.squeeze = function (d) {
  return squeeze(this, d);
};
Tensor.prototype.unsqueeze = function (d) {
  return unsqueeze(this, d);
};
Tensor.prototype.permute = function (...d) {
  return permute(this, ...d);
};
Tensor.prototype.transpose = function (a, b) {
  return transpose(this, a, b);
};
Tensor.prototype.expand = function (...s) {
  return expand(this, ...s);
};
Tensor.prototype.repeat = function (...s) {
  return repeat(this, ...s);
};
Tensor.prototype.slice = function (
  this: Tensor,
  a: number | readonly SliceSpec[],
  start?: number | null,
  end?: number | null,
  step?: number,
) {
  return typeof a === "number" ? slice(this, a, start, end, step) : slice(this, a);
} as Tensor["slice"];
Tensor.prototype.narrow = function (d, s, n) {
  return narrow(this, d, s, n);
};
Tensor.prototype.flip = function (d) {
  return flip(this, d);
};
Tensor.prototype.split = function (s, d) {
  return split(this, s, d);
};
Tensor.prototype.chunk = function (c, d) {
  return chunk(this, c, d);
};
Tensor.prototype.tril = function (k) {
  return tril(this, k);
};
Tensor.prototype.triu = function (k) {
  return triu(this, k);
};
