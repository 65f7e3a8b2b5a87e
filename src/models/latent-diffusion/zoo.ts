// The zoo entry of latent-diffusion: the three networks of `wnn train ldm` (the autoencoder, the text encoder and the
// U-Net with cross-attention) and Stable Diffusion v1's three, which `wnn generate --model` loads from a diffusers
// folder (src/models/zoo.ts lists it).

import { type ZooModel, MNIST } from "../zoo-entry.js";
import * as unet from "../ddpm/unet.js";
import * as vae from "./vae.js";
import * as clip from "./clip-text.js";
import { ldmMnistConfig } from "./train.js";

const mnist = ldmMnistConfig();
/** SD v1 at 512×512: 64×64×4 latents, CLIP's 77 tokens of 768 */
const SD_SIZE = 512,
  SD_LATENT = 64,
  SD_TOKENS = 77;

export const zooEntry: ZooModel = {
  name: "latent-diffusion",
  paper:
    "Rombach et al. 2022, High-Resolution Image Synthesis with Latent Diffusion Models, https://arxiv.org/abs/2112.10752; Radford et al. 2021, CLIP, https://arxiv.org/abs/2103.00020",
  trainsOn: `${MNIST} padded to 32×32, with captions from the label, the stroke's thickness and its slant`,
  recipes: [],
  presets: [
    {
      name: "ldm-mnist-unet",
      describe: () => unet.describe(mnist.unet, 8, "latent U-Net (MNIST captions)", mnist.text.maxPositions),
      build: () => new unet.UNet(mnist.unet),
    },
    {
      name: "ldm-mnist-vae",
      describe: () => vae.describe(mnist.vae, 32, "KL autoencoder (MNIST)"),
      build: () => new vae.AutoencoderKL(mnist.vae),
    },
    {
      name: "ldm-mnist-text",
      describe: () => clip.describe(mnist.text, "text encoder (MNIST captions)"),
      build: () => new clip.CLIPTextModel(mnist.text),
    },
    {
      name: "sd-v1-unet",
      describe: () => unet.describe(unet.unetConfig("sd-v1-unet"), SD_LATENT, "Stable Diffusion v1 U-Net", SD_TOKENS),
      build: () => new unet.UNet(unet.unetConfig("sd-v1-unet")),
    },
    {
      name: "sd-v1-vae",
      describe: () => vae.describe(vae.vaeConfig("sd-v1-vae"), SD_SIZE, "Stable Diffusion v1 autoencoder"),
      build: () => new vae.AutoencoderKL(vae.vaeConfig("sd-v1-vae")),
    },
    {
      name: "clip-vit-l-14-text",
      describe: () => clip.describe(clip.clipTextConfig("clip-vit-l-14-text"), "CLIP ViT-L/14 text encoder"),
      build: () => new clip.CLIPTextModel(clip.clipTextConfig("clip-vit-l-14-text")),
    },
  ],
};
