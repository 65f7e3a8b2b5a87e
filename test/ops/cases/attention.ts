// Op-table entries of the attention family (see test/harness/optable.ts). The reference is the
// composed definition in plain float64 JS: materialised scores, masked, softmax, times v.
import * as wnn from "../../../src/index.js";
import { ArgumentError, DTypeError, ShapeError, type Tensor } from "../../../src/index.js";
import { FUSED_TOL, bool, randn64, values64, type OpInfo } from "../../harness/optable.js";

type Opts = wnn.nn.functional.ScaledDotProductAttentionOptions;

/** Index of `idx` (of the broadcast shape `full`) in a tensor of `shape` (right-aligned broadcasting). */
function bcastAt(shape: readonly number[], full: number[], idx: number[]): number {
  let p = 0;
  const off = full.length - shape.length;
  for (let d = 0; d < shape.length; d++) p = p * shape[d]! + (shape[d] === 1 ? 0 : idx[off + d]!);
  return p;
}

function broadcast(...shapes: (readonly number[])[]): number[] {
  const n = Math.max(...shapes.map((s) => s.length));
  return Array.from({ length: n }, (_, i) => Math.max(...shapes.map((s) => s[s.length - n + i] ?? 1)));
}

/** softmax(q·kᵀ·scale + mask)·v, directly. inputs: q, k, v and (optionally) the mask as a tensor input. */
export function attentionRef(inputs: Tensor[], args: unknown[]): number[] {
  const [q, k, v] = inputs as [Tensor, Tensor, Tensor];
  const o = (args[0] as Opts | undefined) ?? {};
  if (o.layout === "BTHE") {
    // (B, T, H, E): the default layout's reference on (B, H, T, E), read back in (B, Tq, H, Ev) order
    const t = (x: Tensor): Tensor => x.transpose(1, 2);
    const [B, tq, H] = q.shape as [number, number, number];
    const ev = v.shape[3]!;
    const y = attentionRef([t(q), t(k), t(v), ...inputs.slice(3).map(t)], [{ ...o, layout: "BHTE" }]);
    const out: number[] = [];
    for (let b = 0; b < B; b++)
      for (let i = 0; i < tq; i++)
        for (let h = 0; h < H; h++) for (let c = 0; c < ev; c++) out.push(y[((b * H + h) * tq + i) * ev + c]!);
    return out;
  }
  const mask = (inputs[3] ?? o.attnMask ?? null) as Tensor | null;
  const [tq, e] = q.shape.slice(-2) as [number, number];
  const tk = k.shape[k.ndim - 2]!,
    ev = v.shape[v.ndim - 1]!;
  const lead = broadcast(
    q.shape.slice(0, -2),
    k.shape.slice(0, -2),
    v.shape.slice(0, -2),
    mask ? mask.shape.slice(0, -2) : [],
  );
  const bh = lead.reduce((a, b) => a * b, 1);
  const scale = o.scale ?? 1 / Math.sqrt(e);
  const out: number[] = [];
  for (let b = 0; b < bh; b++) {
    const li: number[] = [];
    for (let r = b, d = lead.length - 1; d >= 0; d--) {
      li.unshift(r % lead[d]!);
      r = Math.floor(r / lead[d]!);
    }
    for (let i = 0; i < tq; i++) {
      const s: number[] = [];
      for (let j = 0; j < tk; j++) {
        let dot = 0;
        for (let c = 0; c < e; c++)
          dot +=
            q.storage[bcastAt(q.shape, [...lead, tq, e], [...li, i, c])]! *
            k.storage[bcastAt(k.shape, [...lead, tk, e], [...li, j, c])]!;
        let sv = dot * scale;
        if (o.isCausal && j > i) sv = -Infinity;
        if (mask) {
          const m = mask.storage[bcastAt(mask.shape, [...lead, tq, tk], [...li, i, j])]!;
          sv = mask.dtype === "bool" ? (m ? sv : -Infinity) : sv + m;
        }
        s.push(sv);
      }
      const mx = Math.max(...s);
      const ex = s.map((x) => Math.exp(x - mx));
      const z = ex.reduce((a, b) => a + b, 0);
      for (let c = 0; c < ev; c++) {
        let acc = 0;
        for (let j = 0; j < tk; j++)
          acc += (ex[j]! / z) * v.storage[bcastAt(v.shape, [...lead, tk, ev], [...li, j, c])]!;
        out.push(tk === 0 ? 0 : acc);
      }
    }
  }
  return out;
}

const F = wnn.nn.functional;
const r = (shape: number[], seed: number) => randn64(shape, seed);

/** A float mask (no −inf) as a differentiable input. */
const floatMask = (shape: number[], seed: number) => randn64(shape, seed, 0.5);

