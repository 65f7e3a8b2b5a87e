// What gives DeBERTa its MLM lead in the encoder-compare recipe: its relative positions in the attention, or the
// enhanced mask decoder (the last layer re-run with absolute positions added to its queries)? The recipe's MLM
// pretraining alone for DeBERTa, as tools/peers/encoder-init.mjs runs it — the recipe's task, window order,
// masks, optimizer and validation set (src/recipes/encoder-compare.ts: encoderTask, contenders, pretrain), its
// defaults except the steps and evaluation interval; every Linear and Embedding weight re-drawn N(0, 0.02²) from
// the recipe's weight seed (so `recipe` repeats encoder-init.mjs's DeBERTa 0.02 row); one thread — with one or
// more parts switched off. No model code changes: the switches are frozen zeroed tables and a loss that skips
// the EMD.
//
//   npm run build && node tools/peers/deberta-ablate.mjs VARIANT [STEPS] [EVAL_EVERY]
//
// VARIANT: `recipe`, or switches joined by "+":
//   noEmd   the MLM head on the trunk's last layer (L layer passes, DebertaForMaskedLM's path) instead of the EMD;
//           the EMD's table z is frozen and unused
//   noZ     the EMD kept (L + 1 layer passes) but its absolute table z zeroed and frozen: queries H + 0
//   noRel   the relative table P zeroed and frozen and its LayerNorm frozen (γ 1, β 0), so LN(P) = 0 in every
//           layer: K^r = b_k, Q^r = b_q for all distances. c2p = Q_i·b_k is the same for every key (the softmax
//           ignores it), p2c = K_j·b_q a per-key content bias — no position information; the 1/√(3·hs) scale stays
// e.g. noRel+noEmd: no position information at all. Prints the validation MLM loss every EVAL_EVERY steps and a
// RESULT line.

import { setNumThreads } from "../../dist/src/index-node.js";
import { noGrad } from "../../dist/src/engine/autograd.js";
import { Generator, manualSeed } from "../../dist/src/engine/rng.js";
import { loadMobyDick, loadSpamAssassin } from "../../dist/src/data/node/datasets.js";
import { initWeights } from "../../dist/src/models/bert/model.js";
import {
  contenders,
  encoderCompareRecipe,
  encoderTask,
  maskBatch,
  maskedLmLoss,
  pretrain,
  single,
} from "../../dist/src/recipes/encoder-compare.js";

setNumThreads(1);
const [variant = "recipe", stepsArg = "400", evalArg = "100"] = process.argv.slice(2);
const flags = new Set(variant === "recipe" ? [] : variant.split("+"));
for (const f of flags)
  if (!["noEmd", "noZ", "noRel"].includes(f))
    throw new Error(`unknown switch ${f}; recipe, or noEmd, noZ, noRel joined by +`);
const o = { ...encoderCompareRecipe.defaults, mlmSteps: Number(stepsArg), evalEvery: Number(evalArg) };
manualSeed(o.seed);
const task = encoderTask(loadMobyDick(), loadSpamAssassin(), o);
const c = contenders(task, o).find((x) => x.name === "DeBERTa");
const m = c.pretrain; // DebertaForMaskedLMWithEMD
initWeights(m, new Generator(o.seed + 1), 0.02); // as encoder-init.mjs DeBERTa 0.02

const freezeZero = (p, zero) => {
  if (zero) p.storage.fill(0);
  p.requiresGrad = false; // no gradient: AdamW and the clipping skip it
};
noGrad(() => {
  if (flags.has("noRel")) {
    freezeZero(m.encoder.relEmb.weight, true);
    freezeZero(m.encoder.relNorm.weight, false); // γ = 1
    freezeZero(m.encoder.relNorm.bias, false); //   β = 0
  }
  if (flags.has("noZ") || flags.has("noEmd")) freezeZero(m.emd.posEmb.weight, flags.has("noZ"));
});

let contender = c; // recipe, noZ, noRel: the recipe's own loss (encode L − 1 layers, then the EMD)
if (flags.has("noEmd")) {
  const L = m.config.nLayer;
  const masks = new Generator(o.seed + 4); // the recipe's DeBERTa mask stream (contenders: debertaMasks)
  const loss = (idx, targets) => maskedLmLoss(m.encoder.encode(idx, {}, L).x, targets, m.mlmHead); // all L layers, head
  contender = {
    ...c,
    mlmLoss: (ids) => {
      const { idx, targets } = maskBatch(
        ids.map((i) => single(task.windows[i])),
        task.vocabSize,
        masks,
      );
      return loss(idx, targets);
    },
    valLoss: (idx, targets) => {
      m.eval();
      const v = noGrad(() => loss(idx, targets)).item();
      m.train();
      return v;
    },
  };
}
const trained = m
  .parameters()
  .filter((p) => p.requiresGrad)
  .reduce((s, p) => s + p.numel(), 0);
console.log(`DeBERTa ${variant}: ${trained} trainable parameters (${m.numParameters()} in the model)`);

manualSeed(o.seed); // dropout, as the recipe seeds it before each contender
const res = pretrain(contender, task, o, { log: (s) => console.log(s) });
console.log(
  `RESULT DeBERTa ${variant} val MLM loss ${res.curve.map(([s, v]) => `${s}:${v.toFixed(3)}`).join(" ")} (${res.seconds.toFixed(0)} s)`,
);
