// The Tensor: a shape, a dtype and a contiguous row-major storage (an ordinary typed array, so memory
// is garbage-collected and nothing is ever disposed by hand — unless the code opts into a memory scope,
// ./scope.ts: then the storage may be a view over the kernels' memory), plus the autograd fields.
//
// The op methods (x.add, x.matmul, x.softmax, ...) are installed by src/ops/methods.ts: the engine knows
// nothing about ops, and ops import the engine, so imports point inward.

import { runBackward, type BackwardOptions, type Node } from "./autograd.js";
import { allocate, copyStorage, dtypeOf, isFloating, type DType, type TypedArray } from "./dtype.js";
import { ArgumentError, AutogradError, DTypeError } from "./errors.js";
import { formatTensor } from "./format.js";
import { inMetaExecution, isMetaStorage, metaError, metaStorage } from "./meta.js";
import { addF32Into, adopt, dispose, registerTensorClass, releasedError, releasedReason } from "./scope.js";
import { fmt, numel, sameShape, type Shape } from "./shape.js";

export type NestedArray = number | boolean | NestedArray[];

export class Tensor {
  /** The sizes of the dims, outermost first. */
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** Contiguous row-major values; `reshape` shares it, every other op writes a new one. */
  storage: TypedArray;
  /** The accumulated gradient of a leaf (or of a tensor that called retainGrad) after backward. */
  grad: Tensor | null = null;
  /** The op that produced this tensor, when it was recorded for autograd. */
  gradFn: Node | null = null;
  /** Set by retainGrad(): keep .grad on a non-leaf. */
  retainsGrad = false;
  private requires = false;

  constructor(storage: TypedArray, shape: Shape) {
    if (storage.length !== numel(shape)) {
      throw new ArgumentError(
        `Tensor: storage of ${storage.length} elements cannot have shape ${fmt(shape)} (${numel(shape)} elements)`,
      );
    }
    this.storage = storage;
    this.shape = Object.freeze(shape.slice());
    this.dtype = dtypeOf(storage);
    adopt(this, storage);
  }

  /** @internal the memory scope moves or releases the storage (./scope.ts) */
  replaceStorage(storage: TypedArray): void {
    this.storage = storage;
  }

  /** True once the tensor was released (its scope ended, or dispose()): any use throws ReleasedTensorError. */
  get isReleased(): boolean {
    return releasedReason(this.storage) !== undefined;
  }

  /** Releases this tensor now (and its memory, when it was the last user of a block of the kernels' memory). */
  dispose(): void {
    dispose(this);
  }

  private checkLive(op: string): void {
    const why = releasedReason(this.storage);
    if (why !== undefined) throw releasedError(op, this, why);
  }

  get ndim(): number {
    return this.shape.length;
  }

  numel(): number {
    return this.storage.length;
  }

  /** A shape-only tensor made inside meta(): it has a shape and a dtype but no values (src/engine/meta.ts). */
  get isMeta(): boolean {
    return isMetaStorage(this.storage);
  }

  /** `size()` is the shape; `size(dim)` one size (negative dims count from the end). */
  size(): readonly number[];
  size(dim: number): number;
  size(dim?: number): number | readonly number[] {
    if (dim === undefined) return this.shape;
    const n = this.ndim;
    if (!Number.isInteger(dim) || dim < -n || dim >= n) {
      throw new ArgumentError(
        `size: dim ${dim} is out of range for a tensor of shape ${fmt(this.shape)}; expected a dim in [${-n}, ${n - 1}]`,
      );
    }
    return this.shape[dim < 0 ? dim + n : dim]!;
  }

  // -------------------------------------------------------------------------------------------------
  // Autograd

  get requiresGrad(): boolean {
    return this.requires;
  }

  set requiresGrad(value: boolean) {
    if (value && !isFloating(this.dtype)) {
      throw new AutogradError(
        `requiresGrad: only floating-point tensors can require gradients; this tensor is ${this.dtype} of shape ${fmt(this.shape)}`,
      );
    }
    if (!value && this.gradFn !== null) {
      throw new AutogradError(
        "requiresGrad: cannot switch off gradients of a tensor computed by an op (a non-leaf); use detach()",
      );
    }
    this.requires = value;
  }

  /** Set requiresGrad in place and return this tensor (PyTorch's `requires_grad_`). */
  requiresGrad_(value = true): this {
    this.requiresGrad = value;
    return this;
  }

  /** @internal used by the autograd recorder */
  markRequiresGrad(): void {
    this.requires = true;
  }

  /** A leaf is a tensor not produced by a recorded op; only leaves get .grad by default. */
  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  retainGrad(): this {
    this.retainsGrad = true;
    return this;
  }

  /**
   * Accumulate d(this)/d(leaf) into every leaf's .grad. A non-scalar output needs an explicit
   * `gradient` of its own shape (the vector in the vector-Jacobian product).
   */
  backward(gradient?: Tensor, opts: BackwardOptions = {}): void {
    this.checkLive("backward");
    if (!this.requires) {
      const why = isFloating(this.dtype)
        ? "it does not require grad and was not computed from a tensor that does"
        : `it is ${this.dtype}; only floating-point tensors have gradients`;
      throw new AutogradError(`backward: cannot differentiate this tensor of shape ${fmt(this.shape)}: ${why}`);
    }
    let g: Tensor;
    if (gradient === undefined) {
      if (this.numel() !== 1) {
        throw new AutogradError(
          `backward: a gradient can be created implicitly only for a scalar output; this output has shape ${fmt(this.shape)}, so pass backward(gradient) with that shape`,
        );
      }
      g = new Tensor(allocate(this.dtype, 1).fill(1), this.shape);
    } else {
      if (!sameShape(gradient.shape, this.shape)) {
        throw new AutogradError(
          `backward: gradient of shape ${fmt(gradient.shape)} does not match the output's shape ${fmt(this.shape)}`,
        );
      }
      g = gradient.dtype === this.dtype ? gradient : castStorage(gradient, this.dtype);
    }
    runBackward(this, g, opts, addSameShape);
  }

