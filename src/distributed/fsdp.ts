// Fully sharded data parallelism: ZeRO stage 3 (P_os+g+p) — Rajbhandari et al. 2020, https://arxiv.org/abs/1910.02054
// section 5.3, as PyTorch builds it: FullyShardedDataParallel (Zhao et al. 2023, "PyTorch FSDP: Experiences on
// Scaling Fully Sharded Data Parallel", https://arxiv.org/abs/2304.11277).
//
// ZeRO-2 still keeps every parameter on every worker. FSDP shards the parameters too: the model is cut into
// units (the modules an auto-wrap policy selects, here the Transformer blocks, plus the root: what is left).
// Each unit's parameters of one optimizer group are packed into one FlatParameter, cut into N chunks; worker
// r keeps chunk r only, with its gradient and its optimizer state. Per worker, fp32 Adam:
//
//   ZeRO-2:  4Ψ   + 4Ψ/N + 8Ψ/N
//   FSDP:    4Ψ/N + 4Ψ/N + 8Ψ/N = 16Ψ/N      (the paper's 16Ψ/N with fp16 parameters and gradients)
//
// plus, for a moment, the whole parameters of the one unit that runs. One training step of a unit:
//
//   forward:   θ_u ← all-gather(θ_u,r)        the whole unit, for its forward
//              y = unit(x)
//              free θ_u                       only the shards stay (the graph keeps x and the activations)
//   backward:  θ_u ← all-gather(θ_u,r)        again, before the unit's backward (the pre-backward hook)
//              dx, g_u = backward of unit(x)
//              g_u,r ← reduce-scatter(g_u)/N  each worker keeps the averaged gradient of its chunk
//              free θ_u and g_u               (the post-backward hook)
//
// The root unit (embeddings, final norm, head) is gathered when forward starts and freed after its gradient
// is reduce-scattered (reduceGradients), as PyTorch keeps the root unsharded between forward and backward.
// Then the optimizer updates the shards: Adam is elementwise, so updating chunk by chunk is the arithmetic of
// one process, up to the float32 rounding of the gradient's ring sum. The optimizer sees each chunk cut at its
// parameters' borders (shards.ts, PyTorch's use_orig_params), each segment with its own step count; a parameter
// no worker has a gradient for (one small all-reduce in reduceGradients counts them) is skipped, as one process
// skips it.
//
// How a unit's backward runs at its place in the graph: the unit's forward records one node (as activation
// checkpointing does, src/nn/checkpoint.ts). With activation checkpointing the node keeps x only and computes
// the unit's forward again after the all-gather; without it, the unit's forward is recorded on a detached
// copy of x, and the node runs that inner graph's backward between the two hooks.
//
// A freed parameter's storage is a shape-only sentinel (src/engine/meta.ts): reading it throws, so no op can
// use a freed parameter silently.

import { enableGrad, noGrad, record } from "../engine/autograd.js";
import { ArgumentError } from "../engine/errors.js";
import { metaStorage } from "../engine/meta.js";
import { defaultGenerator } from "../engine/rng.js";
import { disposeIfResident } from "../engine/scope.js";
import { Tensor } from "../engine/tensor.js";
import { UnitArgs, forwardContext, type ModulePolicy } from "../nn/checkpoint.js";
import type { Module, Parameter } from "../nn/module.js";
import type { Optimizer } from "../optim/optimizer.js";
import { chunkRange, type Communicator } from "./collectives.js";
import { clipShardedGradNorm, packGradients, packParams, type Bucket } from "./ddp.js";
import {
  chunkValues,
  gatherShardState,
  gatherShards,
  makeShard,
  segmentParams,
  setChunkGrad,
  setChunkValues,
  unusedOnEveryWorker,
  type Shard,
} from "./shards.js";

export interface FSDPOptions {
  /** which submodules become units (PyTorch's auto_wrap_policy); default: none, the whole model is one unit */
  autoWrapPolicy?: ModulePolicy;
  /** recompute each wrapped unit's forward during backward instead of keeping its activations */
  activationCheckpointing?: boolean;
  /**
   * Parameters that share optimizer settings (e.g. weight decay on matrices only): a FlatParameter never mixes
   * two groups, so `paramGroups()` hands the optimizer one list per group. Default: one group.
   */
  paramGroups?: Parameter[][];
  /** start every worker from rank 0's parameters (PyTorch's sync_module_states); a collective. Default false. */
  syncModuleStates?: boolean;
}

/**
 * One FlatParameter: a run of a unit's parameters packed one after another; this worker holds chunk [start, end)
 * and its averaged gradient (summed over the backward passes since zeroGrad).
 */
type FlatParam = Shard & { grad: Float32Array | null };

