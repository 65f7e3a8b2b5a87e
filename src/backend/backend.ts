// The kernel interface. A kernel is a plain function over typed arrays: no Tensor, no autograd, no
// allocation of its outputs (the op allocates them and passes them in). Backends implement kernels,
// never gradients: the ops in src/ops call kernels in their forward and in their backward.
//
// The reference backend (./reference) implements every kernel with plain loops: it is the spec.
// A faster backend implements any subset (`Partial<KernelTable>`) and falls back to the reference for
// the rest, so replacing one kernel never touches an op.
//
// Conventions used in the signatures below:
//   Arr            a typed array of any dtype (the op guarantees the dtypes the kernel documents)
//   (outer, r, inner)  a tensor viewed as [outer, r, inner] with the reduced / normalised dim in the middle;
//                  element (o, i, j) sits at o*r*inner + i*inner + j
//   strides        element strides; a broadcast dim has stride 0

export type Arr = Float32Array | Float64Array | Int32Array | Uint8Array;
export type FloatArr = Float32Array | Float64Array;

// ---------------------------------------------------------------------------------------------------
// Elementwise

/** out[i] = f(x[i]); x and out have the same length (and usually the same dtype). */
export type UnaryKernel = (x: Arr, out: Arr) => void;

/**
 * out[idx] = f(a[idx·aStrides], b[idx·bStrides]) for every index idx of `shape` (row-major);
 * out is contiguous with numel(shape) elements.
 */
export type BinaryKernel = (
  a: Arr,
  aStrides: readonly number[],
  b: Arr,
  bStrides: readonly number[],
  out: Arr,
  shape: readonly number[],
) => void;

export const UNARY_KERNELS = [
  "neg",
  "abs",
  "sign",
  "exp",
  "log",
  "log1p",
  "sqrt",
  "rsqrt",
  "reciprocal",
  "sin",
  "cos",
  "tanh",
  "sigmoid",
  "relu",
  "gelu",
  "geluTanh",
  "silu",
  "erf",
] as const;
export type UnaryKernelName = (typeof UNARY_KERNELS)[number];

export const BINARY_KERNELS = [
  "add",
  "sub",
  "mul",
  "div",
  "pow",
  "maximum",
  "minimum",
  "eq",
  "ne",
  "lt",
  "le",
  "gt",
  "ge",
] as const;
export type BinaryKernelName = (typeof BINARY_KERNELS)[number];

