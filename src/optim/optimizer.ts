// The Optimizer base: parameter groups, the step loop, zeroGrad and the state dict (PyTorch's
// torch.optim.Optimizer). A subclass only says how one parameter is updated, by calling its kernel
// (kernels().sgd / .adam / .rmsprop) on the parameter's storage, its gradient's storage and the state
// buffers it keeps for that parameter; or how one group is updated (updateGroup: Adam and AdamW hand the
// whole group to kernels().adamMulti).
//
//   new AdamW(model.parameters(), { lr: 1e-3 })                        one group
//   new AdamW([{ params: decay, weightDecay: 0.1 }, { params: noDecay, weightDecay: 0 }], { lr })
//
// Each group holds its own copy of every hyper-parameter (the defaults overridden by the group's
// own); schedulers change `group.lr` between steps. A parameter whose `.grad` is null is skipped,
// and its state (step count, moments) does not advance.

import { isFloating } from "../engine/dtype.js";
import { ArgumentError, DTypeError, ShapeError } from "../engine/errors.js";
import { fmt, sameShape } from "../engine/shape.js";
import { Tensor } from "../engine/tensor.js";
import { disposeIfResident, inScope, keptBuffer, makeResident } from "../engine/scope.js";

export type FloatStorage = Float32Array | Float64Array;

/** The hyper-parameter every optimizer has; schedulers change it. */
export interface HyperParams {
  lr: number;
}

/** One parameter group: its parameters and its own copy of every hyper-parameter. */
export type ParamGroup<H extends HyperParams> = H & { params: Tensor[] };

/** A group as given to the constructor: any hyper-parameter it leaves out comes from the defaults. */
export type ParamGroupInput<H extends HyperParams> = { params: Iterable<Tensor> } & Partial<H>;

/** The parameters: one list of tensors (one group), or a list of groups. */
export type ParamsInput<H extends HyperParams> = Iterable<Tensor> | Iterable<ParamGroupInput<H>>;

/** What an optimizer keeps for one parameter: how many updates it got and its buffers (moments, momentum). */
export interface ParamState {
  step: number;
  buffers: Record<string, FloatStorage>;
}

/** One parameter of a step: its storage, its gradient's storage and its state (step already incremented). */
export interface StepItem {
  param: FloatStorage;
  grad: FloatStorage;
  state: ParamState;
}

/** A hyper-parameter value: a number, a flag, or a tuple of numbers (Adam's betas). */
export type HyperValue = number | boolean | readonly number[];

/**
 * The optimizer's state as plain data (JSON-able, plus typed arrays for the buffers): PyTorch's
 * `{state, param_groups}`. Parameters are named by their index, counting through the groups in order;
 * only parameters that have been updated have state.
 */
export interface OptimizerStateDict {
  state: Record<number, { step: number; buffers: Record<string, FloatStorage> }>;
  paramGroups: ({ params: number[] } & Record<string, HyperValue>)[];
}

export abstract class Optimizer<H extends HyperParams = HyperParams> {
  /** The hyper-parameters a group gets when it does not set its own. */
  readonly defaults: Readonly<H>;
  readonly paramGroups: ParamGroup<H>[] = [];
  /** Per-parameter state, created at a parameter's first update. */
  protected readonly state = new Map<Tensor, ParamState>();

  /**
   * @param name     the optimizer's name, for error messages
   * @param buffers  the names of the state buffers this optimizer may keep (checked by loadStateDict)
   */
  protected constructor(
    readonly name: string,
    params: ParamsInput<H>,
    defaults: H,
    private readonly bufferNames: readonly string[],
  ) {
    this.defaults = Object.freeze({ ...defaults });
    const list = [...(params as Iterable<unknown>)];
    if (list.length === 0) throw new ArgumentError(`${name}: got an empty parameter list`);
    if (list.every((p) => p instanceof Tensor)) {
      this.addParamGroup({ params: list as Tensor[] } as unknown as ParamGroupInput<H>);
    } else if (list.every((g) => typeof g === "object" && g !== null && !(g instanceof Tensor) && "params" in g)) {
      for (const g of list as ParamGroupInput<H>[]) this.addParamGroup(g);
    } else {
      throw new ArgumentError(
        `${name}: params must be a list of Tensors or a list of groups { params, ...hyper-parameters }, not a mix`,
      );
    }
  }

