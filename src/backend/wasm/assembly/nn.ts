// AssemblyScript: row-wise float32 kernels over (rows, cols) matrices with contiguous rows: layerNorm and
// its backward, softmax/logSoftmax and their backwards, cross-entropy and its backward (class dim last).
// Each row runs a four-lane loop over its first ⌊cols/4⌋·4 entries and a scalar loop over the rest.
// Formulas and special values are the reference kernels' (../../reference/nn.ts), with sums
// accumulated in float32 lanes instead of float64.

import { exp4, hmax, hsum, kc, K_NEG_INF, logf, madd } from "./vmath";

/** eˣ of one float32 through the vector routine (the same rounding as the vector lanes). */
// @ts-ignore: decorator
@inline function exp1(x: f32): f32 {
  return f32x4.extract_lane(exp4(f32x4.splat(x)), 0);
}

/** Σ_i x_i over a row of n floats. */
function rowSum(x: usize, n: i32): f32 {
  const n4 = n & ~3;
  let acc = f32x4.splat(0);
  for (let i = 0; i < n4; i += 4) acc = f32x4.add(acc, v128.load(x + (<usize>i << 2)));
  let s = hsum(acc);
  for (let i = n4; i < n; i++) s += load<f32>(x + (<usize>i << 2));
  return s;
}

/** max_i x_i over a row of n ≥ 1 floats; NaN wins. */
function rowMax(x: usize, n: i32): f32 {
  const n4 = n & ~3;
  let acc = kc(K_NEG_INF);
  for (let i = 0; i < n4; i += 4) acc = f32x4.max(acc, v128.load(x + (<usize>i << 2)));
  let m = hmax(acc);
  for (let i = n4; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    if (v > m || isNaN(v)) m = v;
  }
  return m;
}

/** Σ_i e^(x_i − m) over a row; writes e^(x_i − m) to y when y ≠ 0. */
function rowExpSum(x: usize, n: i32, m: f32, y: usize): f32 {
  const n4 = n & ~3;
  const mv = f32x4.splat(m);
  let acc = f32x4.splat(0);
  for (let i = 0; i < n4; i += 4) {
    const e = exp4(f32x4.sub(v128.load(x + (<usize>i << 2)), mv));
    if (y != 0) v128.store(y + (<usize>i << 2), e);
    acc = f32x4.add(acc, e);
  }
  let s = hsum(acc);
  for (let i = n4; i < n; i++) {
    const e = exp1(load<f32>(x + (<usize>i << 2)) - m);
    if (y != 0) store<f32>(y + (<usize>i << 2), e);
    s += e;
  }
  return s;
}

/** log Σ_i e^(x_i) of a row: m + log Σ e^(x − m); −inf when every entry is −inf (or n = 0). */
function rowLogSumExp(x: usize, n: i32): f32 {
  if (n == 0) return -Infinity;
  const m = rowMax(x, n);
  if (m == -Infinity) return -Infinity;
  return m + logf(rowExpSum(x, n, m, 0));
}

// -----------------------------------------------------------------------------------------------------
// layerNorm

/** One row of layerNorm with float64 sums (the reference's arithmetic). */
function layerNormRow64(xr: usize, w: usize, b: usize, yr: usize, mean: usize, rstd: usize, cols: i32, eps: f32): void {
  let s: f64 = 0;
  for (let i = 0; i < cols; i++) s += <f64>load<f32>(xr + (<usize>i << 2));
  const mu = s / <f64>cols;
  let v: f64 = 0;
  for (let i = 0; i < cols; i++) {
    const d = <f64>load<f32>(xr + (<usize>i << 2)) - mu;
    v += d * d;
  }
  const rs = 1 / Math.sqrt(v / <f64>cols + <f64>eps);
  store<f32>(mean, <f32>mu);
  store<f32>(rstd, <f32>rs);
  for (let i = 0; i < cols; i++) {
    const o = <usize>i << 2;
    store<f32>(yr + o, <f32>((<f64>load<f32>(xr + o) - mu) * rs * <f64>load<f32>(w + o) + <f64>load<f32>(b + o)));
  }
}