export type ElementwiseKernels = { [K in UnaryKernelName]: UnaryKernel } & { [K in BinaryKernelName]: BinaryKernel } & {
  /** out[i] = cond[i] ? a[i] : b[i], all three read through broadcast strides. */
  where(
    cond: Uint8Array,
    cStrides: readonly number[],
    a: Arr,
    aStrides: readonly number[],
    b: Arr,
    bStrides: readonly number[],
    out: Arr,
    shape: readonly number[],
  ): void;
  /** out[i] = x[i] ** p */
  powScalar(x: Arr, out: Arr, p: number): void;
  /** out[i] = min(max(x[i], lo), hi); NaN stays NaN */
  clamp(x: Arr, out: Arr, lo: number, hi: number): void;
  /** out[i] = x[i] > 0 ? x[i] : slope·x[i] */
  leakyRelu(x: Arr, out: Arr, slope: number): void;
  /** out[i] = x[i] > 0 ? x[i] : alpha·(e^x[i] − 1) */
  elu(x: Arr, out: Arr, alpha: number): void;
  /** out[i] = x·β > threshold ? x : log(1 + e^(βx)) / β */
  softplus(x: Arr, out: Arr, beta: number, threshold: number): void;
  // Backward kernels of the activations whose derivative would take several ops to compose:
  // dx[i] = dy[i]·f'(x[i]); x, dy and dx have the same length and float dtype.
  /** f = gelu (erf form): f'(x) = Φ(x) + x·φ(x) */
  geluBackward(x: FloatArr, dy: FloatArr, dx: FloatArr): void;
  /** f = gelu (tanh form) */
  geluTanhBackward(x: FloatArr, dy: FloatArr, dx: FloatArr): void;
  /**
   * gelu (tanh form) that also keeps its gate for the backward: out[i] = geluTanh(x[i]) exactly as the geluTanh
   * kernel writes it, gate[i] = s = (1 + tanh u)/2 = σ(2u), u = √(2/π)(x + 0.044715x³)
   */
  geluTanhGate(x: FloatArr, out: FloatArr, gate: FloatArr): void;
  /** f = gelu (tanh form) from the gate s of geluTanhGate: f'(x) = s + 2x·s·(1 − s)·u' (no exponential) */
  geluTanhGateBackward(x: FloatArr, gate: FloatArr, dy: FloatArr, dx: FloatArr): void;
  /** f = silu: f'(x) = σ(x)·(1 + x·(1 − σ(x))) */
  siluBackward(x: FloatArr, dy: FloatArr, dx: FloatArr): void;
  /**
   * gelu (erf form) that also keeps its slope for the backward: out[i] = gelu(x[i]) exactly as the gelu kernel
   * writes it, slope[i] = Φ(x) + x·φ(x) exactly as the factor of dy in geluBackward (so dx = dy·slope)
   */
  geluSlope(x: FloatArr, out: FloatArr, slope: FloatArr): void;
  /** silu that also keeps its slope: out[i] = silu(x[i]) as the silu kernel, slope[i] = σ(x)·(1 + x·(1 − σ(x))) as siluBackward's factor */
  siluSlope(x: FloatArr, out: FloatArr, slope: FloatArr): void;
  /** f = tanh, from its output y: dx = dy·(1 − y·y) (each operation rounded as the composed ops) */
  tanhBackward(y: FloatArr, dy: FloatArr, dx: FloatArr): void;
  /** f = sigmoid, from its output y: dx = dy·(y·(1 − y)) */
  sigmoidBackward(y: FloatArr, dy: FloatArr, dx: FloatArr): void;
  /** f = abs: dx = dy·sign(x) (sign(0) = sign(NaN) = 0) */
  absBackward(x: FloatArr, dy: FloatArr, dx: FloatArr): void;
  /** f = sqrt, from its output y: dx = dy/(y·2) */
  sqrtBackward(y: FloatArr, dy: FloatArr, dx: FloatArr): void;
  // Both gradients of a same-shape binary op in one pass (all five arrays of one length and float dtype):
  /** y = a·b: da = dy·b, db = dy·a */
  mulBackward(dy: FloatArr, a: FloatArr, b: FloatArr, da: FloatArr, db: FloatArr): void;
  /** y = a/b = q: da = dy/b, db = −((dy·q)/b) (each operation rounded as the composed ops) */
  divBackward(dy: FloatArr, b: FloatArr, q: FloatArr, da: FloatArr, db: FloatArr): void;
  /**
   * y = x·col, x (rows, cols), col (rows, 1): dx = dy·col (skipped when dx is null), dcol[r] = Σ_c dy[r, c]·x[r, c]
   * (each product rounded to the dtype, summed in float64)
   */
  mulColumnBackward(
    dy: FloatArr,
    x: FloatArr,
    col: FloatArr,
    dx: FloatArr | null,
    dcol: FloatArr,
    rows: number,
    cols: number,
  ): void;
  /** f = relu: dx = x ≤ 0 ? 0 : dy (0 at the kink; a NaN x passes dy on, as PyTorch's threshold_backward) */
  reluBackward(x: FloatArr, dy: FloatArr, dx: FloatArr): void;
  /** f = leakyRelu: f'(x) = x > 0 ? 1 : slope (slope at 0 and for NaN, as PyTorch) */
  leakyReluBackward(x: FloatArr, dy: FloatArr, dx: FloatArr, slope: number): void;
  /** f = elu: f'(x) = x ≤ 0 ? alpha·eˣ : 1 */
  eluBackward(x: FloatArr, dy: FloatArr, dx: FloatArr, alpha: number): void;
  /** f = softplus: f'(x) = x·β > threshold ? 1 : σ(βx) */
  softplusBackward(x: FloatArr, dy: FloatArr, dx: FloatArr, beta: number, threshold: number): void;
  /** out[i] = x[i] (with the destination's conversion: float to int truncates toward zero) */
  cast(x: Arr, out: Arr): void;
  /** out[i] = value */
  fill(out: Arr, value: number): void;
};

// ---------------------------------------------------------------------------------------------------
// Reductions over the middle dim of (outer, r, inner); out has outer*inner elements.