  /** Check one group's hyper-parameters (ranges, required values); throw ArgumentError naming the group. */
  protected abstract validate(group: H, where: string): void;

  /** Update one parameter in place from its gradient and its state (state.step has already been incremented). */
  protected abstract update(param: FloatStorage, grad: FloatStorage, state: ParamState, group: ParamGroup<H>): void;

  /**
   * Update the parameters of one group that have a gradient, in the group's order. By default one update()
   * each; an optimizer with a kernel over many tensors (Adam, AdamW) updates them in one call.
   */
  protected updateGroup(items: readonly StepItem[], group: ParamGroup<H>): void {
    for (const { param, grad, state } of items) this.update(param, grad, state, group);
  }

  /** Add a group of parameters, with hyper-parameters falling back to the defaults (PyTorch's add_param_group). */
  addParamGroup(input: ParamGroupInput<H>): void {
    const where = `${this.name}: parameter group ${this.paramGroups.length}`;
    if (typeof input !== "object" || input === null || !("params" in input)) {
      throw new ArgumentError(`${where} must be an object { params, ...hyper-parameters }`);
    }
    const params = input.params instanceof Tensor ? [input.params] : [...input.params];
    if (params.length === 0) throw new ArgumentError(`${where} has no parameters`);
    params.forEach((p, i) => {
      if (!(p instanceof Tensor)) throw new ArgumentError(`${where}: params[${i}] is not a Tensor`);
      if (!isFloating(p.dtype))
        throw new DTypeError(
          `${where}: params[${i}] is ${p.dtype} of shape ${fmt(p.shape)}; only float32 and float64 tensors can be optimized`,
        );
      if (!p.isLeaf)
        throw new ArgumentError(
          `${where}: params[${i}] of shape ${fmt(p.shape)} is not a leaf (it was computed by ${p.gradFn!.name}); optimize the leaf tensors, e.g. a module's parameters()`,
        );
    });
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    if (params.some((p) => seen.has(p)) || new Set(params).size !== params.length) {
      throw new ArgumentError(`${where}: some parameters appear more than once (in this group or in an earlier one)`);
    }
    const group = { ...this.defaults } as Record<string, unknown>;
    for (const [k, v] of Object.entries(input)) {
      if (k === "params") continue;
      if (!(k in this.defaults))
        throw new ArgumentError(
          `${where}: unknown hyper-parameter ${JSON.stringify(k)}; ${this.name} has ${Object.keys(this.defaults).join(", ")}`,
        );
      if (v !== undefined) group[k] = v;
    }
    for (const k of Object.keys(group)) if (Array.isArray(group[k])) group[k] = [...(group[k] as number[])]; // no sharing between groups
    this.validate(group as unknown as H, where);
    this.paramGroups.push({ ...(group as unknown as H), params });
  }

  /** One update of every parameter that has a gradient. */
  step(): void {
    let index = 0;
    for (const group of this.paramGroups) {
      // every gradient of the group is checked before any of its parameters changes
      const withGrad: [Tensor, Tensor][] = [];
      for (const p of group.params) {
        const i = index++;
        const g = p.grad;
        if (g === null) continue;
        if (!sameShape(g.shape, p.shape) || g.dtype !== p.dtype) {
          throw new ShapeError(
            `${this.name}.step: parameter ${i} is ${fmt(p.shape)} ${p.dtype} but its gradient is ${fmt(g.shape)} ${g.dtype}`,
          );
        }
        withGrad.push([p, g]);
      }
      const items = withGrad.map(([p, g]): StepItem => {
        let s = this.state.get(p);
        if (s === undefined) {
          s = { step: 0, buffers: {} };
          this.state.set(p, s);
        }
        s.step += 1;
        // inside a memory scope the parameter moves into the kernels' memory once, and stays there
        if (inScope()) makeResident(p);
        return { param: p.storage as FloatStorage, grad: g.storage as FloatStorage, state: s };
      });
      this.updateGroup(items, group);
    }
  }

