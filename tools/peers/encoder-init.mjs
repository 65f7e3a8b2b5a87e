// The encoder-compare recipe's MLM pretraining alone, for one contender, with its weights re-initialised:
// is BERT's and RoBERTa's slow MLM at C = 128 the N(0, 0.02²) init, as BART's was (BART README, "Init at a
// small width")? The recipe's task, contenders, window order, masks, optimizer and validation set
// (src/recipes/encoder-compare.ts: encoderTask, contenders, pretrain), its defaults except the steps, lr and
// evaluation interval; one thread (the recorded runs used one).
//
//   npm run build && node tools/peers/encoder-init.mjs MODEL STD STEPS [LR] [EVAL_EVERY] [POSITIONS]
//
// MODEL: BERT | RoBERTa | DeBERTa. STD: σ, or c for 1/√C; every Linear and Embedding weight of the pretraining
// model is re-drawn N(0, σ²) from the recipe's weight seed (bert/model.ts initWeights: biases 0, padding row
// 0), so that two σ differ by the scale only. POSITIONS (BERT, RoBERTa: the learned absolute table posEmb):
//   noPos      zeroed and frozen — no position information at all
//   sinPos     sinusoids (Vaswani §3.5) scaled to rms 0.02, trainable
//   posStd=X   re-drawn N(0, X²) after the rest
// Prints the validation MLM loss every EVAL_EVERY steps and a RESULT line.

import { setNumThreads } from "../../dist/src/index-node.js";
import { noGrad } from "../../dist/src/engine/autograd.js";
import { Generator, manualSeed } from "../../dist/src/engine/rng.js";
import { normal_ } from "../../dist/src/nn/init.js";
import { loadMobyDick, loadSpamAssassin } from "../../dist/src/data/node/datasets.js";
import { initWeights } from "../../dist/src/models/bert/model.js";
import { contenders, encoderCompareRecipe, encoderTask, pretrain } from "../../dist/src/recipes/encoder-compare.js";

setNumThreads(1);
const [model = "RoBERTa", stdArg = "0.02", stepsArg = "300", lrArg = "1e-3", evalArg = "50", positions = ""] =
  process.argv.slice(2);
const o = {
  ...encoderCompareRecipe.defaults,
  mlmSteps: Number(stepsArg),
  mlmLr: Number(lrArg),
  evalEvery: Number(evalArg),
};
manualSeed(o.seed);
const task = encoderTask(loadMobyDick(), loadSpamAssassin(), o);
const c = contenders(task, o).find((x) => x.name === model);
if (!c) throw new Error(`unknown model ${model}; BERT, RoBERTa or DeBERTa`);
const std = stdArg === "c" ? 1 / Math.sqrt(o.dModel) : Number(stdArg);
initWeights(c.pretrain, new Generator(o.seed + 1), std);

noGrad(() => {
  for (const [name, p] of c.pretrain.namedParameters()) {
    if (!/posEmb\.weight$/.test(name) || !positions) continue;
    if (positions === "noPos") {
      p.storage.fill(0);
      p.requiresGrad = false; // no gradient: AdamW and the clipping skip it
    } else if (positions === "sinPos") {
      const [P, C] = p.shape;
      // PE(q, 2i) = sin(q / 10000^(2i/C)), PE(q, 2i+1) = cos(…), × 0.02·√2 so that the rms is 0.02
      for (let q = 0; q < P; q++) {
        for (let i = 0; i < C / 2; i++) {
          const w = q / Math.pow(10000, (2 * i) / C);
          p.storage[q * C + 2 * i] = 0.02 * Math.SQRT2 * Math.sin(w);
          p.storage[q * C + 2 * i + 1] = 0.02 * Math.SQRT2 * Math.cos(w);
        }
      }
    } else if (positions.startsWith("posStd=")) {
      normal_(p, 0, Number(positions.slice(7)), { generator: new Generator(99) });
    } else throw new Error(`unknown POSITIONS ${positions}`);
    console.log(`${name}: ${positions}`);
  }
});

manualSeed(o.seed); // dropout, as the recipe seeds it before each contender
const res = pretrain(c, task, o, { log: (s) => console.log(s) });
const sigma = stdArg === "c" ? `1/√C = ${std.toFixed(4)}` : String(std);
console.log(
  `RESULT ${model} σ ${sigma} lr ${o.mlmLr} ${positions} val MLM loss ${res.curve.map(([s, v]) => `${s}:${v.toFixed(3)}`).join(" ")} (${res.seconds.toFixed(0)} s)`,
);