interface Unit {
  /** the wrapped module's dotted name ("" for the root) */
  name: string;
  flats: FlatParam[];
  gathered: boolean;
}

export class FullyShardedDataParallel {
  readonly module: Module;
  readonly comm: Communicator;
  readonly activationCheckpointing: boolean;
  /** the root first, then the wrapped units in registration order */
  readonly units: Unit[];
  private readonly groupCount: number;
  /** each wrapped module and its own forward, given back by unwrap */
  private readonly originals: [Module, unknown][] = [];
  /** the parameters this worker had a gradient for since zeroGrad */
  private readonly having = new Set<Parameter>();

  constructor(module: Module, comm: Communicator, opts: FSDPOptions = {}) {
    const op = "FullyShardedDataParallel";
    this.module = module;
    this.comm = comm;
    this.activationCheckpointing = opts.activationCheckpointing ?? false;
    const all = module.parameters().filter((p) => p.requiresGrad);
    for (const p of all) {
      if (!(p.storage instanceof Float32Array))
        throw new ArgumentError(`${op}: parameters must be float32, got ${p.dtype} of shape (${p.shape.join(", ")})`);
    }
    const groups = opts.paramGroups ?? [all];
    this.groupCount = groups.length;
    const groupOf = new Map<Parameter, number>();
    groups.forEach((g, i) => g.forEach((p) => groupOf.set(p, i)));
    for (const p of all) {
      if (!groupOf.has(p))
        throw new ArgumentError(`${op}: the parameter of shape (${p.shape.join(", ")}) is in none of paramGroups`);
    }

    // the units: the outermost modules the policy selects; the root keeps the rest
    const wrapped: [string, Module][] = [];
    const policy = opts.autoWrapPolicy;
    if (policy) {
      for (const [name, m] of module.namedModules()) {
        if (name === "" || wrapped.some(([w]) => name.startsWith(w + "."))) continue;
        if (policy(m, name)) wrapped.push([name, m]);
      }
    }
    const owner = new Map<Parameter, string>();
    for (const [name, m] of wrapped) {
      for (const p of m.parameters()) {
        if (!p.requiresGrad) continue;
        const prev = owner.get(p);
        if (prev !== undefined)
          throw new ArgumentError(
            `${op}: a parameter of shape (${p.shape.join(", ")}) is shared by the units ${prev} and ${name}; shared parameters must belong to the root`,
          );
        owner.set(p, name);
      }
    }
    const unitOf = (name: string, params: Parameter[]): Unit => {
      const flats: FlatParam[] = [];
      for (let g = 0; g < groups.length; g++) {
        const ps = params.filter((p) => groupOf.get(p) === g);
        if (ps.length === 0) continue;
        const bucket: Bucket = { params: ps, elements: ps.reduce((n, p) => n + p.numel(), 0) };
        if (bucket.elements > comm.capacity) {
          throw new ArgumentError(
            `${op}: the unit ${name || "(root)"} has ${bucket.elements} elements in one flat parameter, more than the group's capacity of ${comm.capacity} per rank; launch with a larger capacity`,
          );
        }
        const [start, end] = chunkRange(bucket.elements, comm.worldSize, comm.rank);
        flats.push({ ...makeShard(bucket, g, start, end, new Float32Array(end - start)), grad: null });
      }
      return { name, flats, gathered: true };
    };
    this.units = [
      unitOf(
        "",
        all.filter((p) => !owner.has(p)),
      ),
      ...wrapped.map(([name, m]) =>
        unitOf(
          name,
          m.parameters().filter((p) => owner.has(p)),
        ),
      ),
    ];

    // shard: every worker keeps its chunk of every flat parameter (rank 0's values with syncModuleStates)
    const N = comm.worldSize;
    for (const u of this.units) {
      for (const f of u.flats) {
        const flat = new Float32Array(f.bucket.elements);
        packParams(f.bucket, flat);
        if (opts.syncModuleStates && N > 1) comm.broadcast(flat, 0);
        setChunkValues(f, flat.subarray(f.start, f.end));
      }
      this.free(u);
    }
    wrapped.forEach(([, m], i) => this.wrap(m, this.units[i + 1]!));
  }

  // -------------------------------------------------------------------------------------------------
  // What the optimizer sees

  /**
   * This worker's shards as the segments of their parameters (one Parameter per run of a parameter in a chunk), for
   * the optimizer: `new AdamW(fsdp.parameters())`.
   */
  parameters(): Parameter[] {
    return this.paramGroups().flat();
  }

  /** This worker's segments, one list per group of `paramGroups` (in that order). */
  paramGroups(): Parameter[][] {
    const out: Parameter[][] = Array.from({ length: this.groupCount }, () => []);
    for (const u of this.units) for (const f of u.flats) out[f.group]!.push(...segmentParams([f]));
    return out;
  }

