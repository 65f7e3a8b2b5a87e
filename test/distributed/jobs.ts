// Functions the distributed tests run inside launch()'s workers (each worker imports this module).
import { chunkRange, type Communicator } from "../../src/distributed/collectives.js";

/** Rank r's deterministic input of n elements, with magnitudes spread over 7 decades so that order matters. */
export function inputOf(rank: number, n: number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.sin(rank * 1000.5 + i * 0.37) * 10 ** ((i % 7) - 3);
  return x;
}

export interface CollectiveResults {
  n: number;
  allReduce: Float32Array;
  reduceScatter: Float32Array | null;
  allGather: Float32Array | null;
  broadcast: Float32Array;
}

/** Every collective on each size; reduce-scatter and all-gather only where n fits one segment. */
export function collectivesJob(comm: Communicator, args: { sizes: number[] }): CollectiveResults[] {
  const out: CollectiveResults[] = [];
  for (const n of args.sizes) {
    const ar = inputOf(comm.rank, n);
    comm.allReduce(ar);
    let rs: Float32Array | null = null,
      ag: Float32Array | null = null;
    if (n <= comm.capacity) {
      rs = comm.reduceScatter(inputOf(comm.rank, n));
      // gather the reduced shards back: every rank must end with the whole sum
      ag = new Float32Array(n);
      comm.allGather(rs, ag);
    }
    const bc = comm.rank === comm.worldSize - 1 ? inputOf(comm.rank, n) : new Float32Array(n);
    comm.broadcast(bc, comm.worldSize - 1);
    out.push({ n, allReduce: ar, reduceScatter: rs, allGather: ag, broadcast: bc });
  }
  return out;
}

/** Rank `bad` throws before the first collective; the others must stop with a CollectiveError. */
export function throwingJob(comm: Communicator, args: { bad: number }): number {
  if (comm.rank === args.bad) throw new RangeError(`rank ${comm.rank} cannot go on`);
  const x = new Float32Array(10).fill(1);
  for (let i = 0; i < 3; i++) comm.allReduce(x);
  return x[0]!;
}

/** Rank `bad` never reaches the collective (blocked); the others time out with a CollectiveError. */
export function hangingJob(comm: Communicator, args: { bad: number }): number {
  if (comm.rank === args.bad) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
  comm.barrier();
  return comm.rank;
}

export { chunkRange };

// ---- data-parallel training -----------------------------------------------------------------------------

import * as wnn from "../../src/index.js";
import { DistributedDataParallel } from "../../src/distributed/ddp.js";
import { ZeRO1 } from "../../src/distributed/zero1.js";
import { ZeRO2 } from "../../src/distributed/zero2.js";
import { FullyShardedDataParallel } from "../../src/distributed/fsdp.js";

export type Strategy = "ddp" | "zero1" | "zero2" | "fsdp" | "fsdp-ac";

export interface TrainResult {
  /** the global batch's mean loss at every step (the mean of the workers' losses) */
  losses: number[];
  /** every parameter after the last step, in registration order */
  params: Float32Array[];
  /** AdamW's moments per parameter after the last step */
  expAvg: Float32Array[];
  expAvgSq: Float32Array[];
  /** float32 elements of optimizer state this worker holds */
  stateElements: number;
}

/**
 * 20 AdamW steps of a small MLP classifier on a seeded global batch of B examples, of which this worker
 * takes rows [r·B/N, (r+1)·B/N). With one worker, this is plain single-process training.
 */
