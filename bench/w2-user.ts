// W2, written as a user would write nanoGPT's step with the public API the PyTorch way: raw parameter
// tensors (no Module), x.matmul(W).add(b), one fused q/k/v projection split with narrow, heads by
// reshape + permute, F.scaledDotProductAttention(isCausal), exact-erf GELU (nn.GELU's default), LayerNorm,
// the tied head as a matmul by wteᵀ, mean cross-entropy, AdamW. The same config, parameter count
// (809,856) and optimizer settings as bench/w2.ts; only the way it is written differs.
//
//   vocabulary: B batch, T context, C channels, nh heads, hs = C / nh, V vocabulary

import * as wnn from "../src/index-node.js";
import { AdamW } from "../src/optim/adam.js";
import { W2_BATCH, W2_CONFIG } from "./w2.js";

const F = wnn.nn.functional;

interface Layer {
  ln1w: wnn.Tensor;
  ln1b: wnn.Tensor;
  wqkv: wnn.Tensor;
  bqkv: wnn.Tensor;
  wo: wnn.Tensor;
  bo: wnn.Tensor;
  ln2w: wnn.Tensor;
  ln2b: wnn.Tensor;
  wup: wnn.Tensor;
  bup: wnn.Tensor;
  wdown: wnn.Tensor;
  bdown: wnn.Tensor;
}

/** The user-written trainer: parameters as plain tensors and a step function. */
export function w2UserTrainer(seed = 1337): { params: wnn.Tensor[]; step: (x: wnn.Tensor, y: wnn.Tensor) => number } {
  wnn.manualSeed(seed);
  const { vocabSize: V, blockSize: T, nEmbd: C, nLayer, nHead: nh } = W2_CONFIG;
  const w = (...shape: number[]): wnn.Tensor => wnn.randn(shape).mul(0.02).requiresGrad_();
  const zeros = (n: number): wnn.Tensor => wnn.zeros([n]).requiresGrad_();
  const ones = (n: number): wnn.Tensor => wnn.ones([n]).requiresGrad_();
  const wte = w(V, C),
    wpe = w(T, C);
  const layers: Layer[] = Array.from({ length: nLayer }, () => ({
    ln1w: ones(C),
    ln1b: zeros(C),
    wqkv: w(C, 3 * C),
    bqkv: zeros(3 * C),
    wo: w(C, C),
    bo: zeros(C),
    ln2w: ones(C),
    ln2b: zeros(C),
    wup: w(C, 4 * C),
    bup: zeros(4 * C),
    wdown: w(4 * C, C),
    bdown: zeros(C),
  }));
  const lnfw = ones(C),
    lnfb = zeros(C);
  const params = [wte, wpe, ...layers.flatMap((l) => Object.values(l)), lnfw, lnfb];
  const decay = params.filter((p) => p.ndim >= 2),
    noDecay = params.filter((p) => p.ndim < 2);
  const opt = new AdamW(
    [
      { params: decay, weightDecay: 0.1 },
      { params: noDecay, weightDecay: 0 },
    ],
    { lr: 1e-3, betas: [0.9, 0.99], eps: 1e-8 },
  );
  const pos = wnn.arange(0, T, 1, { dtype: "int32" });

  const forward = (idx: wnn.Tensor, targets: wnn.Tensor): wnn.Tensor => {
    const [B, Tt] = idx.shape as [number, number];
    let x = F.embedding(idx, wte).add(F.embedding(pos, wpe)); // (B, T, C)
    for (const l of layers) {
      const h = F.layerNorm(x, [C], l.ln1w, l.ln1b);
      const qkv = h.matmul(l.wqkv).add(l.bqkv); // (B, T, 3C)
      const heads = (t: wnn.Tensor): wnn.Tensor => t.reshape([B, Tt, nh, C / nh]).permute(0, 2, 1, 3); // (B, nh, T, hs)
      const q = heads(qkv.narrow(2, 0, C)),
        k = heads(qkv.narrow(2, C, C)),
        v = heads(qkv.narrow(2, 2 * C, C));
      const y = F.scaledDotProductAttention(q, k, v, { isCausal: true }).permute(0, 2, 1, 3).reshape([B, Tt, C]);
      x = x.add(y.matmul(l.wo).add(l.bo));
      const m = F.layerNorm(x, [C], l.ln2w, l.ln2b).matmul(l.wup).add(l.bup).gelu(); // (B, T, 4C)
      x = x.add(m.matmul(l.wdown).add(l.bdown));
    }
    const logits = F.layerNorm(x, [C], lnfw, lnfb).matmul(wte.transpose(0, 1)); // (B, T, V)
    return F.crossEntropy(logits.reshape([B * Tt, V]), targets.reshape([B * Tt]));
  };

  const step = (x: wnn.Tensor, y: wnn.Tensor): number => {
    const loss = forward(x, y);
    opt.zeroGrad();
    loss.backward();
    opt.step();
    return loss.item();
  };
  if (params.reduce((s, p) => s + p.numel(), 0) !== 809_856)
    throw new Error("w2-user: the parameter count differs from W2's");
  void W2_BATCH;
  return { params, step };
}
