// Op-table entries of the conv family (see test/harness/optable.ts). The references are direct
// float64 loops over the definitions (no im2col), independent of the kernels they check.
import * as wnn from "../../../src/index.js";
import { ArgumentError, DTypeError, ShapeError, type Tensor } from "../../../src/index.js";
import { FUSED_TOL, EXTREMES, randn64, values64, type OpInfo } from "../../harness/optable.js";

type Opts = Record<string, any>;
const pair = (v: any, dflt: number): [number, number] =>
  v === undefined ? [dflt, dflt] : typeof v === "number" ? [v, v] : v.length === 1 ? [v[0], v[0]] : [v[0], v[1]];

/** Direct 2-D cross-correlation; x (N, C, H, W), w (O, C/G, kh, kw); padding before and total per dim. */
function directConv(
  x: Tensor,
  w: Tensor,
  b: Tensor | undefined,
  s: [number, number],
  pb: [number, number],
  pt: [number, number],
  d: [number, number],
  groups: number,
): number[] {
  const [N, C, H, W] = x.shape as number[];
  const [O, Cg, KH, KW] = w.shape as number[];
  const OH = Math.floor((H! + pt[0] - d[0] * (KH! - 1) - 1) / s[0]) + 1;
  const OW = Math.floor((W! + pt[1] - d[1] * (KW! - 1) - 1) / s[1]) + 1;
  const Og = O! / groups;
  const out: number[] = [];
  for (let n = 0; n < N!; n++)
    for (let o = 0; o < O!; o++) {
      const g = Math.floor(o / Og);
      for (let i = 0; i < OH; i++)
        for (let j = 0; j < OW; j++) {
          let acc = b ? b.storage[o]! : 0;
          for (let c = 0; c < Cg!; c++)
            for (let ki = 0; ki < KH!; ki++)
              for (let kj = 0; kj < KW!; kj++) {
                const ih = i * s[0] - pb[0] + ki * d[0],
                  iw = j * s[1] - pb[1] + kj * d[1];
                if (ih < 0 || ih >= H! || iw < 0 || iw >= W!) continue;
                acc +=
                  x.storage[((n * C! + g * Cg! + c) * H! + ih) * W! + iw]! *
                  w.storage[((o * Cg! + c) * KH! + ki) * KW! + kj]!;
              }
          out.push(acc);
        }
    }
  return out;
}

const batch4 = (x: Tensor): Tensor => (x.ndim === 4 ? x : new wnn.Tensor(x.storage, [1, ...x.shape]));
const pads = (p: any, k: [number, number], d: [number, number]): [[number, number], [number, number]] => {
  if (p === "same") {
    const t: [number, number] = [d[0] * (k[0] - 1), d[1] * (k[1] - 1)];
    return [[Math.floor(t[0] / 2), Math.floor(t[1] / 2)], t];
  }
  const q = p === "valid" ? [0, 0] : pair(p, 0);
  return [
    [q[0]!, q[1]!],
    [2 * q[0]!, 2 * q[1]!],
  ];
};

function conv2dRef(inputs: Tensor[], args: unknown[]): number[] {
  const [x, w, b] = inputs as [Tensor, Tensor, Tensor | undefined];
  const o = ((args[1] ?? args[0]) as Opts | undefined) ?? {};
  const d = pair(o.dilation, 1);
  const [pb, pt] = pads(o.padding, [w.shape[2]!, w.shape[3]!], d);
  return directConv(batch4(x), w, b, pair(o.stride, 1), pb, pt, d, o.groups ?? 1);
}