export function ddpTrainJob(
  comm: Communicator,
  args: { steps: number; batch: number; bucketElements: number; strategy?: Strategy; noSync?: boolean },
): TrainResult {
  const { steps, batch: B } = args;
  const N = comm.worldSize;
  if (B % N !== 0) throw new RangeError(`the global batch ${B} must split evenly over ${N} workers`);
  const b = B / N;
  const D = 12,
    H = 20,
    K = 5;
  // every worker builds the model from a different seed: broadcastParameters makes them equal to rank 0's
  wnn.manualSeed(comm.rank === 0 ? 0 : 100 + comm.rank);
  const model = new wnn.nn.Sequential(
    new wnn.nn.Linear(D, H),
    new wnn.nn.Tanh(),
    new wnn.nn.Linear(H, H),
    new wnn.nn.GELU(),
    new wnn.nn.Linear(H, K),
  );
  const strategy = args.strategy ?? "ddp";
  const makeOpt = (params: wnn.nn.Parameter[]) => new wnn.optim.AdamW(params, { lr: 1e-2, weightDecay: 0.1 });
  const ddp =
    strategy === "ddp" ? new DistributedDataParallel(model, comm, { bucketElements: args.bucketElements }) : null;
  const zero =
    strategy === "zero1"
      ? new ZeRO1(model, comm, makeOpt, { bucketElements: args.bucketElements })
      : strategy === "zero2"
        ? new ZeRO2(model, comm, makeOpt, { bucketElements: args.bucketElements })
        : null;
  // FSDP: every Linear is a unit (the root holds no parameter); "fsdp-ac" also recomputes each one in backward
  const fsdp = strategy.startsWith("fsdp")
    ? new FullyShardedDataParallel(model, comm, {
        autoWrapPolicy: wnn.nn.moduleClassPolicy(wnn.nn.Linear),
        activationCheckpointing: strategy === "fsdp-ac",
        syncModuleStates: true,
      })
    : null;
  if (!fsdp) (ddp ?? zero)!.broadcastParameters();
  const opt = ddp ? makeOpt(model.parameters()) : fsdp ? makeOpt(fsdp.parameters()) : null;
  const gen = new wnn.Generator(7); // the data: the same global batches on every worker
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    const x = wnn.randn([B, D], { generator: gen }); // (B, D)
    const y = x.narrow(1, 0, K).argmax(1); // (B,) a learnable rule: the class is the largest of the first K features
    const xr = x.narrow(0, comm.rank * b, b); // (b, D)
    const yr = y.narrow(0, comm.rank * b, b); // (b,)
    const loss = wnn.nn.functional.crossEntropy(
      fsdp ? fsdp.forward<[wnn.Tensor], wnn.Tensor>(xr) : model.forward(xr),
      yr,
    );
    loss.backward();
    if (fsdp) {
      fsdp.reduceGradients();
      opt!.step();
      opt!.zeroGrad();
      fsdp.zeroGrad();
    } else if (opt && ddp) {
      if (!args.noSync) ddp!.allReduceGradients(); // noSync: the control that shows what the all-reduce does
      opt.step();
      opt.zeroGrad();
    } else {
      zero!.step();
      zero!.zeroGrad();
    }
    const l = new Float32Array([loss.item()]);
    comm.allReduce(l);
    losses.push(l[0]! / N);
  }
  const params = model.parameters();
  const st = (name: string): Float32Array[] =>
    fsdp
      ? fsdp.gatherState(opt!, name)
      : opt
        ? params.map((p) => Float32Array.from(opt.getState(p)!.buffers[name]!))
        : zero!.gatherState(name);
  const full = fsdp?.fullParameters();
  const own = opt ?? zero!.optimizer;
  const stateElements = Object.values(own.stateDict().state).reduce(
    (n, s) => n + Object.values(s.buffers).reduce((m, b) => m + b.length, 0),
    0,
  );
  return {
    losses,
    params: params.map((p) => (full ? full.get(p)! : Float32Array.from(p.storage as Float32Array))),
    expAvg: st("expAvg"),
    expAvgSq: st("expAvgSq"),
    stateElements,
  };
}

// ---- FSDP on a small GPT -------------------------------------------------------------------------------

import { Block, GPT } from "../../src/models/gpt2/model.js";

export const FSDP_GPT = { vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 16, dropout: 0, bias: false };

export interface FsdpResult extends TrainResult {
  /** bytes this worker holds between steps: parameter shards, their gradients (before zeroGrad), the largest unit gathered */
  held: { params: number; grads: number; largestUnit: number };
  /** Ψ, the model's trainable parameters */
  psi: number;
}

