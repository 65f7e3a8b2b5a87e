// BART's init at a small width: the encoder-decoder-compare recipe's BART (C 128, 4 heads, 2+2 layers, d_ff 512)
// trained on a copy task (source = target = 32 characters of Moby Dick) with the recipe's optimizer (AdamW β 0.9,
// 0.999, weight decay 0.01, lr 2e-3, warmup 5% then cosine to lr/10, gradients clipped to 1), batch 16, at a given
// init σ (initStd). Also writes the batches, so that tools/peers/bart_init_torch.py trains the PyTorch reference
// (tools/fixtures/bart.py) on the same data. Prints the mean training loss of every 20 steps.
//
//   npm run build && node tools/peers/bart-init.mjs [initStd 0.02] [steps 200] [batches.json runs/bart-init/batches.json]
//   /usr/bin/python3 tools/peers/bart_init_torch.py runs/bart-init/batches.json [initStd 0.02]

import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { Generator } from "../../dist/src/engine/rng.js";
import { AdamW } from "../../dist/src/optim/adam.js";
import { clipGradNorm } from "../../dist/src/optim/clip.js";
import { cosineWithWarmup } from "../../dist/src/optim/schedulers.js";
import { bartContender, CharVocab, normalizeText } from "../../dist/src/recipes/encoder-decoder-compare.js";
import { loadMobyDick } from "../../dist/src/node.js";

const initStd = Number(process.argv[2] ?? 0.02),
  steps = Number(process.argv[3] ?? 200),
  out = process.argv[4] ?? "runs/bart-init/batches.json";
const chunk = 32,
  batchSize = 16,
  lr = 2e-3;
const text = normalizeText(loadMobyDick());
const vocab = new CharVocab(text);
const ids = vocab.encode(text.slice(0, 200_000));
const g = new Generator(2);
const batches = Array.from({ length: steps }, () =>
  Array.from({ length: batchSize }, () => {
    const start = g.randint(0, ids.length - chunk);
    return ids.slice(start, start + chunk);
  }),
);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify({ vocab: vocab.size, pad: 0, eos: 1, chunk, lr, batches }));

const c = bartContender(
  { vocabSize: vocab.size, dModel: 128, nHead: 4, layers: 2, dFF: 512, maxPositions: Math.max(chunk, 40) + 2 },
  1,
  initStd,
);
const params = c.model.parameters();
const opt = new AdamW(params, { lr, betas: [0.9, 0.999], weightDecay: 0.01 });
const schedule = cosineWithWarmup({
  warmupIters: Math.max(1, Math.round(0.05 * steps)),
  lrDecayIters: steps,
  maxLr: lr,
  minLr: lr / 10,
});
c.model.train();
const means = [];
let sum = 0;
batches.forEach((batch, i) => {
  for (const group of opt.paramGroups) group.lr = schedule(i);
  c.model.zeroGrad();
  const loss = c.loss(batch.map((p) => ({ src: p, tgt: p })));
  loss.backward();
  clipGradNorm(params, 1);
  opt.step();
  sum += loss.item();
  if ((i + 1) % 20 === 0) {
    means.push(`${i + 1}:${(sum / 20).toFixed(3)}`);
    sum = 0;
  }
});
console.log(`ours, BART copy task, initStd ${initStd}: ${means.join(" ")}`);