  // -------------------------------------------------------------------------------------------------
  // Gather and free

  /** θ_u ← all-gather of every worker's chunk: the unit's parameters get their whole values. */
  private gather(u: Unit): void {
    if (u.gathered) return;
    for (const f of u.flats) {
      const flat = new Float32Array(f.bucket.elements); // (elements,) the whole FlatParameter
      this.comm.allGather(chunkValues(f), flat);
      let off = 0;
      for (const p of f.bucket.params) {
        p.replaceStorage(flat.subarray(off, off + p.numel())); // a view: the FlatParameter's memory
        off += p.numel();
      }
    }
    u.gathered = true;
  }

  /** Drop the unit's whole parameters: only the shard stays (a shape-only sentinel takes their place). */
  private free(u: Unit): void {
    for (const f of u.flats) for (const p of f.bucket.params) p.replaceStorage(metaStorage("float32", p.shape));
    u.gathered = false;
  }

  /**
   * g_u,r ← reduce-scatter(g_u) / N into the chunks' gradients; the unit's whole gradients are dropped (which
   * parameters had one is remembered for reduceGradients).
   */
  private reduceScatter(u: Unit): void {
    const N = this.comm.worldSize;
    for (const f of u.flats) {
      const flat = new Float32Array(f.bucket.elements);
      packGradients(f.bucket, flat); // (elements,) this worker's gradient of the whole FlatParameter
      const g = this.comm.reduceScatter(flat); // (end − start,) Σ_r g_r
      for (let i = 0; i < g.length; i++) g[i] = g[i]! / N;
      const old = f.grad;
      if (old) {
        // gradient accumulation over several backward passes
        for (let i = 0; i < g.length; i++) g[i] = old[i]! + g[i]!;
      }
      f.grad = g;
      for (const p of f.bucket.params) {
        if (p.grad) {
          this.having.add(p);
          disposeIfResident(p.grad, "FSDP reduce-scattered it");
        }
        p.grad = null;
      }
    }
  }

  /**
   * Replace the unit module's forward by the sharded one. The forward's first argument is the tensor to
   * differentiate; further tensors that need a gradient (a decoder block's encoder output, a position bias made by
   * the root) are the node's inputs too, read through leaves of their own (UnitArgs, src/nn/checkpoint.ts).
   */
  private wrap(m: Module, u: Unit): void {
    type Forward = (x: Tensor, ...rest: unknown[]) => Tensor;
    this.originals.push([m, (m as unknown as { forward: Forward }).forward]);
    const inner = (m as unknown as { forward: Forward }).forward.bind(m);
    const shards = segmentParams(u.flats);
    const sharded: Forward = (x, ...rest) => {
      if (!(x instanceof Tensor))
        throw new ArgumentError(`FullyShardedDataParallel: the unit ${u.name}'s forward must take a Tensor first`);
      const extra = new UnitArgs(rest);
      const rng = defaultGenerator.getState(); // checkpointing: the same dropout masks when it runs again
      const again = forwardContext(); // ... and this worker's share of them, its groups (backward runs outside forwardOnRows)
      this.gather(u);
      let y: Tensor,
        xd: Tensor | null = null,
        yd: Tensor | null = null,
        leaves: Tensor[] = [];
      try {
        if (this.activationCheckpointing)
          y = noGrad(() => inner(x.detach(), ...rest)); // keep only x
        else {
          xd = x.detach().requiresGrad_(x.requiresGrad);
          const fresh = extra.fresh();
          leaves = fresh.leaves;
          yd = inner(xd, ...fresh.args); // the unit's graph, on its own leaves (xd, the arguments, the whole parameters)
          y = new Tensor(yd.storage, yd.shape); // the same values; the node below stands for the unit's graph
        }
      } finally {
        this.free(u);
      }
      return record(`fsdp(${u.name})`, [x, ...extra.inputs, ...shards], y, (dy) => {
        this.gather(u); // pre-backward all-gather
        try {
          if (this.activationCheckpointing) {
            const after = defaultGenerator.getState();
            defaultGenerator.setState(rng);
            xd = x.detach().requiresGrad_(x.requiresGrad);
            const fresh = extra.fresh();
            leaves = fresh.leaves;
            try {
              yd = again(() => enableGrad(() => inner(xd!, ...fresh.args))); // the forward again, recorded
            } finally {
              defaultGenerator.setState(after);
            }
          }
          if (yd!.requiresGrad) yd!.backward(dy); // the unit's parameters get their whole gradients
          this.reduceScatter(u); // post-backward reduce-scatter
        } finally {
          this.free(u);
        }
        const dx = xd!.requiresGrad ? xd!.grad : null;
        const dArgs = leaves.map((l) => l.grad);
        xd = yd = null; // the unit's activations go with this node
        leaves = [];
        return [dx, ...dArgs, ...shards.map(() => null)];
      });
    };
    (m as unknown as { forward: Forward }).forward = sharded;
  }

