// The Module base: parameters and submodules are found by walking the module's own fields, in the order
// they were assigned (as PyTorch registers them in __init__), so a layer needs no registration calls:
//
//   class MLP extends Module {
//     up = new Linear(8, 32);      // a submodule: its parameters appear as "up.weight", "up.bias"
//     down = new Linear(32, 8);
//     forward(x: Tensor) { return this.down.forward(this.up.forward(x).relu()); }
//   }
//
// A Parameter is a Tensor that requires grad and belongs to a module; buffers (running statistics) are
// registered by name with registerBuffer and saved in stateDict but not returned by parameters().

import { disposeIfResident } from "../engine/scope.js";
import { noGrad } from "../engine/autograd.js";
import { allocate, isFloating } from "../engine/dtype.js";
import { metaStorage } from "../engine/meta.js";
import { ArgumentError, ShapeError } from "../engine/errors.js";
import { fmt, sameShape } from "../engine/shape.js";
import { Tensor } from "../engine/tensor.js";

/** A trainable tensor owned by a module (PyTorch's nn.Parameter). */
export class Parameter extends Tensor {
  constructor(data: Tensor, requiresGrad = true) {
    super(data.storage, data.shape);
    if (requiresGrad) this.requiresGrad = true;
  }
}

export interface LoadOptions {
  /** every key must match (default true); with false, missing and unexpected keys are reported, not thrown */
  strict?: boolean;
  /**
   * PyTorch's assign=True: instead of copying the values into the module's tensors, make the state's tensors
   * the module's (a parameter becomes a Parameter sharing the state tensor's storage; a buffer becomes the
   * state tensor itself). This is how a model built inside meta() (shape-only) receives real weights without
   * a second allocation. Tied fields stay tied; the module's requiresGrad is kept; a state tensor of another
   * dtype is converted (that one is copied). The fields get new objects, so create an optimizer afterwards.
   * Default false.
   */
  assign?: boolean;
}

export abstract class Module {
  /** training mode (dropout active, batch statistics) vs evaluation mode */
  training = true;
  private buffers_ = new Map<string, { persistent: boolean }>();

  // -------------------------------------------------------------------------------------------------
  // Walking the tree

  /** Direct submodules with their field names, in assignment order. */
  *namedChildren(): Generator<[string, Module]> {
    for (const [name, value] of Object.entries(this)) if (value instanceof Module) yield [name, value];
  }

  children(): Module[] {
    return [...this.namedChildren()].map(([, m]) => m);
  }

  /** This module and every descendant, with dotted names ("" for this one). */
  *namedModules(prefix = ""): Generator<[string, Module]> {
    yield [prefix, this];
    for (const [name, child] of this.namedChildren()) yield* child.namedModules(prefix ? `${prefix}.${name}` : name);
  }