export interface ReduceKernels {
  /** out = Σ_i x[(o, i, j)]; an empty reduction (r = 0) gives 0. Integer and bool inputs sum into an int32 out. */
  sum(x: Arr, out: Arr, outer: number, r: number, inner: number): void;
  /** values and the index (0..r-1) of the first maximum; NaN wins (propagates) as in PyTorch; needs r ≥ 1 */
  max(x: Arr, values: Arr, indices: Int32Array, outer: number, r: number, inner: number): void;
  min(x: Arr, values: Arr, indices: Int32Array, outer: number, r: number, inner: number): void;
  /** out = m + log Σ_i e^(x − m) with m the row maximum (0 when it is ±inf); r = 0 gives −inf */
  logsumexp(x: FloatArr, out: FloatArr, outer: number, r: number, inner: number): void;
  /**
   * the k largest (smallest when !largest) of each row along the middle dim, best first: values and
   * indices are (outer, k, inner); ties keep the lower index first; a NaN counts as the largest (as in PyTorch)
   */
  topk(
    x: Arr,
    values: Arr,
    indices: Int32Array,
    outer: number,
    r: number,
    inner: number,
    k: number,
    largest: boolean,
  ): void;
  /** dx[(o, indices[(o, j)], j)] += dy[(o, j)]: the adjoint of max/min along a dim (dx zeroed by the caller) */
  scatterToIndex(dy: FloatArr, indices: Int32Array, dx: FloatArr, outer: number, r: number, inner: number): void;
}

// ---------------------------------------------------------------------------------------------------
// Matrix multiply: out[b] = op(A[b]) · op(B[b]) for b < batch, where op transposes when the flag is set.

export interface MatmulParams {
  batch: number;
  m: number;
  n: number;
  k: number;
  /** A[b] is stored as [k, m] (row-major) instead of [m, k] */
  transA: boolean;
  /** B[b] is stored as [n, k] instead of [k, n] */
  transB: boolean;
  /** elements between consecutive batch matrices of A and B; 0 broadcasts one matrix over the batch */
  strideA: number;
  strideB: number;
  /**
   * Set by an op whose B is a weight read under noGrad (Linear at inference): nothing writes B while
   * this number (the engine's gradient-mode region, one uninterrupted noGrad call) stays the same, so
   * a backend may keep its own copy of B across calls with the same number. Absent: B may change.
   */
  constantB?: number;
  /**
   * When given (n elements): added to every row of every output matrix after the product, rounded once
   * more — C = op(A)·op(B) + bias, the same values as the product followed by a broadcast add (Linear's bias).
   */
  bias?: FloatArr;
  /**
   * When given (m elements, batch 1): overwritten with the row sums of op(A), Σ_p op(A)(i, p), added in
   * float64 in the order p = 0, 1, … as the `sum` kernel does — Linear's bias gradient Σ_rows dy, taken from
   * the dy its weight gradient already reads.
   */
  rowSumsA?: FloatArr;
}

export interface MatmulKernels {
  /** out is contiguous [batch, m, n] and is overwritten (or accumulated into when `accumulate`). */
  matmul(a: FloatArr, b: FloatArr, out: FloatArr, p: MatmulParams, accumulate?: boolean): void;
}

// ---------------------------------------------------------------------------------------------------
// Layout: copies through arbitrary strides (permute, slice with steps, expand, flip, narrow, cat).

export interface LayoutKernels {
  /** out[idx] = x[offset + idx·strides] for every idx of `shape` (strides may be 0 or negative). */
  stridedCopy(x: Arr, offset: number, strides: readonly number[], shape: readonly number[], out: Arr): void;
  /** dst[offset + idx·strides] = src[idx] (or += when accumulate) for every idx of `shape`. */
  stridedAssign(
    src: Arr,
    dst: Arr,
    offset: number,
    strides: readonly number[],
    shape: readonly number[],
    accumulate: boolean,
  ): void;
  /** out = x with everything above (upper=false: tril) or below (upper=true: triu) diagonal k zeroed, per [rows, cols] matrix. */
  tri(x: Arr, out: Arr, batch: number, rows: number, cols: number, k: number, upper: boolean): void;
}

// ---------------------------------------------------------------------------------------------------
// Indexing