  // -------------------------------------------------------------------------------------------------
  // The training step

  /** The model's forward: the root unit is gathered first (and stays so until reduceGradients). */
  forward<A extends unknown[], R>(...args: A): R {
    return this.run(() => (this.module as unknown as { forward: (...a: A) => R }).forward(...args));
  }

  /**
   * Runs fn, a forward the caller writes (any of the module's methods, a loss around them), with the root unit
   * gathered first (it stays so until reduceGradients, or reshard after an evaluation).
   */
  run<T>(fn: () => T): T {
    this.gather(this.units[0]!);
    return fn();
  }

  /**
   * After backward: the root's post-backward (its gradients reduce-scattered, its parameters freed; the wrapped
   * units did theirs during backward), then the chunks' gradients handed to their segments, none to a parameter
   * that no worker had a gradient for. Call it on every worker before the optimizer step.
   */
  reduceGradients(): void {
    const root = this.units[0]!;
    this.reduceScatter(root); // (reads the gradients only: a parameter without one counts as zeros)
    this.free(root);
    const flats = this.shards();
    const unused = unusedOnEveryWorker(
      this.comm,
      flats.flatMap((f) => f.bucket.params),
      (p) => this.having.has(p),
    );
    for (const f of flats) {
      if (f.grad) setChunkGrad(f, f.grad, unused);
      else for (const seg of f.segments) seg.param.grad = null;
    }
  }

  /**
   * Frees the root's parameters after a forward without backward (an evaluation under noGrad); the wrapped
   * units free theirs at once.
   */
  reshard(): void {
    this.free(this.units[0]!);
  }

  /**
   * Clip the global gradient norm of the shards to maxNorm (after reduceGradients); returns the norm before.
   * ‖g‖² = Σ_r ‖g_r‖² (one all-reduce of one number), then every shard is scaled by min(maxNorm/(‖g‖+1e-6), 1)
   * as clipGradNorm does.
   */
  clipGradNorm(maxNorm: number): number {
    return clipShardedGradNorm(this.parameters(), this.comm, maxNorm);
  }

  /** Forget the shards' gradients. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
    for (const u of this.units) for (const f of u.flats) f.grad = null;
    this.having.clear();
  }

  // -------------------------------------------------------------------------------------------------
  // Whole values (collectives: every worker must call them)

  /** This worker's shards of every FlatParameter (the root's first). */
  shards(): FlatParam[] {
    return this.units.flatMap((u) => u.flats);
  }

  /** Every trainable parameter's whole value, in the module's registration order (PyTorch's FULL_STATE_DICT). */
  fullParameters(): Map<Parameter, Float32Array> {
    return gatherShards(this.comm, this.shards(), chunkValues);
  }

  /** One optimizer buffer (e.g. AdamW's "expAvg") of every trainable parameter, gathered from all workers. */
  gatherState(optimizer: Optimizer<any>, name: string): Float32Array[] {
    const full = gatherShardState(this.comm, this.shards(), optimizer, name);
    return this.module
      .parameters()
      .filter((p) => full.has(p))
      .map((p) => full.get(p)!);
  }

  /**
   * Runs fn with every unit's whole parameters in the module (PyTorch's summon_full_params), then frees them
   * again. A collective.
   */
  summonFullParams<T>(fn: () => T): T {
    for (const u of this.units) this.gather(u);
    try {
      return fn();
    } finally {
      for (const u of this.units) this.free(u);
    }
  }

  /**
   * Give each wrapped module its own forward back, after the whole parameters were put back in the module (a
   * recipe's wholeModel): the module then runs without the group (decoding, the next phase's own FSDP). The
   * sharded training does not go on after it.
   */
  unwrap(): void {
    for (const [m, forward] of this.originals) (m as unknown as { forward: unknown }).forward = forward;
    this.originals.length = 0;
  }

  /** Bytes this worker holds between steps: its parameter shards and their gradients (float32). */
  heldBytes(): { params: number; grads: number; largestUnit: number } {
    let params = 0,
      grads = 0,
      largestUnit = 0;
    for (const u of this.units) {
      let unit = 0;
      for (const f of u.flats) {
        params += 4 * (f.end - f.start);
        if (f.grad) grads += 4 * f.grad.length;
        unit += 4 * f.bucket.elements;
      }
      largestUnit = Math.max(largestUnit, unit);
    }
    return { params, grads, largestUnit };
  }
}