  /** Every parameter with its dotted name ("blocks.0.attn.wq.weight"); a tensor shared by two fields is listed once. */
  namedParameters(prefix = ""): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    const seen = new Set<Tensor>();
    for (const [path, m] of this.namedModules(prefix)) {
      for (const [name, value] of Object.entries(m)) {
        if (value instanceof Parameter && !seen.has(value)) {
          seen.add(value);
          out.push([path ? `${path}.${name}` : name, value]);
        }
      }
    }
    return out;
  }

  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Register a non-trainable tensor (running statistics, fixed tables) saved in stateDict when persistent. */
  registerBuffer(name: string, value: Tensor, persistent = true): void {
    this.buffers_.set(name, { persistent });
    (this as unknown as Record<string, Tensor>)[name] = value;
  }

  namedBuffers(prefix = ""): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [path, m] of this.namedModules(prefix)) {
      for (const [name, { persistent }] of m.buffers_) {
        const t = (m as unknown as Record<string, Tensor>)[name];
        if (persistent && t instanceof Tensor) out.push([path ? `${path}.${name}` : name, t]);
      }
    }
    return out;
  }

  /** The number of parameters (shared tensors counted once). */
  numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.numel(), 0);
  }

  // -------------------------------------------------------------------------------------------------
  // Modes

  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  zeroGrad(): void {
    for (const p of this.parameters()) {
      if (p.grad !== null) disposeIfResident(p.grad, "zeroGrad() dropped it"); // a gradient kept in the kernels' memory (src/engine/scope.ts)
      p.grad = null;
    }
  }

  /** Call fn on every descendant and then on this module (PyTorch's apply: children first). */
  apply(fn: (m: Module) => void): this {
    for (const child of this.children()) child.apply(fn);
    fn(this);
    return this;
  }

  /**
   * Convert every floating-point parameter and buffer to `dtype` (PyTorch's model.to(dtype) /
   * .double()). The fields get new Parameter objects, so an optimizer must be created afterwards;
   * a tensor shared by two fields stays shared. Integer buffers (counters) keep their dtype.
   */
  to(dtype: "float32" | "float64"): this {
    const converted = new Map<Tensor, Tensor>();
    const cast = (t: Tensor): Tensor => {
      let c = converted.get(t);
      if (!c) {
        let fresh: Tensor;
        if (t.isMeta)
          fresh = new Tensor(metaStorage(dtype, t.shape), t.shape); // a shape-only tensor stays one
        else {
          const storage = allocate(dtype, t.numel());
          storage.set(t.storage);
          fresh = new Tensor(storage, t.shape);
        }
        c = t instanceof Parameter ? new Parameter(fresh, t.requiresGrad) : fresh;
        converted.set(t, c);
      }
      return c;
    };
    for (const [, m] of this.namedModules()) {
      const fields = m as unknown as Record<string, unknown>;
      for (const [name, value] of Object.entries(m)) {
        if (value instanceof Parameter && value.dtype !== dtype && isFloating(value.dtype)) fields[name] = cast(value);
      }
      for (const name of m.buffers_.keys()) {
        const t = fields[name];
        if (t instanceof Tensor && t.dtype !== dtype && isFloating(t.dtype)) fields[name] = cast(t);
      }
    }
    return this;
  }

  double(): this {
    return this.to("float64");
  }

  float(): this {
    return this.to("float32");
  }

  // -------------------------------------------------------------------------------------------------
  // State

  /**
   * Parameters and persistent buffers by dotted name (sharing storage with the module), in PyTorch's
   * order: module by module (this one first, then its children depth-first), each module's parameters
   * before its buffers. A tensor shared by two fields is listed once, under its first name.
   */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    const seen = new Set<Tensor>();
    for (const [path, m] of this.namedModules()) {
      const own: [string, Tensor][] = [];
      for (const [name, value] of Object.entries(m)) if (value instanceof Parameter) own.push([name, value]);
      for (const [name, { persistent }] of m.buffers_) {
        const t = (m as unknown as Record<string, unknown>)[name];
        if (persistent && t instanceof Tensor) own.push([name, t]);
      }
      for (const [name, t] of own) {
        if (seen.has(t)) continue;
        seen.add(t);
        out[path ? `${path}.${name}` : name] = t;
      }
    }
    return out;
  }

  /**
   * Copy values into this module's parameters and buffers (or, with `assign`, make the state's tensors the
   * module's). Names and shapes are checked first: with strict (the default) a missing or unexpected name
   * or a wrong shape throws before anything is copied.
   */
  loadStateDict(state: Record<string, Tensor>, opts: LoadOptions = {}): { missing: string[]; unexpected: string[] } {
    const strict = opts.strict ?? true;
    const own = this.stateDict();
    const missing = Object.keys(own).filter((k) => !(k in state));
    const unexpected = Object.keys(state).filter((k) => !(k in own));
    if (strict && (missing.length || unexpected.length)) {
      const parts = [];
      if (missing.length) parts.push(`missing keys: ${missing.join(", ")}`);
      if (unexpected.length) parts.push(`unexpected keys: ${unexpected.join(", ")}`);
      throw new ArgumentError(`loadStateDict: the state does not match ${this.constructor.name}: ${parts.join("; ")}`);
    }
    for (const [name, t] of Object.entries(own)) {
      const src = state[name];
      if (src === undefined) continue;
      if (!(src instanceof Tensor)) throw new ArgumentError(`loadStateDict: ${name} is not a Tensor`);
      if (!sameShape(src.shape, t.shape)) {
        throw new ShapeError(
          `loadStateDict: ${name} has shape ${fmt(src.shape)} in the state but ${fmt(t.shape)} in ${this.constructor.name}`,
        );
      }
    }
    if (opts.assign) {
      this.assignTensors(own, state);
      return { missing, unexpected };
    }
    noGrad(() => {
      for (const [name, t] of Object.entries(own)) {
        const src = state[name];
        if (src !== undefined) t.storage.set(src.storage);
      }
    });
    return { missing, unexpected };
  }

  /** loadStateDict's assign: replace every field holding one of `own`'s tensors by its state tensor (ties kept). */
  private assignTensors(own: Record<string, Tensor>, state: Record<string, Tensor>): void {
    const replacement = new Map<Tensor, Tensor>();
    for (const [name, t] of Object.entries(own)) {
      const src = state[name];
      if (src === undefined) continue;
      // a state tensor of another dtype is converted to the module's (PyTorch would take the state's dtype;
      // our layers compute in the dtype they were built with)
      let value = src.dtype === t.dtype ? src : null;
      if (value === null) {
        const storage = allocate(t.dtype, src.numel());
        storage.set(src.storage);
        value = new Tensor(storage, src.shape);
      }
      replacement.set(t, t instanceof Parameter ? new Parameter(value, t.requiresGrad) : value.detach());
    }
    for (const [, m] of this.namedModules()) {
      const fields = m as unknown as Record<string, unknown>;
      for (const [name, value] of Object.entries(m)) {
        const r = value instanceof Tensor ? replacement.get(value) : undefined;
        if (r !== undefined) fields[name] = r;
      }
    }
  }

  /** A one-line-per-module outline, like PyTorch's print(model). */
  toString(): string {
    const lines: string[] = [];
    const walk = (m: Module, name: string, depth: number): void => {
      const own = Object.entries(m)
        .filter(([, v]) => v instanceof Parameter)
        .map(([k, v]) => `${k}${fmt((v as Tensor).shape)}`);
      lines.push(
        `${"  ".repeat(depth)}${name ? name + ": " : ""}${m.constructor.name}${own.length ? `  [${own.join(", ")}]` : ""}`,
      );
      for (const [n, c] of m.namedChildren()) walk(c, n, depth + 1);
    };
    walk(this, "", 0);
    return lines.join("\n");
  }
}