  /** The same values, cut off from the graph (shares storage, as PyTorch's detach). */
  detach(): Tensor {
    return new Tensor(this.storage, this.shape);
  }

  /** A copy with its own storage, cut off from the graph. (The differentiable clone is an op.) */
  clone(): Tensor {
    this.checkLive("clone");
    if (this.isMeta) return new Tensor(metaStorage(this.dtype, this.shape), this.shape);
    return new Tensor(copyStorage(this.storage), this.shape);
  }

  // -------------------------------------------------------------------------------------------------
  // Reading values

  /** A copy of the values as a flat typed array. */
  dataSync(): TypedArray {
    this.checkLive("dataSync");
    if (this.isMeta && !inMetaExecution()) throw metaError(this.dtype, this.shape, "dataSync");
    // shape-only: a view whose values read as 0, not counted (the real copy is a plain array, not tensor storage)
    if (this.isMeta) return this.storage.subarray();
    return copyStorage(this.storage);
  }

  /** The values, asynchronously (the same as dataSync on CPU backends; kept for API symmetry with tfjs). */
  data(): Promise<TypedArray> {
    return Promise.resolve(this.dataSync());
  }

  /** The one value of a one-element tensor as a JS number (bool gives 0/1). */
  item(): number {
    this.checkLive("item");
    if (this.isMeta && !inMetaExecution()) throw metaError(this.dtype, this.shape, "item");
    if (this.numel() !== 1) {
      throw new ArgumentError(
        `item: only a tensor with one element can be converted to a number; this one has shape ${fmt(this.shape)} (${this.numel()} elements)`,
      );
    }
    return this.storage[0]!;
  }

  /** Nested JS arrays (bool gives booleans); a 0-d tensor gives a number. */
  toArray(): NestedArray {
    this.checkLive("toArray");
    if (this.isMeta) throw metaError(this.dtype, this.shape, "toArray");
    const s = this.storage;
    const isBool = this.dtype === "bool";
    const build = (dim: number, offset: number): NestedArray => {
      if (dim === this.ndim) return isBool ? s[offset] !== 0 : s[offset]!;
      const out: NestedArray[] = [];
      let stride = 1;
      for (let d = dim + 1; d < this.ndim; d++) stride *= this.shape[d]!;
      for (let i = 0; i < this.shape[dim]!; i++) out.push(build(dim + 1, offset + i * stride));
      return out;
    };
    return build(0, 0);
  }

  toString(): string {
    return formatTensor(this);
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

registerTensorClass(Tensor);

/** `using t = …` (explicit resource management) disposes t at the end of the block. */
const disposeSymbol = (Symbol as unknown as { dispose?: symbol }).dispose;
if (disposeSymbol !== undefined) {
  Object.defineProperty(Tensor.prototype, disposeSymbol, {
    value: function (this: Tensor) {
      this.dispose();
    },
    writable: true,
    configurable: true,
  });
}

function castStorage(t: Tensor, dtype: DType): Tensor {
  const out = allocate(dtype, t.numel());
  if (!t.isMeta) out.set(t.storage); // shape-only (./meta.ts): nothing to copy
  return new Tensor(out, t.shape);
}

/** a + b for two tensors of the same shape and dtype (the tape's gradient accumulation). */
function addSameShape(a: Tensor, b: Tensor): Tensor {
  const x = a.storage,
    y = b.storage;
  if (a.isMeta || b.isMeta) return new Tensor(allocate(a.dtype, a.numel()), a.shape); // shape-only: counted, no sum
  // float32 (nearly every gradient) in a loop of its own: monomorphic loads and stores
  if (x instanceof Float32Array && y instanceof Float32Array) return new Tensor(addF32(x, y), a.shape);
  const out = allocate(a.dtype, a.numel());
  for (let i = 0; i < out.length; i++) out[i] = x[i]! + y[i]!;
  return new Tensor(out, a.shape);
}

function addF32(x: Float32Array, y: Float32Array): Float32Array {
  // storage as any other (counted by the meter; inside a memory scope a block of the kernels' memory, written
  // whole by the add, so not zero-filled first)
  const out = allocate("float32", x.length, "add", false) as Float32Array;
  addF32Into(x, y, out);
  return out;
}

export function checkTensor(op: string, x: unknown, what = "input"): Tensor {
  if (!(x instanceof Tensor)) {
    throw new ArgumentError(`${op}: ${what} must be a Tensor, got ${x === null ? "null" : typeof x}`);
  }
  return x;
}

export function checkFloating(op: string, x: Tensor, what = "input"): void {
  if (!isFloating(x.dtype)) {
    throw new DTypeError(
      `${op}: ${what} must be a floating-point tensor (float32 or float64), got ${x.dtype} of shape ${fmt(x.shape)}`,
    );
  }
}
