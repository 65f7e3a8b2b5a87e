// Hostile input, the runs of `wnn train ddpm`, `wnn train ldm` and `wnn train tacotron2 | fastspeech2 | vocoder`:
// checkpoints with a valid checksum and a hostile config (sizes past their caps or past the weights the file
// holds, steps negative or fractional or past the run, the wrong kind or model, no optimizer state, weights of
// another shape, NaN weights, options that are not the run's), a folder or a FIFO in place of the checkpoint, and
// truncated files — each given to the commands that read runs: `wnn generate --checkpoint`, `wnn say`, `wnn eval`
// and `wnn train <model> --resume`. Every one must end in one line on stderr and a non-zero exit. Registered in
// ./corpus-more.ts's MORE_GENERATORS.

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tensor } from "../../src/engine/creation.js";
import type { Tensor } from "../../src/engine/tensor.js";
import { teacherSay } from "../../src/data/node/teacher.js";
import { serializeCheckpoint, type Checkpoint } from "../../src/io/checkpoint.js";
import { DDPMTrainer } from "../../src/models/ddpm/train.js";
import { unetConfig } from "../../src/models/ddpm/unet.js";
import { CAPTION_VOCAB } from "../../src/models/latent-diffusion/captions.js";
import { clipTextConfig } from "../../src/models/latent-diffusion/clip-text.js";
import { LDMTrainer, type LDMModelConfig } from "../../src/models/latent-diffusion/train.js";
import { vaeConfig } from "../../src/models/latent-diffusion/vae.js";
import { TTS_DEFAULTS, TtsTrainer, type TtsModelName } from "../../src/recipes/tts-train.js";
import type { Ctx } from "./corpus.js";
import type { Case } from "./run.js";

type Edit = (k: Checkpoint & { config: any }) => void;

/** The first weight of at least two dims, its shape's two last dims swapped (the same number of values). */
const transposeOne: Edit = (k) => {
  const [name, t] = Object.entries(k.model).find(([, t]) => t.shape.length >= 2 && t.shape.at(-1) !== t.shape.at(-2))!;
  const s = t.shape.slice();
  [s[s.length - 1], s[s.length - 2]] = [s[s.length - 2]!, s[s.length - 1]!];
  k.model[name] = tensor(t.dataSync() as Float32Array, { shape: s });
};
const nanOne: Edit = (k) => {
  const [name, t] = Object.entries(k.model as Record<string, Tensor>)[0]!;
  k.model[name] = tensor(new Float32Array(t.numel()).fill(NaN), { shape: t.shape });
};
const noOptimizer: Edit = (k) => void delete (k as Partial<Checkpoint>).optimizer;

/** A tiny latent diffusion (the sizes of src/models/latent-diffusion/ldm-mnist.test.ts). */
const TINY_LDM: LDMModelConfig = {
  vae: vaeConfig({
    inChannels: 1,
    outChannels: 1,
    latentChannels: 2,
    channels: [4, 4, 4],
    layersPerBlock: 1,
    groups: 2,
  }),
  text: clipTextConfig({
    vocabSize: CAPTION_VOCAB.length,
    maxPositions: 8,
    width: 8,
    layers: 1,
    heads: 2,
    mlpWidth: 16,
  }),
  unet: unetConfig({
    inChannels: 2,
    outChannels: 2,
    channels: 8,
    channelMult: [1, 1],
    numResBlocks: 1,
    attnLevels: [1],
    groups: 4,
    heads: 2,
    numClasses: 0,
    contextDim: 8,
    dropout: 0,
  }),
};

/**
 * The checkpoint's bytes; a step the writer refuses (negative, fractional) is written as 777777 and its digits
 * replaced in the document, padded with spaces to the same length (the parser meets the step before the checksum).
 */
function withStep(k: Checkpoint): Uint8Array {
  if (Number.isSafeInteger(k.step) && k.step >= 0) return serializeCheckpoint(k);
  const bytes = serializeCheckpoint({ ...k, step: 777777 });
  const text = Buffer.from(bytes).toString("latin1");
  const at = text.indexOf('step\\":777777');
  if (at < 0) throw new Error("corpus: no step in the checkpoint's document");
  const value = String(k.step).padEnd(6, " ");
  if (value.length !== 6) throw new Error(`corpus: step ${k.step} does not fit in six characters`);
  return Buffer.from(text.slice(0, at + 7) + value + text.slice(at + 13), "latin1");
}

