// `wnn generate --model DIR "a prompt"`: Stable Diffusion from a diffusers folder the user has (safetensors
// only; src/io/diffusers-folder.ts reads it, src/models/latent-diffusion/diffusers.ts checks every name and
// shape, src/models/latent-diffusion/pipeline.ts draws). Writes a PNG and prints the time per U-Net evaluation.

import { CLIPTokenizer } from "../src/data/clip-tokenizer.js";
import { LoadError } from "../src/engine/errors.js";
import { Generator } from "../src/engine/rng.js";
import { imageGrid } from "../src/io/chart.js";
import { readDiffusersFolder } from "../src/io/diffusers-folder.js";
import { savePng } from "../src/io/node.js";
import { Schedule, type BetaSchedule, type Prediction } from "../src/models/ddpm/diffusion.js";
import { fromDiffusers } from "../src/models/latent-diffusion/diffusers.js";

import { textToImage, type StableDiffusion } from "../src/models/latent-diffusion/pipeline.js";
import { formatDuration, type Output } from "./progress.js";
import { join } from "node:path";
import { meta, metaExecute } from "../src/engine/meta.js";
import { meterLargest } from "../src/engine/memory.js";
import { getMaxTensorBytes } from "../src/engine/limits.js";
import { readCheckedJson } from "../src/io/checked-file-node.js";
import { diffusersConfigs } from "../src/models/latent-diffusion/diffusers.js";
import { UNet } from "../src/models/ddpm/unet.js";
import { AutoencoderKL } from "../src/models/latent-diffusion/vae.js";
import { CLIPTextModel } from "../src/models/latent-diffusion/clip-text.js";
import { memoryBudget, overBudget } from "./memory.js";
import { UsageError } from "./args.js";

/** The scheduler_config.json fields the samplers use (T, the β schedule, the prediction). */
function scheduleOf(json: Record<string, unknown>): Schedule {
  const schedule = (json.beta_schedule ?? "scaled_linear") as BetaSchedule;
  const prediction = (json.prediction_type ?? "epsilon") as Prediction;
  try {
    return new Schedule({
      timesteps: Number(json.num_train_timesteps ?? 1000),
      schedule,
      betaStart: Number(json.beta_start ?? 0.00085),
      betaEnd: Number(json.beta_end ?? 0.012),
      prediction,
    });
  } catch (e) {
    throw new LoadError(`scheduler/scheduler_config.json: ${(e as Error).message}`);
  }
}

/** Load a Stable Diffusion folder. */
export function loadStableDiffusion(dir: string): StableDiffusion {
  const f = readDiffusersFolder(dir);
  const nets = fromDiffusers(f);
  return {
    ...nets,
    tokenizer: new CLIPTokenizer(f.tokenizer.vocab, f.tokenizer.merges),
    schedule: scheduleOf(f.scheduler),
  };
}

export function stableDiffusionCommand(
  dir: string,
  prompt: string,
  o: { steps: number; guidance: number; size: number; seed: number; out: string },
  out: Output,
): number {
  const t0 = performance.now();
  const sd = loadStableDiffusion(dir);
  out.write(
    `loaded ${dir} in ${formatDuration((performance.now() - t0) / 1000)}: U-Net ${sd.unet.numParameters().toLocaleString("en-US")}, VAE ${sd.vae.numParameters().toLocaleString("en-US")}, text encoder ${sd.textEncoder.numParameters().toLocaleString("en-US")} parameters\n`,
  );
  const times: number[] = [];
  const t1 = performance.now();
  const image = textToImage(sd, prompt, {
    size: o.size,
    steps: o.steps,
    guidance: o.guidance,
    generator: new Generator(o.seed),
    onStep: (i, ms) => {
      times.push(ms);
      out.write(`step ${i + 1}/${o.steps}: U-Net ${(ms / 1000).toFixed(1)} s (a batch of 2: the prompt and ∅)\n`);
    },
  });
  savePng(o.out, imageGrid(image, 1, 1, { pad: 0 }));
  const mean = times.reduce((a, b) => a + b, 0) / Math.max(1, times.length);
  out.write(
    `${JSON.stringify(prompt)}: ${o.steps} DDIM steps, guidance ${o.guidance}, ${o.size}×${o.size}, in ${formatDuration((performance.now() - t1) / 1000)} (${(mean / 1000).toFixed(1)} s per U-Net evaluation of 2 latents); wrote ${o.out}\n`,
  );
  return 0;
}

/**
 * The memory of one image at `size`, refused past the budget before any weight is read: the three networks are
 * built shape-only from their config.json files, and the pipeline runs once (one denoising step, the decoder)
 * on shape-only tensors (metaExecute, src/engine/meta.ts), its storages counted and none allocated. The sampler
 * holds no memory scope, so the intermediates it allocates are freed as it goes and their sum says little; the
 * estimate is a lower bound: the weights plus the largest single tensor the pass makes (at 2048 pixels, the VAE
 * decoder's full-resolution activations). One tensor past the one-tensor cap would stop the run there anyway.
 */
export function checkStableDiffusionMemory(
  dir: string,
  o: { guidance: number; size: number },
  maxMemoryGiB: number | undefined,
  cmd: string,
): void {
  const config = (c: string): Record<string, unknown> =>
    readCheckedJson(join(dir, c, "config.json")) as Record<string, unknown>;
  const { unetCfg, vaeCfg, clipCfg } = diffusersConfigs(config("unet"), config("vae"), config("text_encoder"));
  const g = new Generator(0);
  const nets = meta(() => ({
    unet: new UNet(unetCfg, { generator: g }).eval(),
    vae: new AutoencoderKL(vaeCfg, { generator: g }).eval(),
    textEncoder: new CLIPTextModel(clipCfg, { generator: g }).eval(),
  }));
  const weights = 4 * (nets.unet.numParameters() + nets.vae.numParameters() + nets.textEncoder.numParameters());
  // the prompt's ids do not change a shape (the text encoder always reads maxPositions): an empty prompt, read by
  // a tokenizer of its two special tokens
  const sd: StableDiffusion = {
    ...nets,
    tokenizer: new CLIPTokenizer({ "<|startoftext|>": 0, "<|endoftext|>": 1 }, ""),
    schedule: new Schedule({ timesteps: 1000 }),
    scalingFactor: 1,
  };
  const { largest } = meterLargest(() =>
    metaExecute(() => textToImage(sd, "", { size: o.size, steps: 1, guidance: o.guidance, generator: g })),
  );
  const budget = memoryBudget(maxMemoryGiB, false); // no memory scope: ordinary arrays, not the wasm memory
  const need = weights + largest;
  const gib = (b: number): string => `${(b / 2 ** 30).toFixed(2)} GiB`;
  if (largest > getMaxTensorBytes())
    throw new UsageError(
      `${cmd}: --size ${o.size}: one tensor of this image would take ${gib(largest)} (counted on shape-only tensors), more than the limit of ${gib(getMaxTensorBytes())} for one tensor; choose a smaller --size`,
    );
  if (need > budget.bytes)
    throw new UsageError(
      overBudget(
        cmd,
        `--size ${o.size}`,
        need,
        budget,
        `counted on shape-only tensors: ${gib(weights)} of weights and one tensor of ${gib(largest)}`,
        true,
      ).message,
    );
}