function conv1dRef(inputs: Tensor[], args: unknown[]): number[] {
  const [x, w, b] = inputs as [Tensor, Tensor, Tensor | undefined];
  const o = ((args[1] ?? args[0]) as Opts | undefined) ?? {};
  const x3 = x.ndim === 3 ? x : new wnn.Tensor(x.storage, [1, ...x.shape]);
  const x4 = new wnn.Tensor(x3.storage, [x3.shape[0]!, x3.shape[1]!, 1, x3.shape[2]!]);
  const w4 = new wnn.Tensor(w.storage, [w.shape[0]!, w.shape[1]!, 1, w.shape[2]!]);
  const d = pair(o.dilation, 1)[0];
  const [pb, pt] = pads(typeof o.padding === "string" ? o.padding : pair(o.padding, 0)[0], [1, w.shape[2]!], [1, d]);
  return directConv(x4, w4, b, [1, pair(o.stride, 1)[0]], [0, pb[1]], [0, pt[1]], [1, d], o.groups ?? 1);
}

/** Direct transposed convolution: every input pixel scatters its weighted kernel into the output. */
function convTranspose2dRef(inputs: Tensor[], args: unknown[]): number[] {
  const [x0, w, b] = inputs as [Tensor, Tensor, Tensor | undefined];
  const x = batch4(x0);
  const o = ((args[1] ?? args[0]) as Opts | undefined) ?? {};
  const [s, p, op, d] = [pair(o.stride, 1), pair(o.padding, 0), pair(o.outputPadding, 0), pair(o.dilation, 1)];
  const G = o.groups ?? 1;
  const [N, Cin, H, W] = x.shape as number[];
  const [, Cog, KH, KW] = w.shape as number[];
  const Cout = Cog! * G,
    Cig = Cin! / G;
  const OH = (H! - 1) * s[0] - 2 * p[0] + d[0] * (KH! - 1) + op[0] + 1;
  const OW = (W! - 1) * s[1] - 2 * p[1] + d[1] * (KW! - 1) + op[1] + 1;
  const y = new Float64Array(N! * Cout * OH * OW);
  for (let n = 0; n < N!; n++)
    for (let ci = 0; ci < Cin!; ci++) {
      const g = Math.floor(ci / Cig);
      for (let i = 0; i < H!; i++)
        for (let j = 0; j < W!; j++)
          for (let co = 0; co < Cog!; co++)
            for (let ki = 0; ki < KH!; ki++)
              for (let kj = 0; kj < KW!; kj++) {
                const oi = i * s[0] - p[0] + ki * d[0],
                  oj = j * s[1] - p[1] + kj * d[1];
                if (oi < 0 || oi >= OH || oj < 0 || oj >= OW) continue;
                y[((n * Cout + g * Cog! + co) * OH + oi) * OW + oj]! +=
                  x.storage[((n * Cin! + ci) * H! + i) * W! + j]! *
                  w.storage[((ci * Cog! + co) * KH! + ki) * KW! + kj]!;
              }
    }
  if (b)
    for (let n = 0; n < N!; n++)
      for (let c = 0; c < Cout; c++)
        for (let q = 0; q < OH * OW; q++) y[(n * Cout + c) * OH * OW + q]! += b.storage[c]!;
  return Array.from(y);
}

/** Pooling output size, as PyTorch's pooling_output_shape. */
function poolOut(n: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  let o = Math.floor((n + 2 * p - d * (k - 1) - 1 + (ceil ? s - 1 : 0)) / s) + 1;
  if (ceil && (o - 1) * s >= n + p) o--;
  return o;
}

function poolRef(kind: "max" | "avg") {
  return (inputs: Tensor[], args: unknown[]): number[] => {
    const x = batch4(inputs[0]!);
    const k = pair(args[0], 1);
    const o = (args[1] as Opts | undefined) ?? {};
    const s = pair(o.stride ?? k, 1),
      p = pair(o.padding, 0),
      d = pair(o.dilation, 1);
    const ceil = o.ceilMode ?? false,
      includePad = o.countIncludePad ?? true;
    const [N, C, H, W] = x.shape as number[];
    const OH = poolOut(H!, k[0], s[0], p[0], d[0], ceil),
      OW = poolOut(W!, k[1], s[1], p[1], d[1], ceil);
    const out: number[] = [];
    for (let pl = 0; pl < N! * C!; pl++)
      for (let i = 0; i < OH; i++)
        for (let j = 0; j < OW; j++) {
          let best = -Infinity,
            sum = 0,
            count = 0,
            padded = 0;
          for (let ki = 0; ki < k[0]; ki++)
            for (let kj = 0; kj < k[1]; kj++) {
              const ih = i * s[0] - p[0] + ki * d[0],
                iw = j * s[1] - p[1] + kj * d[1];
              if (ih < H! + p[0] && iw < W! + p[1]) padded++; // inside the padded input
              if (ih < 0 || ih >= H! || iw < 0 || iw >= W!) continue;
              const v = x.storage[(pl * H! + ih) * W! + iw]!;
              if (v > best || Number.isNaN(v)) best = Number.isNaN(best) ? best : v;
              sum += v;
              count++;
            }
          out.push(kind === "max" ? best : sum / (includePad ? padded : count));
        }
    return out;
  };
}

