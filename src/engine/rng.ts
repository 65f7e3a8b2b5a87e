// A seeded random number generator: xoshiro128** (Blackman & Vigna 2018), seeded through splitmix32.
// Everything random in the library (randn, dropout masks, data sampling) draws from a Generator, so a
// run is reproducible from its seed, and a Generator's state can be saved into a checkpoint and restored.
// It does not reproduce PyTorch's stream (Mersenne Twister + Philox); parity tests pass tensors instead.

import { ArgumentError } from "./errors.js";

export interface GeneratorState {
  /** The four 32-bit words of xoshiro128**. */
  s: [number, number, number, number];
  /** The second normal deviate of the last Box–Muller pair, kept so a restored stream continues exactly. */
  spare: number | null;
}

export class Generator {
  private s = new Uint32Array(4);
  private spare: number | null = null;

  constructor(seed = 0) {
    this.manualSeed(seed);
  }

  manualSeed(seed: number): this {
    // splitmix32 spreads any seed (including 0) over the 128-bit state.
    let z = (Math.trunc(seed) >>> 0) ^ Math.floor(Math.abs(seed) / 2 ** 32);
    for (let i = 0; i < 4; i++) {
      z = (z + 0x9e3779b9) >>> 0;
      let t = z;
      t = Math.imul(t ^ (t >>> 16), 0x85ebca6b) >>> 0;
      t = Math.imul(t ^ (t >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (t ^ (t >>> 16)) >>> 0;
    }
    this.spare = null;
    return this;
  }

  getState(): GeneratorState {
    return { s: [this.s[0]!, this.s[1]!, this.s[2]!, this.s[3]!], spare: this.spare };
  }

  setState(state: GeneratorState): this {
    // all zeros is xoshiro's fixed point: every draw would be 0 and normal() would look for a nonzero u forever
    if (state.s.every((w) => w >>> 0 === 0))
      throw new ArgumentError(
        "Generator.setState: the state's four words are all 0, a state xoshiro128** never leaves",
      );
    for (let i = 0; i < 4; i++) this.s[i] = state.s[i]! >>> 0;
    this.spare = state.spare;
    return this;
  }

  /** The next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  random(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Standard normal deviate (Box–Muller; the pair's second value is kept for the next call). */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.random();
    const v = this.random();
    // r = √(−2 ln u),  (r cos 2πv, r sin 2πv) are two independent N(0, 1) deviates
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Uniform integer in [low, high). */
  randint(low: number, high: number): number {
    return low + Math.floor(this.random() * (high - low));
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** The default generator used when an op is not given one. */
export const defaultGenerator = new Generator(0);

/** Seed the default generator (PyTorch's `torch.manual_seed`). */
export function manualSeed(seed: number): Generator {
  return defaultGenerator.manualSeed(seed);
}

// ---------------------------------------------------------------------------------------------------
// Dropout's draws on N data-parallel workers
//
// One process drawing a dropout mask for a batch of B rows (batch the outermost dimension) draws n·N uniforms,
// row after row. Worker r of N holds the rank-th block of B/N rows, so it draws the same n·N uniforms and keeps
// block r: [r·n, (r+1)·n). Its rows get the masks one process gives them, and every worker's generator ends
// where one process's does.

let share = { rank: 0, worldSize: 1 };

/**
 * Run fn (a forward on this worker's rows of the batch) with the dropout draws of worker `rank` of `worldSize`:
 * each dropout mask drawn inside is this worker's block of the mask one process draws for the whole batch.
 */
export function withDrawShare<T>(rank: number, worldSize: number, fn: () => T): T {
  const saved = share;
  share = { rank, worldSize };
  try {
    return fn();
  } finally {
    share = saved;
  }
}

/** The draws' share in force: {rank, worldSize} of withDrawShare, {0, 1} outside (activation checkpointing keeps it). */
export function drawShare(): { readonly rank: number; readonly worldSize: number } {
  return share;
}

/** True inside withDrawShare with more than one worker: drawShared must be used for dropout masks. */
export function drawsShared(): boolean {
  return share.worldSize > 1;
}

/** n uniforms in [0, 1): this worker's block of the n·worldSize one process draws (the n it would draw alone). */
export function drawShared(g: Generator, n: number): Float64Array {
  const { rank, worldSize } = share;
  const u = new Float64Array(n);
  for (let i = 0; i < rank * n; i++) g.random();
  for (let i = 0; i < n; i++) u[i] = g.random();
  for (let i = 0; i < (worldSize - 1 - rank) * n; i++) g.random();
  return u;
}