export function runCheckpointCases(c: Ctx): Case[] {
  const cases: Case[] = [];
  const cwd = c.dir("runs-hostile");
  const add = (name: string, argv: string[], extra: Partial<Case> = {}): void => {
    cases.push({
      format: "run checkpoints (ddpm, ldm, tts)",
      name,
      cli: { argv, cwd, stderr: /^wnn: / },
      expect: "error",
      ...extra,
    });
  };
  /** A run folder holding `ckpt` after `edit`, under a name of its own. */
  let n = 0;
  const runOf = (ckpt: Checkpoint, edit: Edit = () => {}): string => {
    const d = c.dir(`runs-hostile/run-${n++}`);
    const k = { ...ckpt, config: JSON.parse(JSON.stringify(ckpt.config)), model: { ...ckpt.model } };
    edit(k);
    writeFileSync(join(d, "checkpoint.safetensors"), withStep(k));
    return d;
  };
  /** Run folders whose checkpoint is a folder, a FIFO, or the first half of a valid file. */
  const broken = (ckpt: Checkpoint): [string, string][] => {
    const folder = c.dir(`runs-hostile/run-${n++}`);
    mkdirSync(join(folder, "checkpoint.safetensors"));
    const fifo = c.dir(`runs-hostile/run-${n++}`);
    c.fifo(`runs-hostile/run-${n - 1}/checkpoint.safetensors`);
    const cut = c.dir(`runs-hostile/run-${n++}`);
    const bytes = serializeCheckpoint(ckpt);
    writeFileSync(join(cut, "checkpoint.safetensors"), bytes.subarray(0, bytes.length >> 1));
    return [
      ["a folder as its checkpoint", folder],
      ["a FIFO as its checkpoint", fifo],
      ["its checkpoint cut in half", cut],
    ];
  };
  const out = (name: string): string => join(cwd, `${name}-${cases.length}`);

  // DDPM runs: generate --checkpoint and train ddpm --resume
  const digits = { images: new Float32Array(4 * 784).fill(0.5), labels: Int32Array.of(0, 1, 2, 3), count: 4 };
  const ddpm = new DDPMTrainer(unetConfig("ddpm-mnist", { channels: 8 }), {}, { steps: 10, batchSize: 2 }, digits);
  ddpm.trainStep();
  const ddpmCkpt = ddpm.checkpoint();
  for (const [name, edit] of [
    ["unet.numResBlocks 1e6", (k) => (k.config.unet.numResBlocks = 1e6)],
    ["unet.attnLevels [99]", (k) => (k.config.unet.attnLevels = [99])],
    ["step -1", (k) => (k.step = -1)],
    ["config.kind tts", (k) => (k.config.kind = "tts")],
    ["a weight of another shape", transposeOne],
  ] as [string, Edit][]) {
    const d = runOf(ddpmCkpt, edit);
    add(`generate --checkpoint <ddpm: ${name}>`, [
      "generate",
      "--checkpoint",
      d,
      "--digit",
      "1",
      "--n",
      "1",
      "--steps",
      "1",
      "--out",
      out("g"),
    ]);
    add(`train ddpm --resume <ddpm: ${name}>`, ["train", "ddpm", "--resume", d]);
  }
  add("train ddpm --resume <ddpm: no optimizer state>", ["train", "ddpm", "--resume", runOf(ddpmCkpt, noOptimizer)]);
  for (const [name, d] of broken(ddpmCkpt))
    add(`generate --checkpoint <ddpm: ${name}>`, ["generate", "--checkpoint", d, "--out", out("g")]);

  // latent diffusion runs: generate --checkpoint (a caption) and train ldm --resume
  const ldm = new LDMTrainer(TINY_LDM, { vaeSteps: 1, steps: 1, batchSize: 2 }, digits);
  ldm.trainStep();
  const ldmCkpt = ldm.checkpoint();
  for (const [name, edit] of [
    ["unet.channels 1e6", (k) => (k.config.models.unet.channels = 1e6)],
    ["vae.channels [1024, 1024, 1024]", (k) => (k.config.models.vae.channels = [1024, 1024, 1024])],
    ["scale -1", (k) => (k.config.scale = -1)],
    ["no caption thresholds", (k) => delete k.config.thresholds],
    ["step -5", (k) => (k.step = -5)],
    ["config.kind ddpm", (k) => (k.config.kind = "ddpm")],
    ["a weight of another shape", transposeOne],
    ["NaN weights", nanOne],
  ] as [string, Edit][]) {
    const d = runOf(ldmCkpt, edit);
    add(`generate --checkpoint <ldm: ${name}> --strict`, [
      "generate",
      "--checkpoint",
      d,
      "a thick 7",
      "--n",
      "1",
      "--steps",
      "1",
      "--strict",
      "--out",
      out("l"),
    ]);
    add(`train ldm --resume <ldm: ${name}>`, ["train", "ldm", "--resume", d]);
  }
  add("train ldm --resume <ldm: no optimizer state>", ["train", "ldm", "--resume", runOf(ldmCkpt, noOptimizer)]);
  for (const [name, d] of broken(ldmCkpt)) add(`train ldm --resume <ldm: ${name}>`, ["train", "ldm", "--resume", d]);

  // text-to-speech runs: say, eval, and train <model> --resume (a valid one would make its corpus first: none here)
  const speech = { items: ["call me ishmael.", "the sea.", "anna."].map((text) => ({ text, wav: teacherSay(text) })) };
  const tiny = { batchSize: 1, heldOut: 1, frontEnd: "chars", maxFrames: 1000, steps: 4, segmentFrames: 4 };
  const tts = (name: TtsModelName): Checkpoint =>
    new TtsTrainer(
      name,
      { ...TTS_DEFAULTS[name], ...tiny, preset: name === "vocoder" ? "micro" : "tiny" },
      { speech },
    ).checkpoint();
  const taco = tts("tacotron2"),
    fast = tts("fastspeech2"),
    voc = tts("vocoder");
  const say = (d: string): string[] => ["say", "--checkpoint", d, "Call me Ishmael.", "--out", `${out("s")}.wav`];
  for (const [model, ckpt, edits] of [
    [
      "tacotron2",
      taco,
      [
        ["config.decRnnDim 1e6", (k) => (k.config.config.decRnnDim = 1e6)],
        ["config.embDim 4096 (within its cap, past the weights held)", (k) => (k.config.config.embDim = 4096)],
        ["options.sentences 1e9", (k) => (k.config.options.sentences = 1e9)],
        ["options.frontEnd klingon", (k) => (k.config.options.frontEnd = "klingon")],
        ["model wavenet", (k) => (k.config.model = "wavenet")],
        ["kind ldm", (k) => (k.config.kind = "ldm")],
        ["step -1", (k) => (k.step = -1)],
        ["step 0.5", (k) => (k.step = 0.5)],
        ["a weight of another shape", transposeOne],
        ["NaN weights", nanOne],
        ["symbols not strings", (k) => (k.config.symbols = [1, 2, 3])],
      ],
    ],
    [
      "fastspeech2",
      fast,
      [
        ["config.dModel 1e6", (k) => (k.config.config.dModel = 1e6)],
        ["config.maxLen 1000000 (within its cap, past the weights held)", (k) => (k.config.config.maxLen = 1_000_000)],
        [
          "bins [NaN]",
          (k) =>
            (k.config.bins = [
              [null, 1],
              [0, 1],
            ]),
        ],
        ["step 1e9", (k) => (k.step = 1e9)],
        ["a weight of another shape", transposeOne],
      ],
    ],
    [
      "vocoder",
      voc,
      [
        ["config.initialChannels 1e6", (k) => (k.config.config.initialChannels = 1e6)],
        ["options.preset huge", (k) => (k.config.options.preset = "huge")],
        ["a weight of another shape", transposeOne],
      ],
    ],
  ] as [TtsModelName, Checkpoint, [string, Edit][]][]) {
    for (const [name, edit] of edits) {
      const d = runOf(ckpt, edit);
      // every command for the sizes, the shapes and the NaN; the rest through one or two of them
      const every = /1e6|4096|another shape|NaN weights/.test(name);
      if (model === "vocoder") add(`say --vocoder <vocoder: ${name}>`, [...say(runOf(taco)), "--vocoder", d]);
      else add(`say --checkpoint <${model}: ${name}>`, say(d));
      if (every || model === "vocoder") add(`eval --checkpoint <${model}: ${name}>`, ["eval", "--checkpoint", d]);
      if (every || model === "fastspeech2")
        add(`train ${model} --resume <${model}: ${name}>`, ["train", model, "--resume", d]);
    }
    add(`train ${model} --resume <${model}: no optimizer state>`, [
      "train",
      model,
      "--resume",
      runOf(ckpt, noOptimizer),
    ]);
  }
  for (const [name, d] of broken(taco)) {
    add(`say --checkpoint <tacotron2: ${name}>`, say(d));
    add(`eval --checkpoint <tacotron2: ${name}>`, ["eval", "--checkpoint", d]);
  }
  // runs of the wrong kind
  add("say --checkpoint <a ddpm run>", say(runOf(ddpmCkpt)));
  add("eval --checkpoint <an ldm run>", ["eval", "--checkpoint", runOf(ldmCkpt)]);
  add("generate --checkpoint <a tacotron2 run>", ["generate", "--checkpoint", runOf(taco), "--out", out("g")]);
  add("train ldm --resume <a ddpm run>", ["train", "ldm", "--resume", runOf(ddpmCkpt)]);
  add("train fastspeech2 --resume <a tacotron2 run>", ["train", "fastspeech2", "--resume", runOf(taco)]);
  return cases;
}
