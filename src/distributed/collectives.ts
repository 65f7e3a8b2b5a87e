// Collective communication written by hand over one SharedArrayBuffer and Atomics: barrier, broadcast,
// ring all-reduce, reduce-scatter and all-gather between N workers (threads) of one machine.
// Browser-safe: nothing here spawns a thread; the platform's launcher (launch-node.ts for Node's
// worker_threads, Web Workers in a browser) hands every worker the same buffer and its rank.
//
// Layout of the shared buffer (world size N, capacity C float32 elements per rank):
//
//   Int32 control words  [COUNT, GEN, ABORT, pad]         the barrier's arrival count and generation, the abort flag
//   Float32 segments     seg[0] | seg[1] | ... | seg[N−1]  C elements each; seg[r] is written only by rank r
//
// Every collective is a sequence of steps separated by barriers. In a step, rank r writes only its own
// segment and reads only its left neighbour's, seg[r−1 mod N] — a ring, as in Baidu's ring all-reduce
// (Gibiansky 2017; Patarasuk & Yuan 2009): each rank sends 2(N−1)/N of the data whatever N is.
//
// Chunks: a buffer of n elements is cut into N chunks, chunk c = [⌊c·n/N⌋, ⌊(c+1)·n/N⌋), so sizes that N
// does not divide (and n < N, with empty chunks) need no padding. Rank r owns chunk r.
//
// Reduction order is fixed, never timing-dependent: chunk c is summed around the ring starting at
// rank c+1,   Σ_c = ((x_{c+1} + x_{c+2}) + …) + x_c   (indices mod N, float32 after every addition),
// so a run is bit-identical to the next one and to ringSumReference() below. A buffer longer than a
// segment goes round the ring in pieces of `capacity` elements, each cut into its own N chunks.

import { ArgumentError, WnnError } from "../engine/errors.js";

/** A collective could not complete: another worker failed (aborted) or did not arrive in time. */
export class CollectiveError extends WnnError {
  /** true when this rank stopped because another one had already failed (not the cause itself) */
  readonly followsAbort: boolean;
  constructor(message: string, followsAbort = false) {
    super(message);
    this.followsAbort = followsAbort;
  }
}

const COUNT = 0;
const GEN = 1;
const ABORT = 2;
const CTL_WORDS = 4; // 16 bytes, so the float32 segments start aligned
const CTL_BYTES = CTL_WORDS * 4;

/** Bytes of the shared buffer for N ranks with `capacity` float32 elements each. */
export function sharedBytes(worldSize: number, capacity: number): number {
  return CTL_BYTES + worldSize * capacity * 4;
}

/** The one buffer every worker of a group shares (created once, by the launcher). */
export function createSharedBuffer(worldSize: number, capacity: number): SharedArrayBuffer {
  checkWorld("createSharedBuffer", worldSize, 0);
  if (!Number.isInteger(capacity) || capacity < 1)
    throw new ArgumentError(
      `createSharedBuffer: capacity must be a positive integer of float32 elements, got ${capacity}`,
    );
  return new SharedArrayBuffer(sharedBytes(worldSize, capacity));
}

function checkWorld(op: string, worldSize: number, rank: number): void {
  if (!Number.isInteger(worldSize) || worldSize < 1)
    throw new ArgumentError(`${op}: world size must be a positive integer, got ${worldSize}`);
  if (!Number.isInteger(rank) || rank < 0 || rank >= worldSize)
    throw new ArgumentError(`${op}: rank must be an integer in [0, ${worldSize}), got ${rank}`);
}

/** Start and end of chunk c of n elements cut into N chunks. */
export function chunkRange(n: number, worldSize: number, c: number): [number, number] {
  return [Math.floor((c * n) / worldSize), Math.floor(((c + 1) * n) / worldSize)];
}

export interface CommunicatorOptions {
  /** How long one wait may last before the collective fails with a CollectiveError (default 5 min: a slow rank's step must fit). */
  timeoutMs?: number;
}

/** One rank's handle on the group: every collective must be called by all ranks, in the same order. */
export class Communicator {
  readonly rank: number;
  readonly worldSize: number;
  /** float32 elements of one rank's segment: the largest reduce-scatter / all-gather, and the piece size of the others */
  readonly capacity: number;
  readonly timeoutMs: number;
  /** float32 elements this rank has copied out of other ranks' segments (the traffic a network would carry) */
  elementsReceived = 0;
  /** the same, by the collective that moved them */
  readonly receivedBy = { broadcast: 0, allReduce: 0, reduceScatter: 0, allGather: 0 };
  private readonly ctl: Int32Array;
  private readonly seg: Float32Array[];

