// Text to image with Stable Diffusion's three networks (Rombach et al. 2022, §3.3 and §4.3; classifier-free
// guidance as Ho & Salimans 2022): the prompt and the empty prompt through CLIP's text encoder; latents
// z_T ~ N(0, I) of (1, 4, H/8, W/8); DDIM steps of the U-Net with the text's states as the cross-attention
// context, ε̃ = ε(z, ∅) + w·(ε(z, text) − ε(z, ∅)); then x = D(z_0 / scaling factor), mapped from [−1, 1]
// to [0, 1]. Browser-safe: the caller reads the folder (src/io/diffusers-folder.ts) and writes the picture.
//
// Differences from diffusers' StableDiffusionPipeline: DDIM's last step goes to ᾱ = 1 (diffusers' DDIM for SD
// uses ᾱ_0, set_alpha_to_one = False) and the timesteps have no offset (steps_offset = 1 there).

import { noGrad } from "../../engine/autograd.js";
import { tensor } from "../../engine/creation.js";
import { ArgumentError } from "../../engine/errors.js";
import type { Generator } from "../../engine/rng.js";
import type { Tensor } from "../../engine/tensor.js";
import type { CLIPTokenizer } from "../../data/clip-tokenizer.js";
import { cat } from "../../ops/shape.js";
import { sample, type Schedule } from "../ddpm/diffusion.js";
import type { UNet } from "../ddpm/unet.js";
import type { AutoencoderKL } from "./vae.js";
import type { CLIPTextModel } from "./clip-text.js";

export interface StableDiffusion {
  unet: UNet;
  vae: AutoencoderKL;
  textEncoder: CLIPTextModel;
  tokenizer: CLIPTokenizer;
  schedule: Schedule;
  scalingFactor: number;
}

export interface TextToImageOptions {
  /** the image's side in pixels, a multiple of 8·2^(levels−1) (SD v1: 512) */
  size: number;
  steps: number;
  guidance: number;
  generator: Generator;
  /** called after each U-Net evaluation with its milliseconds */
  onStep?: (index: number, ms: number) => void;
}

/** An image (1, 3, size, size) in [0, 1] for the prompt. */
export function textToImage(sd: StableDiffusion, prompt: string, o: TextToImageOptions): Tensor {
  const f = 2 ** (sd.vae.config.channels.length - 1);
  if (!Number.isInteger(o.size / f) || o.size < f)
    throw new ArgumentError(`textToImage: size must be a positive multiple of ${f}, got ${o.size}`);
  return noGrad(() => {
    const T = sd.textEncoder.config.maxPositions;
    const ids = tensor([...sd.tokenizer.prompt("", T), ...sd.tokenizer.prompt(prompt, T)], {
      shape: [2, T],
      dtype: "int32",
    });
    const context = sd.textEncoder.forward(ids).hidden; // (2, T, D): ∅ then the prompt
    const latent = [1, sd.vae.config.latentChannels, o.size / f, o.size / f];
    let k = 0;
    const z = sample(
      sd.schedule,
      (x, t) => {
        const t0 = performance.now();
        const eps = sd.unet.forward(cat([x, x], 0), [...t, ...t], null, context); // (2, L, h, w)
        const u = eps.narrow(0, 0, 1),
          c = eps.narrow(0, 1, 1);
        o.onStep?.(k++, performance.now() - t0);
        return u.add(c.sub(u).mul(o.guidance));
      },
      latent,
      { sampler: "ddim", steps: o.steps, generator: o.generator, clip: false },
    );
    const x = sd.vae.decode(z.div(sd.scalingFactor)); // (1, 3, size, size) in about [−1, 1]
    return x.add(1).mul(0.5).clamp(0, 1);
  });
}