export interface IndexKernels {
  /**
   * out[(o, i, j)] = x[(o, index[(o, i, j)], j)]: torch.gather along the middle dim. x is viewed as
   * (outer, rx, inner) and index/out as (outer, ri, inner); index values are already checked to be in [0, rx).
   */
  gather(x: Arr, index: Int32Array, out: Arr, outer: number, rx: number, ri: number, inner: number): void;
  /** dst[(o, index[(o, i, j)], j)] += src[(o, i, j)]: the adjoint of gather. */
  scatterAdd(dst: Arr, index: Int32Array, src: Arr, outer: number, rd: number, ri: number, inner: number): void;
  /** out[(o, i, j)] = x[(o, idx[i], j)], x viewed as (outer, n, inner), out as (outer, idx.length, inner). */
  indexSelect(x: Arr, idx: Int32Array, out: Arr, outer: number, n: number, inner: number): void;
  /** dst[(o, idx[i], j)] += src[(o, i, j)]: the adjoint of indexSelect (embedding's backward). */
  indexAdd(dst: Arr, idx: Int32Array, src: Arr, outer: number, n: number, inner: number): void;
}

// ---------------------------------------------------------------------------------------------------
// Neural-network kernels with hand-derived backwards (see docs/derivations/).

export interface NnKernels {
  /** y = softmax(x) along the middle dim of (outer, r, inner) */
  softmax(x: FloatArr, y: FloatArr, outer: number, r: number, inner: number): void;
  /** dx = y ⊙ (dy − Σ dy⊙y) */
  softmaxBackward(y: FloatArr, dy: FloatArr, dx: FloatArr, outer: number, r: number, inner: number): void;
  logSoftmax(x: FloatArr, y: FloatArr, outer: number, r: number, inner: number): void;
  /** dx = dy − e^y Σ dy */
  logSoftmaxBackward(y: FloatArr, dy: FloatArr, dx: FloatArr, outer: number, r: number, inner: number): void;
  /**
   * Per-position cross-entropy of logits (outer=N, r=C, inner=d) against int32 targets (outer, inner).
   * loss = −(1−ε)·log p[target] − ε/C · Σ_c log p[c]; positions whose target equals ignoreIndex get loss 0.
   * Writes losses (outer*inner) and the row log-sum-exp (outer*inner) for the backward.
   */
  crossEntropy(
    logits: FloatArr,
    target: Int32Array,
    losses: FloatArr,
    lse: FloatArr,
    outer: number,
    c: number,
    inner: number,
    ignoreIndex: number,
    labelSmoothing: number,
  ): void;
  /** dlogits = dloss · (softmax − (1−ε)·onehot − ε/C) at every non-ignored position, 0 elsewhere. */
  crossEntropyBackward(
    logits: FloatArr,
    target: Int32Array,
    lse: FloatArr,
    dloss: FloatArr,
    dlogits: FloatArr,
    outer: number,
    c: number,
    inner: number,
    ignoreIndex: number,
    labelSmoothing: number,
  ): void;
  /** y = (x − mean)·rstd·w + b over the last `cols` elements of each row; writes mean and rstd per row. w, b may be null. */
  layerNorm(
    x: FloatArr,
    w: FloatArr | null,
    b: FloatArr | null,
    y: FloatArr,
    mean: FloatArr,
    rstd: FloatArr,
    rows: number,
    cols: number,
    eps: number,
  ): void;
  /** dx (overwritten), dw and db (accumulated into, may be null). */
  layerNormBackward(
    dy: FloatArr,
    x: FloatArr,
    w: FloatArr | null,
    mean: FloatArr,
    rstd: FloatArr,
    dx: FloatArr,
    dw: FloatArr | null,
    db: FloatArr | null,
    rows: number,
    cols: number,
  ): void;
  /** y = x·rstd·w with rstd = 1/√(mean(x²) + eps); writes rstd per row. w may be null. */
  rmsNorm(x: FloatArr, w: FloatArr | null, y: FloatArr, rstd: FloatArr, rows: number, cols: number, eps: number): void;
  rmsNormBackward(
    dy: FloatArr,
    x: FloatArr,
    w: FloatArr | null,
    rstd: FloatArr,
    dx: FloatArr,
    dw: FloatArr | null,
    rows: number,
    cols: number,
  ): void;
  /**
   * Per-position negative log-likelihood of log-probabilities (outer=N, r=C, inner=d) against int32 targets
   * (outer, inner): loss = −logProbs[target], 0 where target equals ignoreIndex.
   */
  nllLoss(
    logProbs: FloatArr,
    target: Int32Array,
    losses: FloatArr,
    outer: number,
    c: number,
    inner: number,
    ignoreIndex: number,
  ): void;
  /** dlogProbs (overwritten) = −dloss at each non-ignored target position, 0 elsewhere. */
  nllLossBackward(
    target: Int32Array,
    dloss: FloatArr,
    dlogProbs: FloatArr,
    outer: number,
    c: number,
    inner: number,
    ignoreIndex: number,
  ): void;
  /**
   * Elementwise binary cross-entropy of logits x against targets t (same length), pw = pos_weight already
   * expanded to x's length (or null): loss = (1 − t)·x + (1 + (pw − 1)·t)·(log(1 + e^(−|x|)) + max(−x, 0)).
   */
  bceWithLogits(x: FloatArr, t: FloatArr, pw: FloatArr | null, loss: FloatArr): void;
  /** dx (overwritten) and, when not null, dt and dpw (overwritten, full length), from dloss. */
  bceWithLogitsBackward(
    x: FloatArr,
    t: FloatArr,
    pw: FloatArr | null,
    dloss: FloatArr,
    dx: FloatArr,
    dt: FloatArr | null,
    dpw: FloatArr | null,
  ): void;
  /**
   * Group norm of x viewed as (n, groups, cpg, hw) with cpg = channels per group: each (n, group) slab of
   * cpg·hw values is normalised, then channel ch gets w[ch], b[ch] (may be null). Writes mean and rstd per
   * (n, group).
   */
  groupNorm(
    x: FloatArr,
    w: FloatArr | null,
    b: FloatArr | null,
    y: FloatArr,
    mean: FloatArr,
    rstd: FloatArr,
    n: number,
    c: number,
    hw: number,
    groups: number,
    eps: number,
  ): void;
  /** dx (overwritten), dw and db (accumulated into, may be null). */
  groupNormBackward(
    dy: FloatArr,
    x: FloatArr,
    w: FloatArr | null,
    mean: FloatArr,
    rstd: FloatArr,
    dx: FloatArr,
    dw: FloatArr | null,
    db: FloatArr | null,
    n: number,
    c: number,
    hw: number,
    groups: number,
  ): void;
  /** Per-channel mean and biased variance of x viewed as (n, c, hw). */
  batchNormStats(x: FloatArr, mean: FloatArr, variance: FloatArr, n: number, c: number, hw: number): void;
  /** y = (x − mean[ch])·rstd[ch]·w[ch] + b[ch] with rstd = 1/√(variance + eps), written per channel; w, b may be null. */
  batchNorm(
    x: FloatArr,
    mean: FloatArr,
    variance: FloatArr,
    w: FloatArr | null,
    b: FloatArr | null,
    y: FloatArr,
    rstd: FloatArr,
    n: number,
    c: number,
    hw: number,
    eps: number,
  ): void;
  /**
   * dx (overwritten), dw and db (accumulated into, may be null). training: mean and rstd are the batch
   * statistics and are differentiated through; otherwise they are constants (running statistics).
   */
  batchNormBackward(
    dy: FloatArr,
    x: FloatArr,
    w: FloatArr | null,
    mean: FloatArr,
    rstd: FloatArr,
    dx: FloatArr,
    dw: FloatArr | null,
    db: FloatArr | null,
    n: number,
    c: number,
    hw: number,
    training: boolean,
  ): void;
  /** In place: running = (1 − momentum)·running + momentum·batch, the variance made unbiased by count/(count − 1). */
  batchNormUpdateStats(
    runningMean: FloatArr | null,
    runningVar: FloatArr | null,
    mean: FloatArr,
    variance: FloatArr,
    momentum: number,
    count: number,
  ): void;
  /** mask[i] = u[i] < p ? 0 : 1/(1 − p) for uniforms u in [0, 1) (all 0 when p = 1). */
  dropoutMask(u: FloatArr, mask: FloatArr, p: number): void;
}

