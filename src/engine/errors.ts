// The library's own errors. Every message names the op, the shapes involved and what was expected,
// so that a newcomer can tell what went wrong without reading our source.

/** Base class of every error the library throws on purpose. */
export class WnnError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Shapes that do not fit together: `matmul: cannot multiply (4,8) by (3,2): ...`. */
export class ShapeError extends WnnError {}

/** A dtype the op cannot take: integer tensors into `exp`, float indices into `gather`, ... */
export class DTypeError extends WnnError {}

/** A bad argument that is not a shape or dtype problem: a dim out of range, a negative size, ... */
export class ArgumentError extends WnnError {}

/**
 * More memory than the budget allows: a combination of sizes whose estimated training memory passes it, or a
 * backend whose memory cannot grow to what an op needs (the wasm backend's 32-bit memory). An ArgumentError,
 * since the sizes asked for are the cause.
 */
export class MemoryBudgetError extends ArgumentError {}

/** Misuse of autograd: backward twice through a freed graph, gradients of integer tensors, ... */
export class AutogradError extends WnnError {}

/** A malformed file or buffer (safetensors, checkpoints, fixtures). */
export class LoadError extends WnnError {}
