// BART's init at a small width, on the encoder-decoder-compare recipe's own tasks (its contenders, tokenizer, data,
// optimizer: AdamW β 0.9, 0.999, weight decay 0.01, lr 2e-3, warmup 5% then cosine to lr/10, gradients clipped to 1):
//   denoise  pretraining steps on 64-character passages of Moby Dick (BART: permutation + infilling, T5: span
//            corruption), batch 16 → the mean training loss of every 20 steps
//   dates    fine-tuning from random weights on the dates task, batch 16, the recipe's held-out 200 dates →
//            teacher-forced test loss, characters right, exact match (greedy)
// A model is T5, BART (the recipe's init, 1/√C) or BART:σ (initStd σ).
//
//   npm run build && node tools/peers/bart-init-recipe.mjs denoise 200 BART:0.02 BART T5
//   node tools/peers/bart-init-recipe.mjs dates 160 BART:0.02 BART T5

import { noGrad } from "../../dist/src/engine/autograd.js";
import { Generator } from "../../dist/src/engine/rng.js";
import { AdamW } from "../../dist/src/optim/adam.js";
import { clipGradNorm } from "../../dist/src/optim/clip.js";
import { cosineWithWarmup } from "../../dist/src/optim/schedulers.js";
import { datesTask } from "../../dist/src/data/tasks/dates.js";
import { distinctPairs } from "../../dist/src/data/tasks/seq.js";
import {
  bartContender,
  bartExample,
  CharVocab,
  normalizeText,
  t5Contender,
  t5Example,
} from "../../dist/src/recipes/encoder-decoder-compare.js";
import { loadMobyDick } from "../../dist/src/node.js";

const [mode = "denoise", stepsArg = "200", ...specs] = process.argv.slice(2);
const steps = Number(stepsArg),
  lr = 2e-3,
  chunk = 64;
const task = datesTask();
const text = normalizeText(loadMobyDick());
const vocab = new CharVocab(text + task.srcVocab.symbols.join("") + task.tgtVocab.symbols.join(""));
const trainText = vocab.encode(text.slice(0, Math.floor(0.9 * text.length)));
const test = distinctPairs(task, 200, new Generator(3));
const heldOut = new Set(test.map((p) => p.src));
const size = {
  vocabSize: vocab.size,
  dModel: 128,
  nHead: 4,
  layers: 2,
  dFF: 512,
  maxPositions: Math.max(chunk, 40) + 2,
};

for (const spec of specs.length ? specs : ["BART:0.02", "BART", "T5"]) {
  const [name, std] = spec.split(":");
  const c = name === "T5" ? t5Contender(size, 1) : std ? bartContender(size, 1, Number(std)) : bartContender(size, 1);
  const params = c.model.parameters();
  const opt = new AdamW(params, { lr, betas: [0.9, 0.999], weightDecay: 0.01 });
  const schedule = cosineWithWarmup({
    warmupIters: Math.max(1, Math.round(0.05 * steps)),
    lrDecayIters: steps,
    maxLr: lr,
    minLr: lr / 10,
  });
  const dataG = new Generator(mode === "dates" ? 6 : 2),
    noiseG = new Generator(4);
  const next = () => {
    const batch = [];
    while (batch.length < 16) {
      if (mode === "dates") {
        const p = task.sample(dataG);
        if (!heldOut.has(p.src)) batch.push({ src: vocab.encode(p.src), tgt: vocab.encode(p.tgt) });
      } else {
        const start = dataG.randint(0, trainText.length - chunk + 1);
        const passage = trainText.slice(start, start + chunk);
        batch.push(name === "T5" ? t5Example(passage, vocab, noiseG) : bartExample(passage, vocab, noiseG));
      }
    }
    return batch;
  };
  const t0 = Date.now(),
    means = [];
  let sum = 0;
  c.model.train();
  for (let step = 1; step <= steps; step++) {
    for (const group of opt.paramGroups) group.lr = schedule(step - 1);
    c.model.zeroGrad();
    const loss = c.loss(next());
    loss.backward();
    clipGradNorm(params, 1);
    opt.step();
    sum += loss.item();
    if (step % 20 === 0) {
      means.push(`${step}:${(sum / 20).toFixed(3)}`);
      sum = 0;
    }
  }
  const seconds = ((Date.now() - t0) / 1000).toFixed(0);
  if (mode !== "dates") {
    console.log(`${spec} denoising, training loss: ${means.join(" ")} [${seconds} s]`);
    continue;
  }
  c.model.eval();
  const examples = test.map((p) => ({ src: vocab.encode(p.src), tgt: vocab.encode(p.tgt) }));
  const testLoss = noGrad(() => c.loss(examples.slice(0, 100)).item() / 2 + c.loss(examples.slice(100)).item() / 2);
  const hyps = c
    .greedy(
      examples.map((e) => e.src),
      11,
    )
    .map((h) => vocab.decode(h));
  let right = 0,
    total = 0,
    exact = 0;
  test.forEach((p, i) => {
    for (let j = 0; j < p.tgt.length; j++) if (hyps[i][j] === p.tgt[j]) right++;
    total += p.tgt.length;
    if (hyps[i] === p.tgt) exact++;
  });
  const pct = (x) => (100 * x).toFixed(1);
  console.log(
    `${spec} dates from scratch, ${steps} steps: test loss ${testLoss.toFixed(4)}, characters right ${pct(right / total)}%, exact match ${pct(exact / test.length)}%; ${test
      .slice(0, 3)
      .map((p, i) => `${p.src} → ${hyps[i]}`)
      .join("; ")} [${seconds} s]`,
  );
}