/**
 * AdamW steps of a 2-block GPT on a seeded global batch of B sequences, this worker taking rows [r·B/N, (r+1)·B/N);
 * weight decay on matrices only (two parameter groups). `fsdp: false` is one process training the whole batch
 * (N must be 1), its rows rotated by `rotate`; `checkpointing` recomputes each block in backward.
 */
export function fsdpTrainJob(
  comm: Communicator,
  args: { steps: number; batch: number; fsdp: boolean; checkpointing?: boolean; lr?: number; rotate?: number },
): FsdpResult {
  const N = comm.worldSize,
    B = args.batch,
    b = B / N,
    T = FSDP_GPT.blockSize;
  wnn.manualSeed(comm.rank === 0 ? 0 : 100 + comm.rank); // syncModuleStates makes them rank 0's
  const model = new GPT(FSDP_GPT);
  const all = model.parameters();
  const groups = [all.filter((p) => p.ndim >= 2), all.filter((p) => p.ndim < 2)];
  const fsdp = args.fsdp
    ? new FullyShardedDataParallel(model, comm, {
        autoWrapPolicy: wnn.nn.moduleClassPolicy(Block),
        activationCheckpointing: args.checkpointing,
        paramGroups: groups,
        syncModuleStates: true,
      })
    : null;
  if (!fsdp && args.checkpointing) wnn.nn.applyActivationCheckpointing(model, wnn.nn.moduleClassPolicy(Block));
  const [decay, noDecay] = fsdp ? fsdp.paramGroups() : groups;
  const opt = new wnn.optim.AdamW(
    [
      { params: decay!, weightDecay: 0.1 },
      { params: noDecay!, weightDecay: 0 },
    ],
    { lr: args.lr ?? 1e-3 },
  );
  const gen = new wnn.Generator(7);
  const losses: number[] = [];
  let held = { params: 0, grads: 0, largestUnit: 0 };
  for (let step = 0; step < args.steps; step++) {
    // (B, T+1) the same on every worker: counting from a random start, mod V (a sequence the model can learn)
    const drawn = wnn.randint(0, FSDP_GPT.vocabSize, [B], { generator: gen }).toArray() as number[];
    // `rotate` k: the same sequences in another order (one process only: the same batch, summed in another order)
    const k = args.rotate ?? 0;
    const starts = [...drawn.slice(k), ...drawn.slice(0, k)];
    const idx = wnn.tensor(
      Int32Array.from(
        { length: B * (T + 1) },
        (_, i) => (starts[Math.floor(i / (T + 1))]! + (i % (T + 1))) % FSDP_GPT.vocabSize,
      ),
      { shape: [B, T + 1] },
    );
    const mine = idx.narrow(0, comm.rank * b, b); // (b, T+1)
    const x = mine.narrow(1, 0, T),
      y = mine.narrow(1, 1, T);
    const { loss } = fsdp ? fsdp.forward<[wnn.Tensor, wnn.Tensor], { loss: wnn.Tensor }>(x, y) : model.forward(x, y);
    loss!.backward();
    if (fsdp) {
      fsdp.reduceGradients();
      held = fsdp.heldBytes();
    }
    opt.step();
    opt.zeroGrad();
    if (fsdp) fsdp.zeroGrad();
    const l = new Float32Array([loss!.item()]);
    comm.allReduce(l);
    losses.push(l[0]! / N);
  }
  const st = (name: string): Float32Array[] =>
    fsdp ? fsdp.gatherState(opt, name) : all.map((p) => Float32Array.from(opt.getState(p)!.buffers[name]!));
  const full = fsdp?.fullParameters();
  const params = all.map((p) => (full ? full.get(p)! : Float32Array.from(p.storage as Float32Array)));
  const stateElements = Object.values(opt.stateDict().state).reduce(
    (n, s) => n + Object.values(s.buffers).reduce((m, x) => m + x.length, 0),
    0,
  );
  return {
    losses,
    params,
    expAvg: st("expAvg"),
    expAvgSq: st("expAvgSq"),
    stateElements,
    held,
    psi: all.reduce((n, p) => n + p.numel(), 0),
  };
}