export const cases: OpInfo[] = [
  {
    name: "scaledDotProductAttention",
    fn: F.scaledDotProductAttention,
    // a float mask is passed as the 4th input so that gradcheck differentiates it too
    call: (inputs, args) =>
      F.scaledDotProductAttention(inputs[0]!, inputs[1]!, inputs[2]!, {
        ...((args[0] as Opts) ?? {}),
        ...(inputs[3] ? { attnMask: inputs[3] } : {}),
      }),
    samples: [
      { label: "(B,H,T,E) = (1,2,3,4)", inputs: [r([1, 2, 3, 4], 1), r([1, 2, 3, 4], 2), r([1, 2, 3, 4], 3)] },
      { label: "2-D (T,E), Tq = 3 ≠ Tk = 5, Ev = 2", inputs: [r([3, 4], 4), r([5, 4], 5), r([5, 2], 6)] },
      {
        label: "causal (2,4,3)",
        inputs: [r([2, 4, 3], 7), r([2, 4, 3], 8), r([2, 4, 3], 9)],
        args: [{ isCausal: true }],
      },
      {
        label: "causal, Tq = 3 < Tk = 5 (top-left aligned)",
        inputs: [r([1, 3, 2], 10), r([1, 5, 2], 11), r([1, 5, 3], 12)],
        args: [{ isCausal: true }],
      },
      {
        label: "causal, Tq = 4 > Tk = 2",
        inputs: [r([4, 2], 13), r([2, 2], 14), r([2, 2], 15)],
        args: [{ isCausal: true }],
      },
      {
        label: "bool mask (Tq,Tk) over (2,2,3,4)",
        inputs: [r([2, 2, 3, 4], 16), r([2, 2, 5, 4], 17), r([2, 2, 5, 3], 18)],
        args: [{ attnMask: bool([1, 1, 0, 1, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 1], [3, 5]) }],
      },
      {
        label: "bool mask (B,1,Tq,Tk) broadcast over heads",
        inputs: [r([2, 3, 2, 2], 19), r([2, 3, 3, 2], 20), r([2, 3, 3, 2], 21)],
        args: [{ attnMask: bool([1, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1], [2, 1, 2, 3]) }],
      },
      {
        label: "float mask (1,1,Tq,Tk), differentiated",
        inputs: [r([1, 2, 3, 4], 22), r([1, 2, 4, 4], 23), r([1, 2, 4, 4], 24), floatMask([1, 1, 3, 4], 25)],
      },
      {
        label: "float mask (2,3,Tq,1) key-broadcast",
        inputs: [r([2, 3, 2, 2], 26), r([2, 3, 3, 2], 27), r([2, 3, 3, 2], 28), floatMask([2, 3, 2, 1], 29)],
      },
      {
        label: "float mask (2,1,1,Tk) padding-style",
        inputs: [r([2, 2, 3, 2], 30), r([2, 2, 4, 2], 31), r([2, 2, 4, 2], 32), floatMask([2, 1, 1, 4], 33)],
      },
      {
        label: "broadcast heads: k, v (B,1,T,E) under q (B,H,T,E)",
        inputs: [r([2, 3, 2, 4], 34), r([2, 1, 3, 4], 35), r([2, 1, 3, 4], 36)],
      },
      { label: "q (T,E) broadcast against k, v (B,T,E)", inputs: [r([2, 3], 37), r([2, 4, 3], 38), r([2, 4, 5], 39)] },
      {
        label: "explicit scale 0.3",
        inputs: [r([1, 3, 4], 40), r([1, 3, 4], 41), r([1, 3, 4], 42)],
        args: [{ scale: 0.3 }],
      },
      { label: "E = 17 (a loop tail)", inputs: [r([1, 2, 17], 43), r([1, 3, 17], 44), r([1, 3, 5], 45)] },
      { label: "no keys (Tk = 0) gives zeros", inputs: [r([1, 2, 3], 46), r([1, 0, 3], 47), r([1, 0, 2], 48)] },
      {
        label: "a fully masked row gives NaN",
        inputs: [r([2, 2], 49), r([3, 2], 50), r([3, 2], 51)],
        args: [{ attnMask: bool([0, 0, 0, 1, 0, 1], [2, 3]) }],
        grad: false,
      },
      {
        label: "layout BTHE (B,T,H,E) = (2,3,2,4)",
        inputs: [r([2, 3, 2, 4], 52), r([2, 3, 2, 4], 53), r([2, 3, 2, 4], 54)],
        args: [{ layout: "BTHE" }],
      },
      {
        label: "layout BTHE causal, Tq = 4, Tk = 4, H = 3, E = 5, Ev = 3",
        inputs: [r([1, 4, 3, 5], 55), r([1, 4, 3, 5], 56), r([1, 4, 3, 3], 57)],
        args: [{ layout: "BTHE", isCausal: true }],
      },
      {
        label: "layout BTHE causal, Tq = 3 < Tk = 5, scale 0.4",
        inputs: [r([2, 3, 2, 2], 58), r([2, 5, 2, 2], 59), r([2, 5, 2, 4], 60)],
        args: [{ layout: "BTHE", isCausal: true, scale: 0.4 }],
      },
      {
        label: "layout BTHE with a bool mask (through the transposed path)",
        inputs: [r([1, 2, 2, 3], 61), r([1, 3, 2, 3], 62), r([1, 3, 2, 3], 63)],
        args: [{ layout: "BTHE", attnMask: bool([1, 0, 1, 1, 1, 0], [2, 3]) }],
      },
      {
        label: "extreme scores (±1e3·, inf in v)",
        inputs: [
          values64([30, -30, 1, 0], [2, 2]),
          values64([40, 1, -40, 2, 0, 0], [3, 2]),
          values64([1, Infinity, 2, 3, -0, 5], [3, 2]),
        ],
        grad: false,
      },
    ],
    differentiable: true,
    ref: attentionRef,
    tol: FUSED_TOL,
    errors: [
      {
        label: "head sizes differ",
        call: () =>
          F.scaledDotProductAttention(wnn.zeros([2, 4, 5, 8]), wnn.zeros([2, 4, 6, 7]), wnn.zeros([2, 4, 6, 7])),
        error: ShapeError,
        message: [/scaledDotProductAttention/, /\(2,4,5,8\)/, /\(2,4,6,7\)/, /8 and 7/],
      },
      {
        label: "key and value lengths differ",
        call: () => F.scaledDotProductAttention(wnn.zeros([3, 4]), wnn.zeros([5, 4]), wnn.zeros([6, 4])),
        error: ShapeError,
        message: [/scaledDotProductAttention/, /\(5,4\)/, /\(6,4\)/],
      },
      {
        label: "mask of the wrong size",
        call: () =>
          F.scaledDotProductAttention(wnn.zeros([3, 4]), wnn.zeros([5, 4]), wnn.zeros([5, 4]), {
            attnMask: wnn.zeros([3, 4]),
          }),
        error: ShapeError,
        message: [/scaledDotProductAttention/, /attnMask \(3,4\)/, /\(…,3,5\)/],
      },
      {
        label: "leading dims that do not broadcast",
        call: () => F.scaledDotProductAttention(wnn.zeros([2, 3, 4]), wnn.zeros([3, 3, 4]), wnn.zeros([3, 3, 4])),
        error: ShapeError,
        message: [/scaledDotProductAttention/, /\(2,3,4\)/, /\(3,3,4\)/],
      },
      {
        label: "isCausal with a mask",
        call: () =>
          F.scaledDotProductAttention(wnn.zeros([3, 4]), wnn.zeros([3, 4]), wnn.zeros([3, 4]), {
            isCausal: true,
            attnMask: wnn.zeros([3, 3]),
          }),
        error: ArgumentError,
        message: [/scaledDotProductAttention/, /isCausal/, /\(3,3\)/],
      },
      {
        label: "1-D query",
        call: () => F.scaledDotProductAttention(wnn.zeros([4]), wnn.zeros([3, 4]), wnn.zeros([3, 4])),
        error: ShapeError,
        message: [/scaledDotProductAttention/, /query/, /\(4\)/],
      },
      {
        label: "mixed dtypes",
        call: () =>
          F.scaledDotProductAttention(wnn.zeros([3, 4]), wnn.zeros([3, 4], { dtype: "float64" }), wnn.zeros([3, 4])),
        error: DTypeError,
        message: [/scaledDotProductAttention/, /float64/],
      },
      {
        label: "layout BTHE needs 4-D inputs",
        call: () =>
          F.scaledDotProductAttention(wnn.zeros([2, 3, 4]), wnn.zeros([2, 3, 4]), wnn.zeros([2, 3, 4]), {
            layout: "BTHE",
          }),
        error: ShapeError,
        message: [/scaledDotProductAttention/, /BTHE/, /\(2,3,4\)/],
      },
      {
        label: "layout BTHE does not broadcast heads",
        call: () =>
          F.scaledDotProductAttention(wnn.zeros([2, 3, 4, 8]), wnn.zeros([2, 3, 1, 8]), wnn.zeros([2, 3, 1, 8]), {
            layout: "BTHE",
          }),
        error: ShapeError,
        message: [/scaledDotProductAttention/, /\(2,3,4,8\)/, /\(2,3,1,8\)/],
      },
      {
        label: "unknown layout",
        call: () =>
          F.scaledDotProductAttention(wnn.zeros([3, 4]), wnn.zeros([3, 4]), wnn.zeros([3, 4]), {
            layout: "THE" as "BTHE",
          }),
        error: ArgumentError,
        message: [/scaledDotProductAttention/, /layout/, /THE/],
      },
      {
        label: "dropoutP out of range",
        call: () =>
          F.scaledDotProductAttention(wnn.zeros([3, 4]), wnn.zeros([3, 4]), wnn.zeros([3, 4]), { dropoutP: 1.5 }),
        error: ArgumentError,
        message: [/scaledDotProductAttention/, /dropoutP/],
      },
    ],
  },
];
