// Containers beside ModuleList (src/nn/module.ts): Sequential chains modules, ModuleDict names them.

import { ArgumentError } from "../engine/errors.js";
import type { Tensor } from "../engine/tensor.js";
import { Module, ModuleList } from "./module.js";

/** A module with a one-tensor forward: what Sequential can chain. */
export interface UnaryModule extends Module {
  forward(x: Tensor): Tensor;
}

/**
 * forward(x) = mₙ(…m₁(m₀(x))); the children are named "0", "1", … as PyTorch's nn.Sequential, so
 * `new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 2))` has "0.weight", "0.bias", "2.weight", "2.bias".
 */
export class Sequential extends ModuleList<UnaryModule> {
  constructor(...modules: UnaryModule[]) {
    super(modules);
  }

  forward(x: Tensor): Tensor {
    for (const m of this) x = m.forward(x);
    return x;
  }
}

/**
 * Modules by name, in insertion order (PyTorch's nn.ModuleDict): parameters are named "<key>.<name>".
 * The keys are kept in a Map, so names that look like integers keep their insertion order too — but
 * an object literal puts them first ({ cls: a, 1: b } iterates "1" first, a rule of JS), so pass
 * [key, module] pairs when such keys must keep their order.
 */
export class ModuleDict<M extends Module = Module> extends Module {
  private readonly entries_ = new Map<string, M>();

  constructor(modules: Record<string, M> | Iterable<[string, M]> = {}) {
    super();
    const pairs =
      Symbol.iterator in modules
        ? [...(modules as Iterable<[string, M]>)]
        : Object.entries(modules as Record<string, M>);
    for (const [k, m] of pairs) this.set(k, m);
  }

  override *namedChildren(): Generator<[string, Module]> {
    yield* this.entries_;
  }

  set(key: string, m: M): void {
    if (typeof key !== "string" || key === "" || key.includes("."))
      throw new ArgumentError(`ModuleDict: a key must be a non-empty string without ".", got ${JSON.stringify(key)}`);
    if (!(m instanceof Module))
      throw new ArgumentError(`ModuleDict: the value of ${JSON.stringify(key)} is not a Module`);
    this.entries_.set(key, m);
  }

  get(key: string): M {
    const m = this.entries_.get(key);
    if (!m)
      throw new ArgumentError(
        `ModuleDict: no module named ${JSON.stringify(key)}; the keys are ${[...this.entries_.keys()].join(", ") || "(none)"}`,
      );
    return m;
  }

  has(key: string): boolean {
    return this.entries_.has(key);
  }

  delete(key: string): boolean {
    return this.entries_.delete(key);
  }

  keys(): string[] {
    return [...this.entries_.keys()];
  }

  values(): M[] {
    return [...this.entries_.values()];
  }

  items(): [string, M][] {
    return [...this.entries_];
  }

  get size(): number {
    return this.entries_.size;
  }

  [Symbol.iterator](): Iterator<[string, M]> {
    return this.entries_[Symbol.iterator]();
  }
}