// ---- sharded checkpoints -----------------------------------------------------------------------------------

import { gptConfig } from "../../src/models/gpt2/model.js";
import { ParallelGPTTrainer } from "../../src/recipes/gpt-parallel.js";
import type { StrategyName } from "../../src/distributed/data-parallel.js";
import { loadShardedCheckpoint, saveShardedCheckpoint } from "../../src/distributed/sharded-checkpoint-node.js";
import { toCheckpoint } from "../../src/distributed/sharded-checkpoint.js";
import type { LoadedCheckpoint } from "../../src/io/checkpoint.js";

const SHARD_GPT = gptConfig("tiny", { vocabSize: 11, nLayer: 2, nHead: 2, nEmbd: 16, blockSize: 8, dropout: 0 });
const SHARD_TRAIN = {
  batchSize: 4,
  lr: 1e-2,
  minLr: 1e-3,
  warmupIters: 2,
  lrDecayIters: 6,
  iters: 6,
  evalInterval: 100,
  evalIters: 1,
  weightDecay: 0.1,
  beta1: 0.9,
  beta2: 0.99,
  gradClip: 1,
  seed: 3,
};
/** a token stream the model can learn: counting mod 11 with a skip every 7 tokens */
const shardData = () => {
  const t = Int32Array.from({ length: 600 }, (_, i) => (i + Math.floor(i / 7)) % 11);
  return { train: t, val: t.slice(0, 100) };
};

/**
 * GPT-recipe steps on this worker's slice; `resume`: start from the sharded checkpoint in dir; `save`: write one
 * after the steps (`die`: rank 1 exits its thread in the middle of that save).
 */
export function shardedJob(
  comm: Communicator,
  a: { dir: string; strategy: StrategyName; steps: number; resume?: boolean; save?: boolean; die?: boolean },
): number[] {
  const opts = { strategy: a.strategy };
  const job = a.resume
    ? ParallelGPTTrainer.fromCheckpoint(
        toCheckpoint(loadShardedCheckpoint(a.dir).index, loadShardedCheckpoint(a.dir)) as LoadedCheckpoint,
        shardData(),
        {},
        comm,
        opts,
      )
    : ParallelGPTTrainer.create(SHARD_GPT, SHARD_TRAIN, shardData(), comm, opts);
  const losses: number[] = [];
  for (let i = 0; i < a.steps; i++) losses.push(job.trainStep().loss);
  if (a.save) {
    const { tensors, index } = job.shardedCheckpoint({});
    saveShardedCheckpoint(a.dir, comm, tensors, index, {
      beforeWrite: a.die && comm.rank === 1 ? () => process.exit(1) : undefined,
    });
  }
  return losses;
}

// ---- a parameter unused in some steps ------------------------------------------------------------------

import { DataParallel } from "../../src/distributed/data-parallel.js";
import type { OptimizerStateDict } from "../../src/optim/optimizer.js";

/** Two experts behind one input layer; expert b serves only the rows `useB` picks (a mixture's routing, fixed). */
class TwoExperts extends wnn.nn.Module {
  a: wnn.nn.Linear;
  b: wnn.nn.Linear;
  constructor(H: number, K: number) {
    super();
    this.a = new wnn.nn.Linear(H, K);
    this.b = new wnn.nn.Linear(H, K);
  }
  /** h (b, H), mask (b, 1) of 0/1 or null (no row of this worker uses b: b is not run at all) */
  forward(h: wnn.Tensor, mask: wnn.Tensor | null): wnn.Tensor {
    const y = this.a.forward(h);
    return mask ? y.add(this.b.forward(h).mul(mask)) : y;
  }
}

class Routed extends wnn.nn.Module {
  inp: wnn.nn.Linear;
  experts: TwoExperts;
  constructor(D: number, H: number, K: number) {
    super();
    this.inp = new wnn.nn.Linear(D, H);
    this.experts = new TwoExperts(H, K);
  }
  forward(x: wnn.Tensor, mask: wnn.Tensor | null): wnn.Tensor {
    return this.experts.forward(this.inp.forward(x).tanh(), mask);
  }
}