  constructor(buffer: SharedArrayBuffer, rank: number, worldSize: number, opts: CommunicatorOptions = {}) {
    checkWorld("Communicator", worldSize, rank);
    const capacity = (buffer.byteLength - CTL_BYTES) / 4 / worldSize;
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new ArgumentError(
        `Communicator: a shared buffer of ${buffer.byteLength} bytes does not hold ${worldSize} segments (expected sharedBytes(worldSize, capacity))`,
      );
    }
    this.rank = rank;
    this.worldSize = worldSize;
    this.capacity = capacity;
    this.timeoutMs = opts.timeoutMs ?? 300_000;
    this.ctl = new Int32Array(buffer, 0, CTL_WORDS);
    this.seg = Array.from(
      { length: worldSize },
      (_, r) => new Float32Array(buffer, CTL_BYTES + r * capacity * 4, capacity),
    );
  }

  /** Marks the group failed and wakes every waiting rank; their collectives throw CollectiveError. */
  abort(): void {
    Atomics.store(this.ctl, ABORT, 1);
    Atomics.add(this.ctl, GEN, 1);
    Atomics.notify(this.ctl, GEN);
  }

  get aborted(): boolean {
    return Atomics.load(this.ctl, ABORT) !== 0;
  }

  /**
   * Waits until all N ranks have arrived (a generation-counting barrier: the last to arrive resets the
   * count and advances the generation). Throws CollectiveError when the group was aborted or a rank does
   * not arrive within timeoutMs.
   */
  barrier(): void {
    const ctl = this.ctl;
    this.checkAbort("barrier");
    const gen = Atomics.load(ctl, GEN);
    if (Atomics.add(ctl, COUNT, 1) === this.worldSize - 1) {
      Atomics.store(ctl, COUNT, 0);
      Atomics.add(ctl, GEN, 1);
      Atomics.notify(ctl, GEN);
      return;
    }
    const deadline = Date.now() + this.timeoutMs;
    while (Atomics.load(ctl, GEN) === gen) {
      const left = deadline - Date.now();
      if (left <= 0) {
        this.abort();
        throw new CollectiveError(
          `barrier: rank ${this.rank} of ${this.worldSize} waited ${this.timeoutMs} ms and not every rank arrived (a worker hangs or died); the group is aborted`,
        );
      }
      Atomics.wait(ctl, GEN, gen, left);
    }
    this.checkAbort("barrier");
  }

  private checkAbort(op: string): void {
    if (this.aborted)
      throw new CollectiveError(
        `${op}: rank ${this.rank} of ${this.worldSize} stops because another worker failed (the group is aborted)`,
        true,
      );
  }

  /** Every rank ends with root's values in `buf` (the same length on every rank). */
  broadcast(buf: Float32Array, root = 0): void {
    checkWorld("broadcast", this.worldSize, root);
    const before = this.elementsReceived;
    for (let off = 0; off < buf.length || off === 0; off += this.capacity) {
      const piece = buf.subarray(off, Math.min(buf.length, off + this.capacity));
      if (this.rank === root) this.seg[root]!.set(piece);
      this.barrier(); // root's piece is in its segment
      if (this.rank !== root) {
        piece.set(this.seg[root]!.subarray(0, piece.length));
        this.elementsReceived += piece.length;
      }
      this.barrier(); // every rank has read it: root may overwrite its segment
      if (buf.length === 0) break;
    }
    this.receivedBy.broadcast += this.elementsReceived - before;
  }

  /** buf ← Σ over ranks of buf, in place, the same bits on every rank (ring: reduce-scatter, then all-gather). */
  allReduce(buf: Float32Array): void {
    const before = this.elementsReceived;
    for (let off = 0; off < buf.length || off === 0; off += this.capacity) {
      const piece = buf.subarray(off, Math.min(buf.length, off + this.capacity));
      const mine = this.seg[this.rank]!;
      mine.set(piece);
      this.ringReduceScatter(piece.length);
      this.ringAllGather(piece.length);
      piece.set(mine.subarray(0, piece.length));
      if (buf.length === 0) break;
    }
    this.receivedBy.allReduce += this.elementsReceived - before;
  }

  /**
   * Σ over ranks of `buf` (n elements, n ≤ capacity), of which this rank keeps only its chunk: returns
   * a new array of chunkRange(n, N, rank) elements.
   */
  reduceScatter(buf: Float32Array): Float32Array {
    this.checkFits("reduceScatter", buf.length);
    const mine = this.seg[this.rank]!;
    mine.set(buf);
    const before = this.elementsReceived;
    this.ringReduceScatter(buf.length);
    this.receivedBy.reduceScatter += this.elementsReceived - before;
    const [a, b] = chunkRange(buf.length, this.worldSize, this.rank);
    return mine.slice(a, b); // the last step's barrier has passed: no rank reads this segment any more
  }

  /**
   * The concatenation of every rank's chunk into `out` (n elements, n ≤ capacity): this rank passes its
   * own chunk, of chunkRange(n, N, rank) elements.
   */
  allGather(shard: Float32Array, out: Float32Array): void {
    this.checkFits("allGather", out.length);
    const [a, b] = chunkRange(out.length, this.worldSize, this.rank);
    if (shard.length !== b - a) {
      throw new ArgumentError(
        `allGather: rank ${this.rank} of ${this.worldSize} must pass chunk [${a}, ${b}) of ${out.length} elements (${b - a}), got ${shard.length}`,
      );
    }
    const mine = this.seg[this.rank]!;
    mine.set(shard, a);
    const before = this.elementsReceived;
    this.ringAllGather(out.length);
    this.receivedBy.allGather += this.elementsReceived - before;
    out.set(mine.subarray(0, out.length));
  }

  private checkFits(op: string, n: number): void {
    if (n > this.capacity)
      throw new ArgumentError(
        `${op}: ${n} elements exceed the group's capacity of ${this.capacity} per rank (create the shared buffer larger, or split the call)`,
      );
  }

  /**
   * Ring reduce-scatter of the first n elements of every segment. At step s = 0 … N−2, rank r adds its left
   * neighbour's chunk c = (r − 2 − s) mod N into its own; that neighbour finished the same chunk at step s−1.
   * After N−1 steps rank r holds the full sum of chunk r in its segment.
   */
  private ringReduceScatter(n: number): void {
    const N = this.worldSize,
      r = this.rank;
    const mine = this.seg[r]!;
    const left = this.seg[(r - 1 + N) % N]!;
    this.barrier(); // every rank's input is in its segment
    for (let s = 0; s < N - 1; s++) {
      const [a, b] = chunkRange(n, N, (((r - 2 - s) % N) + 2 * N) % N);
      // Σ_c ← Σ_c + x: one float32 rounding per addition, in ring order
      for (let i = a; i < b; i++) mine[i] = mine[i]! + left[i]!;
      this.elementsReceived += b - a;
      this.barrier();
    }
  }

  /**
   * Ring all-gather of the first n elements, rank r starting with its chunk r complete: at step s = 0 … N−2
   * rank r copies chunk (r − 1 − s) mod N from its left neighbour, who received it at step s−1.
   */
  private ringAllGather(n: number): void {
    const N = this.worldSize,
      r = this.rank;
    const mine = this.seg[r]!;
    const left = this.seg[(r - 1 + N) % N]!;
    this.barrier(); // every rank's own chunk is in place
    for (let s = 0; s < N - 1; s++) {
      const [a, b] = chunkRange(n, N, (((r - 1 - s) % N) + N) % N);
      mine.set(left.subarray(a, b), a);
      this.elementsReceived += b - a;
      this.barrier();
    }
  }
}

/**
 * The single-threaded definition of allReduce: the buffer is cut into pieces of `capacity` elements (one
 * ring pass each), chunk c of a piece is summed in ring order starting at rank c+1, with float32 rounding
 * after every addition — what allReduce returns, bit for bit.
 */
export function ringSumReference(inputs: Float32Array[], capacity = Infinity): Float32Array {
  const N = inputs.length;
  const n = inputs[0]?.length ?? 0;
  const out = new Float32Array(n);
  for (let off = 0; off < n; off += capacity) {
    const m = Math.min(capacity, n - off);
    for (let c = 0; c < N; c++) {
      const [a, b] = chunkRange(m, N, c);
      for (let i = off + a; i < off + b; i++) {
        let acc = Math.fround(inputs[(c + 1) % N]![i]!);
        for (let k = 2; k <= N; k++) acc = Math.fround(acc + inputs[(c + k) % N]![i]!);
        out[i] = acc;
      }
    }
  }
  return out;
}