/** y = (x − μ)·rstd·w + b per row; mean and rstd per row. w and b point at cols floats (ones / zeros when absent). */
export function layerNormF32(x: usize, w: usize, b: usize, y: usize, mean: usize, rstd: usize, rows: i32, cols: i32, eps: f32): void {
  const c4 = cols & ~3;
  for (let r = 0; r < rows; r++) {
    const xr = x + (<usize>(r * cols) << 2), yr = y + (<usize>(r * cols) << 2);
    // μ = Σ x / n,  σ² = Σ (x − μ)² / n   (biased, two passes)
    const mu = rowSum(xr, cols) / <f32>cols;
    const muv = f32x4.splat(mu);
    let acc = f32x4.splat(0);
    for (let i = 0; i < c4; i += 4) {
      const dlt = f32x4.sub(v128.load(xr + (<usize>i << 2)), muv);
      acc = madd(dlt, dlt, acc);
    }
    let v = hsum(acc);
    for (let i = c4; i < cols; i++) {
      const dlt = load<f32>(xr + (<usize>i << 2)) - mu;
      v += dlt * dlt;
    }
    if (!isFinite(mu) || !isFinite(v)) {
      // |x| beyond ~1e19 overflows the float32 sums: this row in float64, as the reference
      layerNormRow64(xr, w, b, yr, mean + (<usize>r << 2), rstd + (<usize>r << 2), cols, eps);
      continue;
    }
    const rs: f32 = 1 / Mathf.sqrt(v / <f32>cols + eps);
    store<f32>(mean + (<usize>r << 2), mu);
    store<f32>(rstd + (<usize>r << 2), rs);
    // y = (x − μ)·rstd·w + b
    const rsv = f32x4.splat(rs);
    for (let i = 0; i < c4; i += 4) {
      const o = <usize>i << 2;
      const xhat = f32x4.mul(f32x4.sub(v128.load(xr + o), muv), rsv);
      v128.store(yr + o, madd(xhat, v128.load(w + o), v128.load(b + o)));
    }
    for (let i = c4; i < cols; i++) {
      const o = <usize>i << 2;
      store<f32>(yr + o, (load<f32>(xr + o) - mu) * rs * load<f32>(w + o) + load<f32>(b + o));
    }
  }
}

/** dx (overwritten); dw, db (accumulated into: cols floats each) from dy. w points at ones when absent. */
export function layerNormBackwardF32(dy: usize, x: usize, w: usize, mean: usize, rstd: usize, dx: usize, dw: usize, db: usize, rows: i32, cols: i32): void {
  const c4 = cols & ~3;
  const inv: f32 = 1 / <f32>cols;
  for (let r = 0; r < rows; r++) {
    const ro = <usize>(r * cols) << 2;
    const xr = x + ro, dyr = dy + ro, dxr = dx + ro;
    const mu = load<f32>(mean + (<usize>r << 2)), rs = load<f32>(rstd + (<usize>r << 2));
    const muv = f32x4.splat(mu), rsv = f32x4.splat(rs);
    // x̂ = (x − μ)·rstd,  g = dy·w;  Σ g,  Σ g·x̂;  dw += dy·x̂,  db += dy
    let sgv = f32x4.splat(0), sgxv = f32x4.splat(0);
    for (let i = 0; i < c4; i += 4) {
      const o = <usize>i << 2;
      const xhat = f32x4.mul(f32x4.sub(v128.load(xr + o), muv), rsv);
      const d = v128.load(dyr + o);
      const g = f32x4.mul(d, v128.load(w + o));
      sgv = f32x4.add(sgv, g);
      sgxv = madd(g, xhat, sgxv);
      v128.store(dw + o, madd(d, xhat, v128.load(dw + o)));
      v128.store(db + o, f32x4.add(v128.load(db + o), d));
    }
    let sg = hsum(sgv), sgx = hsum(sgxv);
    for (let i = c4; i < cols; i++) {
      const o = <usize>i << 2;
      const xhat = (load<f32>(xr + o) - mu) * rs;
      const d = load<f32>(dyr + o);
      const g = d * load<f32>(w + o);
      sg += g;
      sgx += g * xhat;
      store<f32>(dw + o, load<f32>(dw + o) + d * xhat);
      store<f32>(db + o, load<f32>(db + o) + d);
    }
    // dx = rstd·(g − mean(g) − x̂·mean(g·x̂))
    const mg = sg * inv, mgx = sgx * inv;
    const mgv = f32x4.splat(mg), mgxv = f32x4.splat(mgx);
    for (let i = 0; i < c4; i += 4) {
      const o = <usize>i << 2;
      const xhat = f32x4.mul(f32x4.sub(v128.load(xr + o), muv), rsv);
      const g = f32x4.mul(v128.load(dyr + o), v128.load(w + o));
      v128.store(dxr + o, f32x4.mul(rsv, f32x4.sub(f32x4.sub(g, mgv), f32x4.mul(xhat, mgxv))));
    }
    for (let i = c4; i < cols; i++) {
      const o = <usize>i << 2;
      const xhat = (load<f32>(xr + o) - mu) * rs;
      const g = load<f32>(dyr + o) * load<f32>(w + o);
      store<f32>(dxr + o, rs * (g - mg - xhat * mgx));
    }
  }
}