/** Of the global batch of 8 rows at step s, those expert b serves: none (s ≡ 0 mod 3), rows 0–1 (≡ 1), all (≡ 2). */
export const usesB = (s: number, row: number): boolean => (s % 3 === 1 ? row < 2 : s % 3 === 2);

export interface UnusedResult {
  losses: number[];
  /** every parameter and its AdamW state as one process holds them (consolidated), by name */
  params: Record<string, Float32Array>;
  steps: Record<string, number>;
  expAvg: Record<string, Float32Array>;
  expAvgSq: Record<string, Float32Array>;
}

/**
 * Steps `from` … `to` − 1 of AdamW (weight decay 0.1) on a global batch of 8 rows, this worker's rows only, the
 * model built from a fixed seed (or from the sharded checkpoint in `dir`, with `resume`), through DataParallel
 * with `strategy` (FSDP: the experts one unit); `save` writes a sharded checkpoint after the last step.
 */
export function unusedParamJob(
  comm: Communicator,
  a: { strategy: StrategyName; from: number; to: number; dir?: string; save?: boolean; resume?: boolean },
): UnusedResult {
  const B = 8,
    D = 6,
    H = 10,
    K = 3,
    N = comm.worldSize,
    b = B / N;
  wnn.manualSeed(0);
  const model = new Routed(D, H, K);
  const opt = new wnn.optim.AdamW(model.parameters(), { lr: 2e-2, weightDecay: 0.1 });
  if (a.resume) {
    const saved = loadShardedCheckpoint(a.dir!);
    model.loadStateDict(saved.model);
    opt.loadStateDict(saved.optimizer);
  }
  const dp = new DataParallel(model, opt, comm, {
    strategy: a.strategy,
    autoWrapPolicy: wnn.nn.moduleClassPolicy(TwoExperts),
  });
  if (a.resume) dp.loadFromWhole();
  const losses: number[] = [];
  for (let s = a.from; s < a.to; s++) {
    const gen = new wnn.Generator(1000 + s); // step s's global batch, the same on every worker
    const x = wnn.randn([B, D], { generator: gen });
    const y = wnn.randint(0, K, [B], { generator: gen });
    const rows = Array.from({ length: b }, (_, i) => comm.rank * b + i);
    const use = rows.map((r) => (usesB(s, r) ? 1 : 0));
    const mask = use.some((u) => u) ? wnn.tensor(Float32Array.from(use), { shape: [b, 1] }) : null;
    const logits = dp.forward<[wnn.Tensor, wnn.Tensor | null], wnn.Tensor>(x.narrow(0, comm.rank * b, b), mask);
    const loss = wnn.nn.functional.crossEntropy(logits, y.narrow(0, comm.rank * b, b));
    losses.push(dp.mean(loss.item()));
    loss.backward();
    dp.reduceGradients();
    dp.step();
  }
  const names = model.namedParameters();
  const out = dp.consolidate(() => {
    const sd: OptimizerStateDict = opt.stateDict();
    const order = opt.paramGroups.flatMap((g) => g.params);
    const res: UnusedResult = { losses, params: {}, steps: {}, expAvg: {}, expAvgSq: {} };
    for (const [name, p] of names) {
      res.params[name] = Float32Array.from(p.storage as Float32Array);
      const st = sd.state[order.indexOf(p)];
      res.steps[name] = st?.step ?? 0;
      if (st) {
        res.expAvg[name] = Float32Array.from(st.buffers.expAvg!);
        res.expAvgSq[name] = Float32Array.from(st.buffers.expAvgSq!);
      }
    }
    return res;
  });
  if (a.save) {
    const { tensors, index } = dp.shardedCheckpoint(() => ({ step: a.to }));
    saveShardedCheckpoint(a.dir!, comm, tensors, index);
  }
  return out;
}
