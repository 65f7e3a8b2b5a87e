// `wnn train lenet5`: LeNet-5 (modern variant) on the `mnist` package's digits, with Adam and a cosine
// learning rate. Needs data.mnist. The `mnist` package holds 10,000 of MNIST's 70,000 digits; the
// loaders split them 8,000 for training and 2,000 for testing, and the accuracy is on those 2,000.

import type { Generator } from "../../engine/rng.js";
import { Adam } from "../../optim/adam.js";
import { CosineAnnealingLR } from "../../optim/schedulers.js";
import { ArgumentError } from "../../engine/errors.js";
import type { Recipe, RecipeData, RecipeHooks, RecipeResult } from "../../recipes/recipe.js";
import { cat } from "../../ops/shape.js";
import {
  epochTable,
  lossChart,
  mapsPng,
  meanLast,
  mnistBatch,
  takeSplit,
  trainClassifier,
} from "../../recipes/mnist.js";
import { LeNet5, lenetConfig } from "./model.js";

export interface LeNet5RecipeOptions extends Record<string, number | string | boolean> {
  epochs: number;
  batchSize: number;
  /** Adam's initial learning rate, annealed to 0 by a cosine over all steps */
  lr: number;
  /** use only the first trainLimit training / testLimit test digits (0: all) */
  trainLimit: number;
  testLimit: number;
}

export const lenet5Recipe: Recipe<LeNet5RecipeOptions> = {
  name: "lenet5",
  paper:
    "LeCun, Bottou, Bengio, Haffner 1998, Gradient-Based Learning Applied to Document Recognition, http://yann.lecun.com/exdb/publis/pdf/lecun-01a.pdf",
  trainsOn: "MNIST digits (the mnist package: 8,000 train / 2,000 test)",
  needs: ["mnist"],
  dataParallel: true,
  defaults: Object.freeze({ epochs: 8, batchSize: 64, lr: 2e-3, trainLimit: 0, testLimit: 0 }),
  help: {
    trainLimit: "use only the first N training digits (0: all)",
    testLimit: "use only the first N test digits (0: all)",
  },

  run(options: LeNet5RecipeOptions, data: RecipeData, hooks: RecipeHooks, generator: Generator): RecipeResult {
    const o = { ...this.defaults, ...options };
    if (!data.mnist) throw new ArgumentError("lenet5: needs data.mnist (loadMnist() from writtingnns/node)");
    const train = takeSplit(data.mnist.train, o.trainLimit, "train");
    const test = takeSplit(data.mnist.test, o.testLimit, "test");
    const model = new LeNet5(lenetConfig("lenet5"), { generator });
    const optimizer = new Adam(model.parameters(), { lr: o.lr });
    const scheduler = new CosineAnnealingLR(optimizer, { tMax: o.epochs * Math.ceil(train.count / o.batchSize) });
    hooks.log(
      `lenet5: ${model.numParameters()} parameters; ${train.count} training digits, ${test.count} test digits; ${o.epochs} epochs of batches of ${o.batchSize}`,
    );

    const r = trainClassifier(model, optimizer, scheduler, train, test, o, hooks, generator);
    const [, loss, accuracy] = r.test[r.test.length - 1]!; // after the last epoch

    // the pictures: C1's kernels, and what C1 and C3 make of the first test digit
    const digit = mnistBatch(test, [0], 0, 1);
    const act = model.eval().activations(digit.x);
    const c1 = act.c1.squeeze(0),
      c3 = act.c3.squeeze(0); // (c1, 28, 28), (c3, 10, 10)
    const images = {
      "loss.png": lossChart(r, "LeNet-5 on MNIST: cross-entropy"),
      "filters.png": mapsPng(model.c1.weight.detach().squeeze(1), c1.shape[0]!, 12, "signed"), // (c1, 5, 5)
      "featuremaps.png": mapsPng(cat([digit.x.squeeze(0), c1], 0), c1.shape[0]! + 1, 4, "positive"), // the digit, then C1's maps
      "featuremaps-c3.png": mapsPng(c3, 8, 8, "positive"),
    };
    return {
      metrics: {
        testAccuracy: accuracy,
        testLoss: loss,
        trainLoss: meanLast(r.trainLoss, Math.ceil(train.count / o.batchSize)),
        trainSeconds: r.trainSeconds,
        evalSeconds: r.evalSeconds,
        steps: r.steps,
        parameters: model.numParameters(),
        trainCount: train.count,
        testCount: test.count,
        testDigitLabel: digit.y.item(),
        testDigitPrediction: act.logits.argmax(1).item(),
      },
      tables: { epochs: epochTable(r) },
      images,
    };
  },
};