/**
 * Runs fn in eval mode (dropout off, running statistics used) without gradients, then puts the module back in
 * the mode it was in — what decoding and evaluation loops wrap themselves in.
 */
export function evaluating<R>(
  module: { readonly training: boolean; eval(): unknown; train(mode?: boolean): unknown },
  fn: () => R,
): R {
  const wasTraining = module.training;
  module.eval();
  try {
    return noGrad(fn);
  } finally {
    module.train(wasTraining);
  }
}

/** A list of modules whose parameters are named by index ("blocks.0.attn.wq.weight"). */
export class ModuleList<M extends Module = Module> extends Module {
  constructor(modules: M[] = []) {
    super();
    modules.forEach((m, i) => this.append(m, i));
  }

  private append(m: M, i: number): void {
    (this as unknown as Record<string, M>)[String(i)] = m;
  }

  get length(): number {
    return this.children().length;
  }

  at(i: number): M {
    const m = (this as unknown as Record<string, M>)[String(i < 0 ? i + this.length : i)];
    if (!m) throw new ArgumentError(`ModuleList: index ${i} is out of range for ${this.length} modules`);
    return m;
  }

  push(m: M): void {
    this.append(m, this.length);
  }

  *[Symbol.iterator](): Iterator<M> {
    for (const m of this.children()) yield m as M;
  }
}