// -----------------------------------------------------------------------------------------------------
// softmax / logSoftmax along the last dim

/** y_i = e^(x_i − m) / Σ_k e^(x_k − m) per row (y may equal x). */
export function softmaxF32(x: usize, y: usize, rows: i32, cols: i32): void {
  const c4 = cols & ~3;
  for (let r = 0; r < rows; r++) {
    const ro = <usize>(r * cols) << 2;
    const m = rowMax(x + ro, cols);
    const s = rowExpSum(x + ro, cols, m, y + ro);
    const inv = f32x4.splat(<f32>1 / s);
    for (let i = 0; i < c4; i += 4) v128.store(y + ro + (<usize>i << 2), f32x4.mul(v128.load(y + ro + (<usize>i << 2)), inv));
    for (let i = c4; i < cols; i++) store<f32>(y + ro + (<usize>i << 2), load<f32>(y + ro + (<usize>i << 2)) / s);
  }
}

/** dx_i = y_i·(dy_i − Σ_k dy_k·y_k) per row. */
export function softmaxBackwardF32(y: usize, dy: usize, dx: usize, rows: i32, cols: i32): void {
  const c4 = cols & ~3;
  for (let r = 0; r < rows; r++) {
    const ro = <usize>(r * cols) << 2;
    let acc = f32x4.splat(0);
    for (let i = 0; i < c4; i += 4) acc = madd(v128.load(dy + ro + (<usize>i << 2)), v128.load(y + ro + (<usize>i << 2)), acc);
    let dot = hsum(acc);
    for (let i = c4; i < cols; i++) dot += load<f32>(dy + ro + (<usize>i << 2)) * load<f32>(y + ro + (<usize>i << 2));
    const dv = f32x4.splat(dot);
    for (let i = 0; i < c4; i += 4) {
      const o = ro + (<usize>i << 2);
      v128.store(dx + o, f32x4.mul(v128.load(y + o), f32x4.sub(v128.load(dy + o), dv)));
    }
    for (let i = c4; i < cols; i++) {
      const o = ro + (<usize>i << 2);
      store<f32>(dx + o, load<f32>(y + o) * (load<f32>(dy + o) - dot));
    }
  }
}

/** y_i = x_i − log Σ_k e^(x_k) per row (y may equal x). */
export function logSoftmaxF32(x: usize, y: usize, rows: i32, cols: i32): void {
  const c4 = cols & ~3;
  for (let r = 0; r < rows; r++) {
    const ro = <usize>(r * cols) << 2;
    const lse = rowLogSumExp(x + ro, cols);
    const lv = f32x4.splat(lse);
    for (let i = 0; i < c4; i += 4) v128.store(y + ro + (<usize>i << 2), f32x4.sub(v128.load(x + ro + (<usize>i << 2)), lv));
    for (let i = c4; i < cols; i++) store<f32>(y + ro + (<usize>i << 2), load<f32>(x + ro + (<usize>i << 2)) - lse);
  }
}