// ---------------------------------------------------------------------------------------------------
// Convolution, pooling and resampling (NCHW). conv1d is conv2d with H = 1.

export interface Conv2dGeometry {
  n: number;
  c: number;
  h: number;
  w: number; // input (N, C, H, W)
  kh: number;
  kw: number; // kernel
  sh: number;
  sw: number; // stride
  ph: number;
  pw: number; // zero padding (top/left; bottom/right follow from oh, ow)
  dh: number;
  dw: number; // dilation
  oh: number;
  ow: number; // output spatial size
}

/** A stack of `planes` = N·C images resampled from (h, w) to (oh, ow). */
export interface ResampleGeometry {
  planes: number;
  h: number;
  w: number; // input plane
  oh: number;
  ow: number; // output plane
}

export interface ConvKernels {
  /** cols[n][(c, ki, kj)][(oi, oj)] = x[n][c][oi·sh − ph + ki·dh][oj·sw − pw + kj·dw] (0 outside): shape (N, C·kh·kw, oh·ow). */
  im2col(x: FloatArr, g: Conv2dGeometry, cols: FloatArr): void;
  /** The adjoint of im2col: dx (zeroed by the caller) += every column entry at its source pixel. */
  col2im(cols: FloatArr, g: Conv2dGeometry, dx: FloatArr): void;
  /** y[(i, c, j)] += bias[c] for y viewed as (n, c, inner). */
  biasAdd(y: FloatArr, bias: FloatArr, n: number, c: number, inner: number): void;
  /** db[c] = Σ_{i, j} dy[(i, c, j)] (overwritten) for dy viewed as (n, c, inner). */
  biasGrad(dy: FloatArr, db: FloatArr, n: number, c: number, inner: number): void;
  /**
   * Max over each window (padding counts as −inf; windows that ceil mode lets run past the bottom/right
   * edge are clipped); indices are flat offsets h*W + w within the (n, c) plane. NaN wins, as in PyTorch.
   */
  maxPool2d(x: FloatArr, g: Conv2dGeometry, out: FloatArr, indices: Int32Array): void;
  /** dx (overwritten) = Σ of dy over the outputs whose maximum sat at each pixel. */
  maxPool2dBackward(dy: FloatArr, indices: Int32Array, g: Conv2dGeometry, dx: FloatArr): void;
  /**
   * Mean over each window (dilation is 1). As PyTorch: the window is first clipped to the padded input
   * (its size is the divisor when countIncludePad), then to the input (the summed pixels, and the divisor
   * when not countIncludePad).
   */
  avgPool2d(x: FloatArr, g: Conv2dGeometry, out: FloatArr, countIncludePad: boolean): void;
  /** dx (overwritten): each dy spread evenly, with the forward's divisor, over its window's pixels. */
  avgPool2dBackward(dy: FloatArr, g: Conv2dGeometry, dx: FloatArr, countIncludePad: boolean): void;
  /** out[p][i][j] = mean of x[p] over rows [⌊i·h/oh⌋, ⌈(i+1)·h/oh⌉) and columns [⌊j·w/ow⌋, ⌈(j+1)·w/ow⌉). */
  adaptiveAvgPool2d(x: FloatArr, g: ResampleGeometry, out: FloatArr): void;
  /** dx (overwritten) = each dy spread evenly over its window. */
  adaptiveAvgPool2dBackward(dy: FloatArr, g: ResampleGeometry, dx: FloatArr): void;
  /**
   * Nearest-neighbour resampling as PyTorch's upsample_nearest2d: source row = min(⌊i·scaleH⌋, h − 1) with
   * scaleH the input size per output row (h/oh, or 1/scaleFactor when one was given), in float32 arithmetic.
   */
  upsampleNearest2d(x: FloatArr, g: ResampleGeometry, scaleH: number, scaleW: number, out: FloatArr): void;
  /** dx (overwritten) = Σ of dy over the outputs that copied each pixel. */
  upsampleNearest2dBackward(dy: FloatArr, g: ResampleGeometry, scaleH: number, scaleW: number, dx: FloatArr): void;
  /**
   * Bilinear resampling as PyTorch's upsample_bilinear2d. Source coordinate of output row i:
   * alignCorners ? i·(h−1)/(oh−1) : max((i + ½)·scaleH − ½, 0), with scaleH as for nearest;
   * out = the two-by-two interpolation of the pixels around it (clamped at the last row/column).
   */
  upsampleBilinear2d(
    x: FloatArr,
    g: ResampleGeometry,
    alignCorners: boolean,
    scaleH: number,
    scaleW: number,
    out: FloatArr,
  ): void;
  /** dx (overwritten): each dy spread over its four source pixels with the forward's weights. */
  upsampleBilinear2dBackward(
    dy: FloatArr,
    g: ResampleGeometry,
    alignCorners: boolean,
    scaleH: number,
    scaleW: number,
    dx: FloatArr,
  ): void;
}

