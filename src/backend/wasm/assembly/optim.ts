// AssemblyScript: the Adam/AdamW update of PyTorch 1.13's single-tensor path (../../reference/optim.ts),
// four float32 lanes at a time, in float32 arithmetic. In place over n elements (whole vectors: the
// JavaScript side pads the regions).
//
//   θ ← θ·(1 − lr·λ)                  AdamW (decoupled = 1);  Adam: g ← g + λ·θ
//   m ← β1·m + (1 − β1)·g
//   v ← β2·v + (1 − β2)·g²
//   θ ← θ − step_size·m / (√v / √(1 − β2ᵗ) + ε),  step_size = lr / (1 − β1ᵗ)

export function adamF32(param: usize, grad: usize, m: usize, v: usize, n: i32, decay: f32, weightDecay: f32, decoupled: i32, beta1: f32, beta2: f32, eps: f32, stepSize: f32, bc2Sqrt: f32): void {
  const dec = f32x4.splat(decay), wd = f32x4.splat(weightDecay);
  const b1 = f32x4.splat(beta1), c1 = f32x4.splat(1 - beta1), b2 = f32x4.splat(beta2), c2 = f32x4.splat(1 - beta2);
  const ev = f32x4.splat(eps), ss = f32x4.splat(-stepSize), bc = f32x4.splat(bc2Sqrt);
  const end = <usize>n << 2;
  for (let o: usize = 0; o < end; o += 16) {
    let p = v128.load(param + o), g = v128.load(grad + o);
    if (decoupled) p = f32x4.mul(p, dec);
    else g = f32x4.add(g, f32x4.mul(wd, p));
    const mi = f32x4.add(f32x4.mul(v128.load(m + o), b1), f32x4.mul(c1, g));
    const vi = f32x4.add(f32x4.mul(v128.load(v + o), b2), f32x4.mul(f32x4.mul(c2, g), g));
    v128.store(m + o, mi);
    v128.store(v + o, vi);
    const denom = f32x4.add(f32x4.div(f32x4.sqrt(vi), bc), ev);
    v128.store(param + o, f32x4.add(p, f32x4.div(f32x4.mul(ss, mi), denom)));
  }
}

// The same update over many tensors in one call (one call per parameter group and step instead of one per
// parameter). `table` holds `count` rows of 8 four-byte slots, written by the JavaScript side (../optim.ts):
//
//   [0] param  [1] grad  [2] m  [3] v   byte offsets of the tensor's four regions
//   [4] n                               its element count
//   [5] step_size = lr / (1 − β1ᵗ)      float32, at this tensor's own step t
//   [6] √(1 − β2ᵗ)                      float32
//   [7] unused (a row is 32 bytes)
//
// Each row runs adamF32 itself, so every element sees exactly the arithmetic of the per-tensor call.

const ADAM_ROW_BYTES: usize = 32; // ADAM_ROW_BYTES of ../optim.ts

export function adamMultiF32(table: usize, count: i32, decay: f32, weightDecay: f32, decoupled: i32, beta1: f32, beta2: f32, eps: f32): void {
  for (let i = 0; i < count; i++) {
    const row = table + <usize>i * ADAM_ROW_BYTES;
    adamF32(
      load<u32>(row, 0), load<u32>(row, 4), load<u32>(row, 8), load<u32>(row, 12), load<i32>(row, 16),
      decay, weightDecay, decoupled, beta1, beta2, eps, load<f32>(row, 20), load<f32>(row, 24),
    );
  }
}
