// `wnn train resnet`: the small ResNet (preset resnet-mnist-small, ResNet-8) on the `mnist` package's
// digits, with Adam and a cosine learning rate. Needs data.mnist. The `mnist` package holds 10,000 of
// MNIST's 70,000 digits; the loaders split them 8,000 for training and 2,000 for testing, and the
// accuracy is on those 2,000. Evaluation uses BatchNorm's running statistics (eval mode). On N data-parallel
// workers (--workers N) every BatchNorm normalizes by the statistics of all the workers' digits together
// (synchronized, as PyTorch's SyncBatchNorm), so the losses and the running statistics are one process's.

import { ArgumentError } from "../../engine/errors.js";
import type { Generator } from "../../engine/rng.js";
import { cat } from "../../ops/shape.js";
import { Adam } from "../../optim/adam.js";
import { CosineAnnealingLR } from "../../optim/schedulers.js";
import type { Recipe, RecipeData, RecipeHooks, RecipeResult } from "../../recipes/recipe.js";
import {
  epochTable,
  lossChart,
  mapsPng,
  meanLast,
  mnistBatch,
  takeSplit,
  trainClassifier,
} from "../../recipes/mnist.js";
import { PRESETS, ResNet, resnetConfig } from "./model.js";

export interface ResNetRecipeOptions extends Record<string, number | string | boolean> {
  /** a preset of model.ts */
  preset: string;
  epochs: number;
  batchSize: number;
  /** Adam's initial learning rate, annealed to 0 by a cosine over all steps */
  lr: number;
  /** use only the first trainLimit training / testLimit test digits (0: all) */
  trainLimit: number;
  testLimit: number;
}

export const resnetRecipe: Recipe<ResNetRecipeOptions> = {
  name: "resnet",
  paper: "He, Zhang, Ren, Sun 2016, Deep Residual Learning for Image Recognition, https://arxiv.org/abs/1512.03385",
  trainsOn: "MNIST digits (the mnist package: 8,000 train / 2,000 test)",
  needs: ["mnist"],
  dataParallel: true, // on N workers, each on its rows of every batch; its BatchNorms synchronized (mnist.ts)
  defaults: Object.freeze({
    preset: "resnet-mnist-small",
    epochs: 3,
    batchSize: 64,
    lr: 1e-2,
    trainLimit: 0,
    testLimit: 0,
  }),
  help: {
    trainLimit: "use only the first N training digits (0: all)",
    testLimit: "use only the first N test digits (0: all)",
  },

  run(options: ResNetRecipeOptions, data: RecipeData, hooks: RecipeHooks, generator: Generator): RecipeResult {
    const o = { ...this.defaults, ...options };
    if (!data.mnist) throw new ArgumentError("resnet: needs data.mnist (loadMnist() from writtingnns/node)");
    if (!(o.preset in PRESETS))
      throw new ArgumentError(
        `resnet: unknown preset "${o.preset}"; the presets are ${Object.keys(PRESETS).join(", ")}`,
      );
    const train = takeSplit(data.mnist.train, o.trainLimit, "train");
    const test = takeSplit(data.mnist.test, o.testLimit, "test");
    const model = new ResNet(resnetConfig(o.preset as keyof typeof PRESETS), { generator });
    const optimizer = new Adam(model.parameters(), { lr: o.lr });
    const scheduler = new CosineAnnealingLR(optimizer, { tMax: o.epochs * Math.ceil(train.count / o.batchSize) });
    hooks.log(
      `resnet (${o.preset}): ${model.numParameters()} parameters; ${train.count} training digits, ${test.count} test digits; ${o.epochs} epochs of batches of ${o.batchSize}`,
    );

    const r = trainClassifier(model, optimizer, scheduler, train, test, o, hooks, generator);
    const [, loss, accuracy] = r.test[r.test.length - 1]!; // after the last epoch

    // the pictures: the stem's 3×3 kernels, and what the stem and the last stage make of the first test digit
    const digit = mnistBatch(test, [0], 0, 1);
    const act = model.eval().activations(digit.x);
    const stem = act.stem.squeeze(0); //                    (w_1, 28, 28)
    const last = act.stages[act.stages.length - 1]!.squeeze(0); // (w_last, 7, 7)
    const images = {
      "loss.png": lossChart(r, "ResNet on MNIST: cross-entropy"),
      "filters.png": mapsPng(model.stem.weight.detach().squeeze(1), stem.shape[0]!, 16, "signed"), // (w_1, 3, 3)
      "featuremaps.png": mapsPng(cat([digit.x.squeeze(0), stem], 0), stem.shape[0]! + 1, 4, "positive"), // the digit, then the stem's maps
      "featuremaps-last-stage.png": mapsPng(last, 8, 8, "positive"),
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
