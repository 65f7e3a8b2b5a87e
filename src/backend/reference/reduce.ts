// Reference reductions over the middle dim of (outer, r, inner): element (o, i, j) sits at
// o·r·inner + i·inner + j and the result (o, j) at o·inner + j. One plain loop nest each.

import type { Arr, ReduceKernels } from "../backend.js";

/** max (better = >) or min (better = <) with the index of the first winner; a NaN wins and stops the scan. */
function extreme(better: (a: number, b: number) => boolean) {
  return (x: Arr, values: Arr, indices: Int32Array, outer: number, r: number, inner: number): void => {
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const base = o * r * inner + j;
        let best = x[base]!,
          at = 0;
        for (let i = 1; i < r && !Number.isNaN(best); i++) {
          const v = x[base + i * inner]!;
          if (Number.isNaN(v) || better(v, best)) {
            best = v;
            at = i;
          }
        }
        values[o * inner + j] = best;
        indices[o * inner + j] = at;
      }
    }
  };
}

export const reduce: ReduceKernels = {
  sum(x, out, outer, r, inner) {
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        let s = 0;
        for (let i = 0, p = o * r * inner + j; i < r; i++, p += inner) s += x[p]!;
        out[o * inner + j] = s;
      }
    }
  },
  max: extreme((a, b) => a > b),
  topk(x, values, indices, outer, r, inner, k, largest) {
    // order (a, i) before (b, j) when a is better, or equal and i < j; NaN is the largest of all
    const key = (v: number): number => (Number.isNaN(v) ? Infinity : v);
    const ahead = (a: number, i: number, b: number, j: number): boolean => {
      if (Number.isNaN(a) !== Number.isNaN(b)) return largest ? Number.isNaN(a) : Number.isNaN(b);
      const ka = key(a),
        kb = key(b);
      return ka === kb ? i < j : largest ? ka > kb : ka < kb;
    };
    const order = new Int32Array(r);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const base = o * r * inner + j;
        for (let i = 0; i < r; i++) order[i] = i;
        // a partial selection sort: k passes, each bringing the best of the rest to the front
        for (let s = 0; s < k; s++) {
          let best = s;
          for (let i = s + 1; i < r; i++) {
            if (ahead(x[base + order[i]! * inner]!, order[i]!, x[base + order[best]! * inner]!, order[best]!)) best = i;
          }
          const t = order[s]!;
          order[s] = order[best]!;
          order[best] = t;
          values[(o * k + s) * inner + j] = x[base + order[s]! * inner]!;
          indices[(o * k + s) * inner + j] = order[s]!;
        }
      }
    }
  },
  min: extreme((a, b) => a < b),

  logsumexp(x, out, outer, r, inner) {
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const base = o * r * inner + j;
        // m = max_i x_i, taken as 0 when infinite so that all −inf gives −inf and a +inf gives +inf
        let m = -Infinity;
        for (let i = 0; i < r; i++) m = Math.max(m, x[base + i * inner]!); // Math.max propagates NaN
        if (m === Infinity || m === -Infinity) m = 0;
        // lse = m + log Σ_i e^(x_i − m)
        let s = 0;
        for (let i = 0; i < r; i++) s += Math.exp(x[base + i * inner]! - m);
        out[o * inner + j] = m + Math.log(s);
      }
    }
  },

  scatterToIndex(dy, indices, dx, outer, r, inner) {
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const p = o * r * inner + indices[o * inner + j]! * inner + j;
        dx[p] = dx[p]! + dy[o * inner + j]!;
      }
    }
  },
};