// ---------------------------------------------------------------------------------------------------
// Attention: y = softmax(q·kᵀ·scale + mask) · v, per (batch·head), without materialising more than a row.

export interface AttentionParams {
  bh: number; // batch × heads
  tq: number; // query length
  tk: number; // key length
  d: number; // q/k head size
  dv: number; // v head size
  scale: number;
  causal: boolean; // query i sees keys j ≤ i (top-left aligned, as PyTorch 2.x's is_causal = ones(tq, tk).tril())
  /**
   * When set (H): q, k, v, y and their gradients are stored (B, T, H, D) — the heads after the sequence, as a
   * Linear's output viewed per head — with bh = B·H and slice b = (batch ⌊b/H⌋, head b mod H); token t of
   * slice b sits at row (⌊b/H⌋·T + t)·H + b mod H. lse, the mask strides and dmask stay over (bh, tq, tk).
   */
  heads?: number;
}

export interface AttentionKernels {
  /**
   * q (bh, tq, d), k (bh, tk, d), v (bh, tk, dv) → y (bh, tq, dv) and lse (bh, tq), the log-sum-exp of each
   * score row (for the backward). mask, when given, is an additive float bias read through maskStrides over
   * the shape (bh, tq, tk); −inf masks a key out. A fully masked row gives NaN, as PyTorch does.
   * Online softmax over the keys: no score row is ever held, only a running max, sum and (dv) accumulator.
   */
  attention(
    q: FloatArr,
    k: FloatArr,
    v: FloatArr,
    mask: FloatArr | null,
    maskStrides: readonly number[] | null,
    p: AttentionParams,
    y: FloatArr,
    lse: FloatArr,
  ): void;
  /**
   * dq, dk, dv (overwritten) from dy, recomputing the probabilities from lse. dmask, when given, receives
   * (overwritten, contiguous (bh, tq, tk)) the gradient of the additive mask, i.e. of the scaled scores.
   */
  attentionBackward(
    q: FloatArr,
    k: FloatArr,
    v: FloatArr,
    mask: FloatArr | null,
    maskStrides: readonly number[] | null,
    p: AttentionParams,
    y: FloatArr,
    lse: FloatArr,
    dy: FloatArr,
    dq: FloatArr,
    dk: FloatArr,
    dv: FloatArr,
    dmask: FloatArr | null,
  ): void;
  /**
   * The materialised softmax (used when attention probabilities are dropped out): probs (bh, tq, tk) =
   * softmax over keys of scores·scale + mask (causal keys masked), from raw scores = q·kᵀ. probs may be scores.
   */
  attentionSoftmax(
    scores: FloatArr,
    mask: FloatArr | null,
    maskStrides: readonly number[] | null,
    p: AttentionParams,
    probs: FloatArr,
  ): void;
  /** dlogits = P ⊙ (dP − Σ_j dP⊙P) per row of (bh·tq, tk); the gradient of the softmax's input. May alias dprobs. */
  attentionSoftmaxBackward(probs: FloatArr, dprobs: FloatArr, p: AttentionParams, dlogits: FloatArr): void;
}

