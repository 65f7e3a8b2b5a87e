// The first N steps of `wnn train gpt`'s trainer (defaults): batch loss, lr and gradient norm of each,
// to set beside tools/peers/gpt_moby_torch.py --ours (which starts from the same weights and batches).
//
//   npm run build && node tools/peers/ours-first-steps.mjs [N=5]

import { CharTokenizer } from "../../dist/src/data/char.js";
import { trainValSplit } from "../../dist/src/data/batch.js";
import { gptConfig } from "../../dist/src/models/gpt2/model.js";
import { CPU_TRAIN, GPTTrainer } from "../../dist/src/models/gpt2/train.js";
import { loadMobyDick } from "../../dist/src/node.js";

const n = Number(process.argv[2] ?? 5);
const text = loadMobyDick();
const tok = CharTokenizer.fromText(text);
const trainer = new GPTTrainer(
  gptConfig("tiny", { vocabSize: tok.vocabSize }),
  CPU_TRAIN,
  trainValSplit(Int32Array.from(tok.encode(text)), 0.9),
);
for (let i = 0; i < n; i++) {
  const t0 = performance.now();
  const r = trainer.trainStep();
  console.log(
    JSON.stringify({
      step: trainer.step,
      loss: r.loss,
      lr: r.lr,
      gradNorm: r.gradNorm,
      ms: Math.round(performance.now() - t0),
    }),
  );
}