/** dx_i = dy_i − e^(y_i)·Σ_k dy_k per row. */
export function logSoftmaxBackwardF32(y: usize, dy: usize, dx: usize, rows: i32, cols: i32): void {
  const c4 = cols & ~3;
  for (let r = 0; r < rows; r++) {
    const ro = <usize>(r * cols) << 2;
    const s = rowSum(dy + ro, cols);
    const sv = f32x4.splat(s);
    for (let i = 0; i < c4; i += 4) {
      const o = ro + (<usize>i << 2);
      v128.store(dx + o, f32x4.sub(v128.load(dy + o), f32x4.mul(exp4(v128.load(y + o)), sv)));
    }
    for (let i = c4; i < cols; i++) {
      const o = ro + (<usize>i << 2);
      store<f32>(dx + o, load<f32>(dy + o) - exp1(load<f32>(y + o)) * s);
    }
  }
}

// -----------------------------------------------------------------------------------------------------
// cross-entropy of logits (rows, c) against int32 targets (rows)

/** losses and lse per row: loss = (1−ε)·(lse − x_t) + ε·(lse − Σ_c x_c / C); 0 where target = ignoreIndex. */
export function crossEntropyF32(logits: usize, target: usize, losses: usize, lse: usize, rows: i32, c: i32, ignoreIndex: i32, eps: f32): void {
  for (let r = 0; r < rows; r++) {
    const xr = logits + (<usize>(r * c) << 2);
    const l = rowLogSumExp(xr, c);
    store<f32>(lse + (<usize>r << 2), l);
    const t = load<i32>(target + (<usize>r << 2));
    if (t == ignoreIndex) {
      store<f32>(losses + (<usize>r << 2), 0);
      continue;
    }
    let loss: f32 = (<f32>1 - eps) * (l - load<f32>(xr + (<usize>t << 2)));
    if (eps > 0) loss += eps * (l - rowSum(xr, c) / <f32>c);
    store<f32>(losses + (<usize>r << 2), loss);
  }
}

/** dlogits = dloss·(e^(x − lse) − (1−ε)·[c = t] − ε/C) per row; 0 rows where target = ignoreIndex. */
export function crossEntropyBackwardF32(logits: usize, target: usize, lse: usize, dloss: usize, dlogits: usize, rows: i32, c: i32, ignoreIndex: i32, eps: f32): void {
  const c4 = c & ~3;
  const off: f32 = eps / <f32>c;
  for (let r = 0; r < rows; r++) {
    const ro = <usize>(r * c) << 2;
    const t = load<i32>(target + (<usize>r << 2));
    if (t == ignoreIndex) {
      memory.fill(dlogits + ro, 0, <usize>c << 2);
      continue;
    }
    const g = load<f32>(dloss + (<usize>r << 2)), l = load<f32>(lse + (<usize>r << 2));
    const gv = f32x4.splat(g), lv = f32x4.splat(l), ov = f32x4.splat(off);
    for (let i = 0; i < c4; i += 4) {
      const o = ro + (<usize>i << 2);
      v128.store(dlogits + o, f32x4.mul(gv, f32x4.sub(exp4(f32x4.sub(v128.load(logits + o), lv)), ov)));
    }
    for (let i = c4; i < c; i++) {
      const o = ro + (<usize>i << 2);
      store<f32>(dlogits + o, g * (exp1(load<f32>(logits + o) - l) - off));
    }
    // the target's entry: − (1−ε)·dloss
    const o = ro + (<usize>t << 2);
    store<f32>(dlogits + o, g * (exp1(load<f32>(logits + o) - l) - (<f32>1 - eps) - off));
  }
}

// -----------------------------------------------------------------------------------------------------
// rmsNorm

/** One row of rmsNorm with a float64 sum of squares (the reference's arithmetic), for rows that overflow float32. */
function rmsNormRow64(xr: usize, w: usize, yr: usize, rstd: usize, cols: i32, eps: f32): void {
  let s: f64 = 0;
  for (let i = 0; i < cols; i++) {
    const v = <f64>load<f32>(xr + (<usize>i << 2));
    s += v * v;
  }
  const rs = 1 / Math.sqrt(s / <f64>cols + <f64>eps);
  store<f32>(rstd, <f32>rs);
  for (let i = 0; i < cols; i++) {
    const o = <usize>i << 2;
    store<f32>(yr + o, <f32>(<f64>load<f32>(xr + o) * rs * <f64>load<f32>(w + o)));
  }
}

