// The zoo entry of ddpm: the class-conditional U-Net that `wnn train ddpm` trains on MNIST (src/models/zoo.ts lists it).

import { type ZooModel, MNIST } from "../zoo-entry.js";
import * as unet from "./unet.js";

export const zooEntry: ZooModel = {
  name: "ddpm",
  paper:
    "Ho, Jain, Abbeel 2020, Denoising Diffusion Probabilistic Models, https://arxiv.org/abs/2006.11239; Song, Meng, Ermon 2021, DDIM, https://arxiv.org/abs/2010.02502; Ho & Salimans 2022, Classifier-Free Diffusion Guidance, https://arxiv.org/abs/2207.12598",
  trainsOn: `${MNIST}, noised at 1,000 steps, one class label each (dropped 10% of the time for guidance)`,
  recipes: [],
  presets: [
    {
      name: "ddpm-mnist",
      describe: () => unet.describe(unet.unetConfig("ddpm-mnist"), 28, "DDPM U-Net (MNIST, class-conditional)"),
      build: () => new unet.UNet(unet.unetConfig("ddpm-mnist")),
    },
  ],
};