// ---------------------------------------------------------------------------------------------------
// Optimizers: one in-place update of a parameter from its gradient and its state buffers (src/optim).
// param, grad and every buffer have the same length and dtype; the optimizer owns the buffers and the
// step count, and passes the scalars of the step. PyTorch 1.13's single-tensor update, element by element.

export interface SgdParams {
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
  maximize: boolean;
  /** the momentum buffer was just created: it takes the (decayed) gradient as is, b ← g */
  initBuffer: boolean;
}

export interface AdamParams {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** AdamW: θ ← θ·(1 − lr·λ) before the update; Adam: g ← g + λ·θ (L2) */
  decoupledWeightDecay: boolean;
  maximize: boolean;
  /** 1 − β1ᵗ and 1 − β2ᵗ at this step t */
  biasCorrection1: number;
  biasCorrection2: number;
}

/** Adam/AdamW over many tensors at once: the scalars they share, and each tensor's own bias corrections. */
export interface AdamMultiParams extends Omit<AdamParams, "biasCorrection1" | "biasCorrection2"> {
  /** 1 − β1ᵗ and 1 − β2ᵗ of tensor i at its own step t (an optimizer counts steps per parameter) */
  biasCorrection1: readonly number[];
  biasCorrection2: readonly number[];
}

export interface RmspropParams {
  lr: number;
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  maximize: boolean;
}

