// PyTorch-like printing: `tensor([[ 0.5000, -1.2500], [ 2.0000,  3.0000]], requires_grad=True)`.
// Floats get 4 decimals (scientific notation when the magnitudes call for it); big tensors are
// summarised with "..." keeping 3 items at each edge, as PyTorch does above 1000 elements.

import type { Tensor } from "./tensor.js";

const EDGE = 3;
const THRESHOLD = 1000;

export function formatTensor(t: Tensor): string {
  // a shape-only tensor (src/engine/meta.ts) has no values to print: PyTorch's `tensor(..., device='meta', size=(2, 3))`
  if (t.isMeta)
    return `tensor(..., meta, size=(${t.shape.join(", ")}), dtype=${t.dtype}${t.requiresGrad ? ", requires_grad=True" : ""})`;
  const s = t.storage;
  const summarise = t.numel() > THRESHOLD;
  const isFloat = t.dtype === "float32" || t.dtype === "float64";

  let fmtNum: (v: number) => string;
  if (t.dtype === "bool") fmtNum = (v) => (v ? "True" : "False");
  else if (!isFloat) fmtNum = (v) => String(v);
  else {
    let maxAbs = 0,
      minAbs = Infinity,
      allInt = true;
    for (let i = 0; i < s.length; i++) {
      const v = Math.abs(s[i]!);
      if (!Number.isFinite(v)) continue;
      if (v > maxAbs) maxAbs = v;
      if (v !== 0 && v < minAbs) minAbs = v;
      if (!Number.isInteger(s[i]!)) allInt = false;
    }
    const sci =
      maxAbs >= 1e8 || (minAbs < 1e-4 && minAbs !== Infinity) || (minAbs !== Infinity && maxAbs / minAbs > 1000);
    fmtNum = (v) => {
      if (Number.isNaN(v)) return "nan";
      if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
      if (sci) return v.toExponential(4).replace(/e([+-])(\d)$/, "e$10$2");
      if (allInt) return `${v.toFixed(0)}.`;
      return v.toFixed(4);
    };
  }

  // Collect the printed items once to know the column width.
  const nd = t.ndim;
  const strides: number[] = [];
  let st = 1;
  for (let d = nd - 1; d >= 0; d--) {
    strides[d] = st;
    st *= t.shape[d]!;
  }
  const shown = (n: number): number[] =>
    summarise && n > 2 * EDGE
      ? [...Array(EDGE).keys(), -1, ...Array.from({ length: EDGE }, (_, i) => n - EDGE + i)]
      : [...Array(n).keys()];
  let width = 0;
  const collect = (dim: number, off: number): void => {
    if (dim === nd) {
      width = Math.max(width, fmtNum(s[off]!).length);
      return;
    }
    for (const i of shown(t.shape[dim]!)) if (i >= 0) collect(dim + 1, off + i * strides[dim]!);
  };
  collect(0, 0);

  const indent = "tensor(".length;
  const render = (dim: number, off: number): string => {
    if (dim === nd) return fmtNum(s[off]!).padStart(width);
    const parts = shown(t.shape[dim]!).map((i) => (i < 0 ? "..." : render(dim + 1, off + i * strides[dim]!)));
    if (dim === nd - 1) return `[${parts.join(", ")}]`;
    const sep = "," + "\n".repeat(nd - dim - 1) + " ".repeat(indent + dim + 1);
    return `[${parts.join(sep)}]`;
  };
  const body = nd === 0 ? fmtNum(s[0]!) : render(0, 0);
  const extras: string[] = [];
  if (t.numel() === 0) extras.push(`size=(${t.shape.join(", ")})`);
  if (t.dtype !== "float32" && t.dtype !== "int32" && t.dtype !== "bool") extras.push(`dtype=${t.dtype}`);
  if (t.dtype === "int32") extras.push("dtype=int32");
  if (t.gradFn) extras.push(`grad_fn=<${t.gradFn.name}>`);
  else if (t.requiresGrad) extras.push("requires_grad=True");
  return `tensor(${body}${extras.map((e) => ", " + e).join("")})`;
}