function adaptiveRef(inputs: Tensor[], args: unknown[]): number[] {
  const x = inputs[0]!;
  const [H, W] = x.shape.slice(-2) as [number, number];
  const a = args[0] as number | [number | null, number | null];
  const [OH, OW] = typeof a === "number" ? [a, a] : [a[0] ?? H, a[1] ?? W];
  const planes = x.numel() / (H * W);
  const out: number[] = [];
  for (let pl = 0; pl < planes; pl++)
    for (let i = 0; i < OH; i++)
      for (let j = 0; j < OW; j++) {
        const h0 = Math.floor((i * H) / OH),
          h1 = Math.ceil(((i + 1) * H) / OH),
          w0 = Math.floor((j * W) / OW),
          w1 = Math.ceil(((j + 1) * W) / OW);
        let s = 0;
        for (let r = h0; r < h1; r++) for (let c = w0; c < w1; c++) s += x.storage[(pl * H + r) * W + c]!;
        out.push(s / ((h1 - h0) * (w1 - w0)));
      }
  return out;
}

const x4 = (shape: number[], seed: number) => randn64(shape, seed);

export const cases: OpInfo[] = [
  {
    name: "conv2d",
    fn: wnn.nn.functional.conv2d,
    call: (inputs, args) =>
      wnn.nn.functional.conv2d(inputs[0]!, inputs[1]!, inputs[2] ?? null, (args[0] as Opts) ?? {}),
    samples: [
      { label: "(1,2,5,5) * (3,2,3,3) + bias", inputs: [x4([1, 2, 5, 5], 1), x4([3, 2, 3, 3], 2), x4([3], 3)] },
      {
        label: "stride 2, padding 1, no bias, N = 2",
        inputs: [x4([2, 2, 6, 5], 4), x4([3, 2, 3, 3], 5)],
        args: [{ stride: 2, padding: 1 }],
      },
      {
        label: "dilation 2, padding (1,2)",
        inputs: [x4([1, 2, 7, 7], 6), x4([2, 2, 3, 3], 7), x4([2], 8)],
        args: [{ dilation: 2, padding: [1, 2] }],
      },
      { label: "groups 2", inputs: [x4([1, 4, 5, 5], 9), x4([6, 2, 3, 3], 10), x4([6], 11)], args: [{ groups: 2 }] },
      {
        label: "depthwise (groups = C = 3), stride (2,1)",
        inputs: [x4([1, 3, 5, 4], 12), x4([3, 1, 3, 3], 13)],
        args: [{ groups: 3, stride: [2, 1], padding: 1 }],
      },
      {
        label: "same, odd kernel 3",
        inputs: [x4([1, 2, 5, 5], 14), x4([2, 2, 3, 3], 15), x4([2], 16)],
        args: [{ padding: "same" }],
      },
      {
        label: "same, even kernel (4,2): asymmetric padding",
        inputs: [x4([1, 2, 5, 6], 17), x4([2, 2, 4, 2], 18)],
        args: [{ padding: "same" }],
      },
      {
        label: "same, even kernel 2, dilation 3",
        inputs: [x4([1, 1, 6, 7], 19), x4([2, 1, 2, 2], 20)],
        args: [{ padding: "same", dilation: 3 }],
      },
      {
        label: "valid, rectangular kernel (2,3), stride (1,2)",
        inputs: [x4([1, 1, 4, 7], 21), x4([2, 1, 2, 3], 22), x4([2], 23)],
        args: [{ padding: "valid", stride: [1, 2] }],
      },
      {
        label: "unbatched (2,5,5)",
        inputs: [x4([2, 5, 5], 24), x4([3, 2, 3, 3], 25), x4([3], 26)],
        args: [{ padding: 1 }],
      },
      { label: "1×1 kernel, 5 output channels", inputs: [x4([2, 3, 4, 4], 27), x4([5, 3, 1, 1], 28), x4([5], 29)] },
      { label: "empty batch (0,2,5,5)", inputs: [x4([0, 2, 5, 5], 30), x4([3, 2, 3, 3], 31), x4([3], 32)] },
      {
        label: "width 17 (a loop tail)",
        inputs: [x4([1, 1, 3, 17], 33), x4([1, 1, 3, 3], 34)],
        args: [{ padding: 1 }],
      },
    ],
    differentiable: true,
    ref: conv2dRef,
    tol: FUSED_TOL,
    errors: [
      {
        label: "channel mismatch",
        call: () => wnn.nn.functional.conv2d(wnn.zeros([1, 3, 5, 5]), wnn.zeros([4, 2, 3, 3])),
        error: ShapeError,
        message: [/^conv2d: input \(1,3,5,5\) has 3 channels but weight \(4,2,3,3\) expects 2·groups = 2$/],
      },
      {
        label: "groups that do not divide the output channels",
        call: () => wnn.nn.functional.conv2d(wnn.zeros([1, 4, 5, 5]), wnn.zeros([3, 2, 3, 3]), null, { groups: 2 }),
        error: ShapeError,
        message: [/conv2d/, /\(3,2,3,3\)/, /groups = 2/],
      },
      {
        label: "kernel larger than the input",
        call: () => wnn.nn.functional.conv2d(wnn.zeros([1, 1, 2, 2]), wnn.zeros([1, 1, 3, 3])),
        error: ShapeError,
        message: [/conv2d/, /\(1,1,2,2\)/, /\(1,1,3,3\)/],
      },
      {
        label: "bias of the wrong size",
        call: () => wnn.nn.functional.conv2d(wnn.zeros([1, 1, 4, 4]), wnn.zeros([2, 1, 3, 3]), wnn.zeros([3])),
        error: ShapeError,
        message: [/conv2d/, /bias \(3\)/, /\(2\)/],
      },
      {
        label: "2-D input",
        call: () => wnn.nn.functional.conv2d(wnn.zeros([4, 4]), wnn.zeros([1, 1, 3, 3])),
        error: ShapeError,
        message: [/conv2d/, /\(4,4\)/],
      },
      {
        label: "same with stride 2",
        call: () =>
          wnn.nn.functional.conv2d(wnn.zeros([1, 1, 4, 4]), wnn.zeros([1, 1, 3, 3]), null, {
            padding: "same",
            stride: 2,
          }),
        error: ArgumentError,
        message: [/conv2d/, /same/, /stride/],
      },
      {
        label: "float64 weight for a float32 input",
        call: () => wnn.nn.functional.conv2d(wnn.zeros([1, 1, 4, 4]), wnn.zeros([1, 1, 3, 3], { dtype: "float64" })),
        error: DTypeError,
        message: [/conv2d/, /float64/, /\(1,1,3,3\)/],
      },
    ],
  },
  {
    name: "conv1d",
    fn: wnn.nn.functional.conv1d,
    call: (inputs, args) =>
      wnn.nn.functional.conv1d(inputs[0]!, inputs[1]!, inputs[2] ?? null, (args[0] as Opts) ?? {}),
    samples: [
      { label: "(2,3,7) * (4,3,3) + bias", inputs: [x4([2, 3, 7], 1), x4([4, 3, 3], 2), x4([4], 3)] },
      { label: "stride 2, padding 1", inputs: [x4([1, 2, 8], 4), x4([3, 2, 3], 5)], args: [{ stride: 2, padding: 1 }] },
      {
        label: "dilation 2, padding [2]",
        inputs: [x4([1, 2, 9], 6), x4([2, 2, 3], 7), x4([2], 8)],
        args: [{ dilation: 2, padding: [2] }],
      },
      { label: "groups 2", inputs: [x4([1, 4, 6], 9), x4([4, 2, 2], 10)], args: [{ groups: 2 }] },
      {
        label: "same, even kernel 4",
        inputs: [x4([1, 2, 7], 11), x4([3, 2, 4], 12), x4([3], 13)],
        args: [{ padding: "same" }],
      },
      {
        label: "same, odd kernel 5, dilation 2",
        inputs: [x4([1, 1, 9], 14), x4([1, 1, 5], 15)],
        args: [{ padding: "same", dilation: 2 }],
      },
      { label: "valid, length 17", inputs: [x4([1, 2, 17], 16), x4([2, 2, 4], 17)], args: [{ padding: "valid" }] },
      { label: "unbatched (3,6)", inputs: [x4([3, 6], 18), x4([2, 3, 3], 19), x4([2], 20)] },
      { label: "kernel 1", inputs: [x4([2, 3, 5], 21), x4([5, 3, 1], 22), x4([5], 23)] },
    ],
    differentiable: true,
    ref: conv1dRef,
    tol: FUSED_TOL,
    errors: [
      {
        label: "channel mismatch",
        call: () => wnn.nn.functional.conv1d(wnn.zeros([1, 3, 5]), wnn.zeros([4, 2, 3])),
        error: ShapeError,
        message: [/^conv1d: input \(1,3,5\) has 3 channels but weight \(4,2,3\) expects 2·groups = 2$/],
      },
      {
        label: "4-D input",
        call: () => wnn.nn.functional.conv1d(wnn.zeros([1, 1, 4, 4]), wnn.zeros([1, 1, 3])),
        error: ShapeError,
        message: [/conv1d/, /\(1,1,4,4\)/],
      },
      {
        label: "weight of rank 4",
        call: () => wnn.nn.functional.conv1d(wnn.zeros([1, 1, 4]), wnn.zeros([1, 1, 1, 3])),
        error: ShapeError,
        message: [/conv1d/, /\(1,1,1,3\)/],
      },
    ],
  },
  {
    name: "convTranspose2d",
    fn: wnn.nn.functional.convTranspose2d,
    call: (inputs, args) =>
      wnn.nn.functional.convTranspose2d(inputs[0]!, inputs[1]!, inputs[2] ?? null, (args[0] as Opts) ?? {}),
    samples: [
      { label: "(1,2,3,3) with (2,3,3,3) + bias", inputs: [x4([1, 2, 3, 3], 1), x4([2, 3, 3, 3], 2), x4([3], 3)] },
      { label: "stride 2", inputs: [x4([2, 2, 3, 3], 4), x4([2, 2, 3, 3], 5)], args: [{ stride: 2 }] },
      {
        label: "stride 2, outputPadding 1, padding 1",
        inputs: [x4([1, 2, 3, 4], 6), x4([2, 2, 3, 3], 7), x4([2], 8)],
        args: [{ stride: 2, padding: 1, outputPadding: 1 }],
      },
      {
        label: "even kernel 4, stride 2, padding 1 (DCGAN upsampling)",
        inputs: [x4([1, 3, 2, 2], 9), x4([3, 2, 4, 4], 10), x4([2], 11)],
        args: [{ stride: 2, padding: 1 }],
      },
      { label: "groups 2", inputs: [x4([1, 4, 3, 3], 12), x4([4, 2, 2, 2], 13), x4([4], 14)], args: [{ groups: 2 }] },
      {
        label: "dilation 2, rectangular stride (2,1)",
        inputs: [x4([1, 2, 3, 3], 15), x4([2, 1, 3, 2], 16)],
        args: [{ dilation: 2, stride: [2, 1] }],
      },
      {
        label: "outputPadding 1 < dilation 2 with stride 1",
        inputs: [x4([1, 1, 3, 3], 17), x4([1, 2, 2, 2], 18)],
        args: [{ dilation: 2, outputPadding: 1 }],
      },
      {
        label: "unbatched (2,3,3)",
        inputs: [x4([2, 3, 3], 19), x4([2, 3, 2, 2], 20), x4([3], 21)],
        args: [{ stride: 2 }],
      },
      { label: "1×1 kernel", inputs: [x4([2, 3, 2, 5], 22), x4([3, 4, 1, 1], 23)] },
      { label: "empty batch", inputs: [x4([0, 2, 3, 3], 24), x4([2, 3, 3, 3], 25), x4([3], 26)] },
    ],
    differentiable: true,
    ref: convTranspose2dRef,
    tol: FUSED_TOL,
    errors: [
      {
        label: "channel mismatch",
        call: () => wnn.nn.functional.convTranspose2d(wnn.zeros([1, 3, 5, 5]), wnn.zeros([2, 4, 3, 3])),
        error: ShapeError,
        message: [/convTranspose2d/, /\(1,3,5,5\)/, /\(2,4,3,3\)/],
      },
      {
        label: "outputPadding as large as the stride",
        call: () =>
          wnn.nn.functional.convTranspose2d(wnn.zeros([1, 1, 3, 3]), wnn.zeros([1, 1, 3, 3]), null, {
            stride: 2,
            outputPadding: 2,
          }),
        error: ArgumentError,
        message: [/convTranspose2d/, /outputPadding/],
      },
      {
        label: "bias of the wrong size",
        call: () => wnn.nn.functional.convTranspose2d(wnn.zeros([1, 2, 3, 3]), wnn.zeros([2, 3, 3, 3]), wnn.zeros([2])),
        error: ShapeError,
        message: [/convTranspose2d/, /bias \(2\)/, /\(3\)/],
      },
    ],
  },
  {
    name: "maxPool2d",
    fn: wnn.nn.functional.maxPool2d,
    samples: [
      { label: "kernel 2 on (1,2,4,4)", inputs: [x4([1, 2, 4, 4], 1)], args: [2] },
      { label: "kernel 3, stride 2, padding 1", inputs: [x4([2, 1, 5, 5], 2)], args: [3, { stride: 2, padding: 1 }] },
      { label: "ceil mode, kernel 2 on 5×5", inputs: [x4([1, 2, 5, 5], 3)], args: [2, { ceilMode: true }] },
      {
        label: "ceil mode with padding 1, stride 2",
        inputs: [x4([1, 1, 6, 6], 4)],
        args: [3, { stride: 2, padding: 1, ceilMode: true }],
      },
      { label: "dilation 2", inputs: [x4([1, 2, 7, 6], 5)], args: [2, { dilation: 2, stride: 1 }] },
      {
        label: "rectangular kernel (2,3), stride (1,2)",
        inputs: [x4([1, 3, 4, 7], 6)],
        args: [[2, 3], { stride: [1, 2] }],
      },
      { label: "unbatched (3,4,4)", inputs: [x4([3, 4, 4], 7)], args: [2] },
      { label: "kernel 1 (identity)", inputs: [x4([1, 1, 3, 5], 8)], args: [1] },
      { label: "global 4×17 window", inputs: [x4([1, 2, 4, 17], 9)], args: [[4, 17]] },
      {
        label: "extremes (±inf, NaN, ±0)",
        inputs: [values64([...EXTREMES, 2, 3, 4], [1, 1, 4, 4])],
        args: [2],
        grad: false,
      },
    ],
    differentiable: true,
    ref: poolRef("max"),
    errors: [
      {
        label: "padding over half the kernel",
        call: () => wnn.nn.functional.maxPool2d(wnn.zeros([1, 1, 4, 4]), 2, { padding: 2 }),
        error: ArgumentError,
        message: [/maxPool2d/, /padding \(2,2\)/, /\(2,2\)/],
      },
      {
        label: "window larger than the input",
        call: () => wnn.nn.functional.maxPool2d(wnn.zeros([1, 1, 2, 2]), 3),
        error: ShapeError,
        message: [/maxPool2d/, /\(1,1,2,2\)/],
      },
      {
        label: "2-D input",
        call: () => wnn.nn.functional.maxPool2d(wnn.zeros([4, 4]), 2),
        error: ShapeError,
        message: [/maxPool2d/, /\(4,4\)/],
      },
    ],
  },
  {
    name: "avgPool2d",
    fn: wnn.nn.functional.avgPool2d,
    samples: [
      { label: "kernel 2 on (1,2,4,4)", inputs: [x4([1, 2, 4, 4], 1)], args: [2] },
      {
        label: "kernel 3, stride 2, padding 1, counting the padding",
        inputs: [x4([2, 1, 5, 5], 2)],
        args: [3, { stride: 2, padding: 1 }],
      },
      {
        label: "kernel 3, stride 2, padding 1, not counting the padding",
        inputs: [x4([1, 2, 5, 5], 3)],
        args: [3, { stride: 2, padding: 1, countIncludePad: false }],
      },
      { label: "ceil mode, kernel 2 on 5×5", inputs: [x4([1, 2, 5, 5], 4)], args: [2, { ceilMode: true }] },
      {
        label: "ceil mode with padding 1, stride 2, counting the padding",
        inputs: [x4([1, 1, 6, 6], 5)],
        args: [3, { stride: 2, padding: 1, ceilMode: true }],
      },
      {
        label: "ceil mode with padding 1, not counting the padding",
        inputs: [x4([1, 1, 6, 7], 6)],
        args: [3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }],
      },
      { label: "rectangular kernel (2,3), stride 1", inputs: [x4([1, 3, 4, 7], 7)], args: [[2, 3], { stride: 1 }] },
      { label: "unbatched (3,4,4)", inputs: [x4([3, 4, 4], 8)], args: [2] },
      { label: "global 4×17 window", inputs: [x4([1, 2, 4, 17], 9)], args: [[4, 17]] },
      {
        label: "extremes (±inf, NaN, ±0)",
        inputs: [values64([...EXTREMES, 2, 3, 4], [1, 1, 4, 4])],
        args: [2],
        grad: false,
      },
    ],
    differentiable: true,
    ref: poolRef("avg"),
    errors: [
      {
        label: "padding over half the kernel",
        call: () => wnn.nn.functional.avgPool2d(wnn.zeros([1, 1, 4, 4]), 3, { padding: 2 }),
        error: ArgumentError,
        message: [/avgPool2d/, /padding \(2,2\)/, /\(3,3\)/],
      },
      {
        label: "window larger than the input",
        call: () => wnn.nn.functional.avgPool2d(wnn.zeros([2, 1, 2, 5]), 3),
        error: ShapeError,
        message: [/avgPool2d/, /\(2,1,2,5\)/],
      },
    ],
  },
  {
    name: "adaptiveAvgPool2d",
    fn: wnn.nn.functional.adaptiveAvgPool2d,
    samples: [
      { label: "(1,2,5,7) → (3,4): overlapping windows", inputs: [x4([1, 2, 5, 7], 1)], args: [[3, 4]] },
      { label: "→ 1 (global average)", inputs: [x4([2, 3, 4, 5], 2)], args: [1] },
      { label: "→ the same size", inputs: [x4([1, 1, 3, 4], 3)], args: [[3, 4]] },
      { label: "(1,1,2,3) → (4,5): larger than the input", inputs: [x4([1, 1, 2, 3], 4)], args: [[4, 5]] },
      { label: "null keeps a size", inputs: [x4([1, 2, 6, 4], 5)], args: [[2, null]] },
      { label: "(8,8) → 3", inputs: [x4([1, 1, 8, 8], 6)], args: [3] },
      { label: "unbatched (3,5,5) → 2", inputs: [x4([3, 5, 5], 7)], args: [2] },
      { label: "(1,1,17,1) → (5,1)", inputs: [x4([1, 1, 17, 1], 8)], args: [[5, 1]] },
      { label: "empty batch", inputs: [x4([0, 2, 4, 4], 9)], args: [2] },
      { label: "extremes", inputs: [values64([...EXTREMES, 2, 3, 4], [1, 1, 4, 4])], args: [2], grad: false },
    ],
    differentiable: true,
    ref: adaptiveRef,
    errors: [
      {
        label: "output size 0",
        call: () => wnn.nn.functional.adaptiveAvgPool2d(wnn.zeros([1, 1, 4, 4]), 0),
        error: ArgumentError,
        message: [/adaptiveAvgPool2d/, /outputSize/],
      },
      {
        label: "5-D input",
        call: () => wnn.nn.functional.adaptiveAvgPool2d(wnn.zeros([1, 1, 1, 4, 4]), 2),
        error: ShapeError,
        message: [/adaptiveAvgPool2d/, /\(1,1,1,4,4\)/],
      },
    ],
  },
  {
    name: "interpolate",
    fn: wnn.nn.functional.interpolate,
    samples: [
      { label: "nearest, scaleFactor 2", inputs: [x4([1, 2, 3, 4], 1)], args: [{ scaleFactor: 2 }] },
      { label: "nearest, size (5,7)", inputs: [x4([1, 1, 3, 4], 2)], args: [{ size: [5, 7] }] },
      { label: "nearest, downsample to (2,3)", inputs: [x4([2, 1, 5, 7], 3)], args: [{ size: [2, 3] }] },
      { label: "nearest, scaleFactor (1.5, 0.5)", inputs: [x4([1, 2, 4, 6], 4)], args: [{ scaleFactor: [1.5, 0.5] }] },
      { label: "bilinear, scaleFactor 2", inputs: [x4([1, 2, 3, 3], 5)], args: [{ scaleFactor: 2, mode: "bilinear" }] },
      {
        label: "bilinear, alignCorners, size (5,7)",
        inputs: [x4([1, 1, 3, 4], 6)],
        args: [{ size: [5, 7], mode: "bilinear", alignCorners: true }],
      },
      {
        label: "bilinear, downsample to (3,2)",
        inputs: [x4([1, 2, 7, 5], 7)],
        args: [{ size: [3, 2], mode: "bilinear" }],
      },
      {
        label: "bilinear, alignCorners, to (1,4)",
        inputs: [x4([1, 1, 3, 3], 8)],
        args: [{ size: [1, 4], mode: "bilinear", alignCorners: true }],
      },
      {
        label: "bilinear, scaleFactor 1.5",
        inputs: [x4([2, 1, 4, 5], 9)],
        args: [{ scaleFactor: 1.5, mode: "bilinear" }],
      },
      { label: "nearest, width 1 → 17", inputs: [x4([1, 1, 2, 1], 10)], args: [{ size: [3, 17] }] },
      {
        label: "extremes",
        inputs: [values64([...EXTREMES, 2, 3, 4], [1, 1, 4, 4])],
        args: [{ scaleFactor: 2 }],
        grad: false,
      },
    ],
    differentiable: true,
    errors: [
      {
        label: "3-D input",
        call: () => wnn.nn.functional.interpolate(wnn.zeros([1, 4, 4]), { scaleFactor: 2 }),
        error: ShapeError,
        message: [/interpolate/, /\(1,4,4\)/],
      },
      {
        label: "both size and scaleFactor",
        call: () => wnn.nn.functional.interpolate(wnn.zeros([1, 1, 4, 4]), { size: 8, scaleFactor: 2 }),
        error: ArgumentError,
        message: [/interpolate/, /size/, /scaleFactor/],
      },
      {
        label: "alignCorners with nearest",
        call: () => wnn.nn.functional.interpolate(wnn.zeros([1, 1, 4, 4]), { size: 8, alignCorners: true }),
        error: ArgumentError,
        message: [/interpolate/, /alignCorners/],
      },
    ],
  },
];
