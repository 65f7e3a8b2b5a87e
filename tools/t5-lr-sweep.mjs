// The learning-rate sweep behind the encoder-decoder-compare recipe's t5LrScale (docs/compare/encoder-decoder.md,
// "What held T5 back"): T5 v1.0 at the recipe's size (t5Contender: C 128, 4 heads, 2+2 layers, d_ff 512, tied head),
// from random weights, on the dates task only — 400 steps × 32 dates, AdamW (β 0.9, 0.999, weight decay 0.01), the
// recipe's schedule (warmup 5%, cosine to lr/10), gradients clipped to 1, one thread — printing the training loss
// every 50 steps and the exact match on 200 held-out dates every 100. Each run ≈ 90–140 s. After `npm run build`:
//
//   node tools/t5-lr-sweep.mjs --variant=mesh                 # one lr for all: 2.5%
//   node tools/t5-lr-sweep.mjs --variant=qlr                  # W_Q at lr/√d_kv: 18.5%
//   node tools/t5-lr-sweep.mjs --variant=rel                  # every matrix's lr ∝ its init σ (W_Q lr/√d_kv, W_o lr·√(C/F), embedding lr·√C): 25.5%
//   node tools/t5-lr-sweep.mjs --variant=emblr                # only the embedding at lr·√C: 2.5%
//   node tools/t5-lr-sweep.mjs --variant=mesh --posscale=100  # the position tables at 100·lr: 75.5%
//   node tools/t5-lr-sweep.mjs --variant=qlr --posscale=100   # the recipe's choice: 99.5%
//   options: --lr=0.002 --steps=400 --batch=32 --posscale=1; --model=BART runs bartContender instead
import * as wnn from "../dist/src/index.js";
import { t5Contender, bartContender, CharVocab } from "../dist/src/recipes/encoder-decoder-compare.js";
import { datesTask } from "../dist/src/data/tasks/dates.js";
import { distinctPairs } from "../dist/src/data/tasks/seq.js";
import { Generator } from "../dist/src/engine/rng.js";
import { AdamW } from "../dist/src/optim/adam.js";
import { clipGradNorm } from "../dist/src/optim/clip.js";
import { cosineWithWarmup } from "../dist/src/optim/schedulers.js";

wnn.setNumThreads(1);
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, "").split("=")));
const steps = Number(args.steps ?? 400),
  lr = Number(args.lr ?? 2e-3),
  batchN = Number(args.batch ?? 32);
const variant = args.variant ?? "mesh",
  posScale = Number(args.posscale ?? 1);
const task = datesTask();
const vocab = new CharVocab(task.srcVocab.symbols.join("") + task.tgtVocab.symbols.join(""));
const size = { vocabSize: vocab.size, dModel: 128, nHead: 4, layers: 2, dFF: 512, maxPositions: 66 };
const c = (args.model ?? "T5") === "T5" ? t5Contender(size, 1) : bartContender(size, 1);
const C = size.dModel,
  dKv = C / size.nHead;

// one parameter group per parameter, with its lr multiplier (the contender's own t5LrScale is ignored here)
const groups = c.model.namedParameters().map(([name, p]) => {
  let s = 1;
  if (variant === "qlr" && /\.wq\.weight$/.test(name)) s = 1 / Math.sqrt(dKv);
  if (variant === "rel") {
    if (/\.wq\.weight$/.test(name)) s = 1 / Math.sqrt(dKv);
    else if (/tokEmb|lmHead/.test(name)) s = Math.sqrt(C);
    else if (/\.down\.weight$/.test(name)) s = Math.sqrt(C / size.dFF);
  }
  if (variant === "emblr" && /tokEmb|lmHead/.test(name)) s = Math.sqrt(C);
  if (/PosBias/.test(name)) s *= posScale;
  return { p, s };
});
const opt = new AdamW(
  groups.map((g) => ({ params: [g.p] })),
  { lr, betas: [0.9, 0.999], weightDecay: 0.01 },
);
const params = c.model.parameters();
const schedule = cosineWithWarmup({
  warmupIters: Math.max(1, Math.round(0.05 * steps)),
  lrDecayIters: steps,
  maxLr: lr,
  minLr: lr / 10,
});
const test = distinctPairs(task, 200, new Generator(3));
const held = new Set(test.map((p) => p.src));
const dataG = new Generator(6);
const exactMatch = () => {
  c.model.eval();
  const hyps = c
    .greedy(
      test.map((p) => vocab.encode(p.src)),
      11,
    )
    .map((ids) => vocab.decode(ids));
  c.model.train();
  return hyps.filter((h, i) => h === test[i].tgt).length / test.length;
};
const t0 = performance.now();
let window = 0;
c.model.train();
for (let step = 1; step <= steps; step++) {
  opt.paramGroups.forEach((g, i) => (g.lr = schedule(step - 1) * groups[i].s));
  c.model.zeroGrad();
  const batch = [];
  while (batch.length < batchN) {
    const p = task.sample(dataG);
    if (!held.has(p.src)) batch.push({ src: vocab.encode(p.src), tgt: vocab.encode(p.tgt) });
  }
  const loss = c.loss(batch);
  loss.backward();
  clipGradNorm(params, 1);
  opt.step();
  window += loss.item();
  if (step % 50 === 0) {
    const em = step % 100 === 0 ? `, exact match ${exactMatch()}` : "";
    console.log(
      `${c.name} ${variant} posscale ${posScale} lr ${lr} step ${step}: loss ${(window / 50).toFixed(4)}${em} (${((performance.now() - t0) / 1000).toFixed(0)} s)`,
    );
    window = 0;
  }
}