/** y = x·rstd·w per row with rstd = 1/√(mean(x²) + eps); rstd per row. w points at cols floats (ones when absent). */
export function rmsNormF32(x: usize, w: usize, y: usize, rstd: usize, rows: i32, cols: i32, eps: f32): void {
  const c4 = cols & ~3;
  for (let r = 0; r < rows; r++) {
    const xr = x + (<usize>(r * cols) << 2), yr = y + (<usize>(r * cols) << 2);
    // Σ x²
    let acc = f32x4.splat(0);
    for (let i = 0; i < c4; i += 4) {
      const v = v128.load(xr + (<usize>i << 2));
      acc = madd(v, v, acc);
    }
    let s = hsum(acc);
    for (let i = c4; i < cols; i++) {
      const v = load<f32>(xr + (<usize>i << 2));
      s += v * v;
    }
    if (!isFinite(s)) {
      // |x| beyond ~1e19 overflows the float32 sum: this row in float64, as the reference
      rmsNormRow64(xr, w, yr, rstd + (<usize>r << 2), cols, eps);
      continue;
    }
    const rs: f32 = 1 / Mathf.sqrt(s / <f32>cols + eps);
    store<f32>(rstd + (<usize>r << 2), rs);
    // y = x·rstd·w
    const rsv = f32x4.splat(rs);
    for (let i = 0; i < c4; i += 4) {
      const o = <usize>i << 2;
      v128.store(yr + o, f32x4.mul(f32x4.mul(v128.load(xr + o), rsv), v128.load(w + o)));
    }
    for (let i = c4; i < cols; i++) {
      const o = <usize>i << 2;
      store<f32>(yr + o, load<f32>(xr + o) * rs * load<f32>(w + o));
    }
  }
}

/** dx (overwritten); dw (accumulated into, cols floats) from dy. w points at ones when absent. */
export function rmsNormBackwardF32(dy: usize, x: usize, w: usize, rstd: usize, dx: usize, dw: usize, rows: i32, cols: i32): void {
  const c4 = cols & ~3;
  const inv: f32 = 1 / <f32>cols;
  for (let r = 0; r < rows; r++) {
    const ro = <usize>(r * cols) << 2;
    const xr = x + ro, dyr = dy + ro, dxr = dx + ro;
    const rs = load<f32>(rstd + (<usize>r << 2));
    const rsv = f32x4.splat(rs);
    // x̂ = x·rstd,  g = dy·w;  Σ g·x̂;  dw += dy·x̂
    let sgxv = f32x4.splat(0);
    for (let i = 0; i < c4; i += 4) {
      const o = <usize>i << 2;
      const xhat = f32x4.mul(v128.load(xr + o), rsv);
      const d = v128.load(dyr + o);
      sgxv = madd(f32x4.mul(d, v128.load(w + o)), xhat, sgxv);
      v128.store(dw + o, madd(d, xhat, v128.load(dw + o)));
    }
    let sgx = hsum(sgxv);
    for (let i = c4; i < cols; i++) {
      const o = <usize>i << 2;
      const xhat = load<f32>(xr + o) * rs;
      const d = load<f32>(dyr + o);
      sgx += d * load<f32>(w + o) * xhat;
      store<f32>(dw + o, load<f32>(dw + o) + d * xhat);
    }
    // dx = rstd·(g − x̂·mean(g·x̂))
    const mgx = sgx * inv;
    const mgxv = f32x4.splat(mgx);
    for (let i = 0; i < c4; i += 4) {
      const o = <usize>i << 2;
      const xhat = f32x4.mul(v128.load(xr + o), rsv);
      const g = f32x4.mul(v128.load(dyr + o), v128.load(w + o));
      v128.store(dxr + o, f32x4.mul(rsv, f32x4.sub(g, f32x4.mul(xhat, mgxv))));
    }
    for (let i = c4; i < cols; i++) {
      const o = <usize>i << 2;
      const xhat = load<f32>(xr + o) * rs;
      const g = load<f32>(dyr + o) * load<f32>(w + o);
      store<f32>(dxr + o, rs * (g - xhat * mgx));
    }
  }
}