  /** Forget the gradients: every parameter's `.grad` becomes null (or is filled with 0 when setToNone is false). */
  zeroGrad({ setToNone = true }: { setToNone?: boolean } = {}): void {
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        if (setToNone) {
          // a gradient kept in the kernels' memory (made inside a memory scope) is freed now
          if (p.grad !== null) disposeIfResident(p.grad, "zeroGrad() dropped it");
          p.grad = null;
        } else p.grad?.storage.fill(0);
      }
    }
  }

  /** The state of one parameter (undefined before its first update). */
  getState(param: Tensor): ParamState | undefined {
    return this.state.get(param);
  }

  /** A buffer of this parameter's state, created filled with zeros when absent; `created` tells which. */
  protected buffer(state: ParamState, name: string, like: FloatStorage): { buf: FloatStorage; created: boolean } {
    const have = state.buffers[name];
    if (have !== undefined) return { buf: have, created: false };
    // inside a memory scope, in the kernels' memory for the optimizer's life (src/engine/scope.ts)
    const buf =
      like instanceof Float32Array
        ? inScope()
          ? keptBuffer(like.length)
          : new Float32Array(like.length)
        : new Float64Array(like.length);
    state.buffers[name] = buf;
    return { buf, created: true };
  }

  // -------------------------------------------------------------------------------------------------
  // State dict

  /** A copy of the state: step counts and buffers per parameter index, and each group's hyper-parameters. */
  stateDict(): OptimizerStateDict {
    const state: OptimizerStateDict["state"] = {};
    const paramGroups: OptimizerStateDict["paramGroups"] = [];
    let index = 0;
    for (const group of this.paramGroups) {
      const ids: number[] = [];
      for (const p of group.params) {
        const s = this.state.get(p);
        if (s !== undefined) {
          const buffers: Record<string, FloatStorage> = {};
          for (const [k, b] of Object.entries(s.buffers)) buffers[k] = b.slice();
          state[index] = { step: s.step, buffers };
        }
        ids.push(index++);
      }
      const hyper: Record<string, HyperValue> = {};
      for (const [k, v] of Object.entries(group)) {
        if (k === "params") continue;
        hyper[k] = Array.isArray(v) ? [...v] : (v as HyperValue);
      }
      paramGroups.push({ ...hyper, params: ids });
    }
    return { state, paramGroups };
  }

  /**
   * Restore a state written by stateDict() (of an optimizer of the same kind over parameters of the same
   * shapes, in the same groups). Everything is checked before anything changes; a mismatch throws and
   * leaves this optimizer as it was. Buffers are copied, converted to each parameter's dtype.
   */
  loadStateDict(sd: OptimizerStateDict): void {
    const op = `${this.name}.loadStateDict`;
    if (
      typeof sd !== "object" ||
      sd === null ||
      typeof sd.state !== "object" ||
      sd.state === null ||
      !Array.isArray(sd.paramGroups)
    ) {
      throw new ArgumentError(`${op}: expected { state, paramGroups } as written by stateDict()`);
    }
    if (sd.paramGroups.length !== this.paramGroups.length) {
      throw new ArgumentError(
        `${op}: the state dict has ${sd.paramGroups.length} parameter groups, this optimizer has ${this.paramGroups.length}`,
      );
    }
    // saved index -> our parameter, group by group, as PyTorch maps them
    const byId = new Map<number, { p: Tensor; group: number }>();
    const hypers: Record<string, unknown>[] = [];
    sd.paramGroups.forEach((saved, gi) => {
      const ours = this.paramGroups[gi]!;
      if (typeof saved !== "object" || saved === null || !Array.isArray(saved.params)) {
        throw new ArgumentError(`${op}: parameter group ${gi} of the state dict has no params list`);
      }
      if (saved.params.length !== ours.params.length) {
        throw new ArgumentError(
          `${op}: parameter group ${gi} of the state dict has ${saved.params.length} parameters, this optimizer's group ${gi} has ${ours.params.length}`,
        );
      }
      saved.params.forEach((id, j) => byId.set(id, { p: ours.params[j]!, group: gi }));
      const hyper: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(saved)) {
        if (k === "params") continue;
        if (!(k in this.defaults)) {
          throw new ArgumentError(
            `${op}: parameter group ${gi} of the state dict has the hyper-parameter ${JSON.stringify(k)}, which ${this.name} does not have (it has ${Object.keys(this.defaults).join(", ")})`,
          );
        }
        const want = (this.defaults as Record<string, unknown>)[k];
        const ok =
          want === undefined
            ? typeof v === "number"
            : Array.isArray(want)
              ? Array.isArray(v) && v.length === want.length && v.every((x) => typeof x === "number")
              : typeof v === typeof want;
        if (!ok)
          throw new ArgumentError(
            `${op}: hyper-parameter ${k} of parameter group ${gi} is ${JSON.stringify(v)}; expected a value like ${JSON.stringify(want)}`,
          );
        hyper[k] = Array.isArray(v) ? [...v] : v;
      }
      this.validate({ ...ours, ...hyper } as unknown as H, `${op}: parameter group ${gi}`);
      hypers.push(hyper);
    });

    const state = new Map<Tensor, ParamState>();
    for (const [key, entry] of Object.entries(sd.state)) {
      const id = Number(key);
      const target = byId.get(id);
      if (target === undefined)
        throw new ArgumentError(
          `${op}: the state dict has state for parameter ${key}, which is in none of its parameter groups`,
        );
      const { p } = target;
      if (typeof entry !== "object" || entry === null || !Number.isInteger(entry.step) || entry.step < 0) {
        throw new ArgumentError(
          `${op}: the state of parameter ${id} needs a step count (a non-negative integer), got ${JSON.stringify((entry as { step?: unknown })?.step)}`,
        );
      }
      const buffers: Record<string, FloatStorage> = {};
      for (const [name, b] of Object.entries(entry.buffers ?? {})) {
        if (!this.bufferNames.includes(name)) {
          throw new ArgumentError(
            `${op}: the state of parameter ${id} has a buffer ${JSON.stringify(name)}; ${this.name} keeps ${this.bufferNames.join(", ")}`,
          );
        }
        const isArray =
          b instanceof Float32Array ||
          b instanceof Float64Array ||
          (Array.isArray(b) && (b as unknown[]).every((x) => typeof x === "number"));
        if (!isArray)
          throw new ArgumentError(
            `${op}: buffer ${name} of parameter ${id} must be a Float32Array, Float64Array or number[]`,
          );
        if (b.length !== p.numel()) {
          throw new ShapeError(
            `${op}: buffer ${name} of parameter ${id} has ${b.length} elements, but the parameter has shape ${fmt(p.shape)} (${p.numel()} elements)`,
          );
        }
        const copy = p.dtype === "float32" ? new Float32Array(b.length) : new Float64Array(b.length);
        copy.set(b);
        buffers[name] = copy;
      }
      state.set(p, { step: entry.step, buffers });
    }

    // everything checked: apply
    this.paramGroups.forEach((g, gi) => Object.assign(g, hypers[gi]));
    this.state.clear();
    for (const [p, s] of state) this.state.set(p, s);
  }
}

/** Throw unless `value` is a finite number ≥ 0 (PyTorch's "Invalid learning rate" family of checks). */
export function checkNonNegative(where: string, name: string, value: unknown): void {
  if (typeof value !== "number" || !(value >= 0) || !Number.isFinite(value)) {
    throw new ArgumentError(`${where}: invalid ${name} ${JSON.stringify(value)}; expected a finite number ≥ 0`);
  }
}

/** Throw unless `value` is a number in [0, 1). */
export function checkUnitInterval(where: string, name: string, value: unknown): void {
  if (typeof value !== "number" || !(value >= 0 && value < 1)) {
    throw new ArgumentError(`${where}: invalid ${name} ${JSON.stringify(value)}; expected a number in [0, 1)`);
  }
}