export interface OptimKernels {
  /** SGD with momentum/Nesterov: momentumBuffer is null when momentum is 0. */
  sgd(param: FloatArr, grad: FloatArr, momentumBuffer: FloatArr | null, p: SgdParams): void;
  /** Adam and AdamW; maxExpAvgSq is non-null for AMSGrad. */
  adam(
    param: FloatArr,
    grad: FloatArr,
    expAvg: FloatArr,
    expAvgSq: FloatArr,
    maxExpAvgSq: FloatArr | null,
    p: AdamParams,
  ): void;
  /**
   * Adam and AdamW without AMSGrad over a list of tensors (a parameter group), in one call: tensor i is
   * updated exactly as adam(params[i], grads[i], expAvgs[i], expAvgSqs[i], null, p with tensor i's bias
   * corrections) would update it. The lists have the same length; the tensors do not overlap.
   */
  adamMulti(
    params: readonly FloatArr[],
    grads: readonly FloatArr[],
    expAvgs: readonly FloatArr[],
    expAvgSqs: readonly FloatArr[],
    p: AdamMultiParams,
  ): void;
  /** RMSprop; gradAvg is non-null when centered, momentumBuffer when momentum > 0. */
  rmsprop(
    param: FloatArr,
    grad: FloatArr,
    squareAvg: FloatArr,
    gradAvg: FloatArr | null,
    momentumBuffer: FloatArr | null,
    p: RmspropParams,
  ): void;
  /** ‖x‖_p = (Σ|x|ᵖ)^(1/p); p = Infinity gives max|x|, p = 0 the number of non-zeros (torch.norm). */
  vectorNorm(x: FloatArr, p: number): number;
  /** x ← alpha·x, in place (gradient clipping). */
  scale(x: FloatArr, alpha: number): void;
}

// ---------------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------------
// Matrix products on GGML blocks: a weight W (n, k) kept as n rows of k/32 blocks, as a GGUF file stores it.

/**
 * The block types the quantized product takes: Q8_0, Q4_0 (32 weights per block, one float16 scale d,
 * x ≈ d·q) and the k-quants Q4_K, Q5_K, Q6_K (256 weights per block, a scale per sub-block).
 */
export const QUANT_BLOCK_TYPES = ["Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K"] as const;
export type QuantBlockType = (typeof QUANT_BLOCK_TYPES)[number];

export interface QuantMatmulParams {
  type: QuantBlockType;
  /** rows of x (tokens) */
  t: number;
  /** columns of x = row length of W, a multiple of the block size (32; 256 for the k-quants) */
  k: number;
  /** rows of W = columns of out */
  n: number;
}

export interface QuantKernels {
  /**
   * out (t, n) = x (t, k) · Wᵀ, W given as its blocks (n·(k/blockSize)·typeSize bytes). As ggml's CPU backend
   * does, each row of x is first rounded to Q8_0 blocks (d_x = fp16(max|x|/127), q_x = round-half-even(x·127/max|x|)),
   * then out[t][j] = Σ_blocks (d_w·d_x)·Σ_i q_w·q_x: an exact integer inner sum, the block terms added in
   * float32 in block order; for the k-quants, to Q8_K blocks of 256 and the sums of reference/qmatmul-k.ts.
   * out is overwritten.
   */
  qmatmul(x: Float32Array, w: Uint8Array, out: Float32Array, p: QuantMatmulParams): void;
}

export type KernelTable = ElementwiseKernels &
  ReduceKernels &
  MatmulKernels &
  LayoutKernels &
  IndexKernels &
  NnKernels &
  ConvKernels &
  AttentionKernels &
  OptimKernels &
  QuantKernels;

export interface Backend {
  readonly name: string;
  /** The kernels this backend implements itself; the rest come from the reference backend. */
  readonly kernels: Partial<KernelTable>;
}
