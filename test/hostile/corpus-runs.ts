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
import type { GeneratorState } from "../../src/engine/rng.js";
import type { Tensor } from "../../src/engine/tensor.js";
import { teacherSay } from "../../src/data/node/teacher.js";
import { serializeCheckpoint, type Checkpoint } from "../../src/io/checkpoint.js";
import { crc32 } from "../../src/io/checksum.js";
import { joinPlan, parseSafetensors, planSafetensors, storageBytes } from "../../src/io/safetensors.js";
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

/**
 * A checkpoint's bytes with its document changed by `edit` and the checksum made again, as the writer computes
 * it (src/io/checkpoint.ts: the document, each entry's line, the data): for what the writer itself refuses.
 */
function resealed(bytes: Uint8Array, edit: (doc: any) => void): Uint8Array {
  const { tensors, metadata } = parseSafetensors(bytes, { allowedDtypes: ["F32", "F64", "I32", "BOOL"] });
  const doc = JSON.parse(metadata.checkpoint!);
  edit(doc);
  const docText = JSON.stringify(doc);
  const enc = new TextEncoder();
  const { entries } = planSafetensors(tensors);
  let crc = crc32(enc.encode(docText));
  for (const e of entries)
    crc = crc32(enc.encode(`\n${JSON.stringify(e.name)} ${e.dtype} [${e.shape.join(",")}] ${e.begin} ${e.end}`), crc);
  for (const e of entries) crc = crc32(storageBytes(tensors[e.name]!.storage), crc);
  const crc32Text = (crc >>> 0).toString(16).padStart(8, "0");
  return joinPlan(planSafetensors(tensors, { ...metadata, checkpoint: docText, crc32: crc32Text }));
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
    // a generator state the writer refuses (all zeros) is written as another and put back in the document
    const zero = k.rng?.s.every((w) => w === 0) ?? false;
    const bytes = withStep(zero ? { ...k, rng: { s: [1, 1, 1, 1], spare: null } } : k);
    writeFileSync(join(d, "checkpoint.safetensors"), zero ? resealed(bytes, (doc) => (doc.rng = k.rng)) : bytes);
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
    const argv = ["generate", "--checkpoint", d, "--digit", "1", "--n", "1", "--steps", "1", "--out", out("g")];
    // another run's kind: the message names the run and the command that reads it
    const stderr =
      name === "config.kind tts" ? /a speech run \(text to speech; config\.kind "tts"\), which `wnn say`/ : /^wnn: /;
    add(`generate --checkpoint <ddpm: ${name}>`, argv, { cli: { argv, cwd, stderr } });
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
      "a thick seven",
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
  // a valid latent-diffusion run given hostile options: sizes within their ranges that together pass the memory
  // budget (weighed before a digit is drawn), options out of range, a caption it cannot read, the wrong judge
  const ldmRun = runOf(ldmCkpt);
  const gen = (...args: string[]): string[] => [
    "generate",
    "--checkpoint",
    ldmRun,
    ...args,
    "--out",
    `${out("lg")}.png`,
  ];
  const memory = { format: "cli (memory)", expect: "error" as const };
  const refused = /would need .* more than the budget .* --max_memory/;
  add("generate --checkpoint <ldm> --n 1024 --max_memory 0.01 (every caption: 40,960 digits)", [], {
    ...memory,
    cli: { argv: gen("--n", "1024", "--steps", "1", "--max_memory", "0.01"), cwd, stderr: refused },
  });
  add('generate --checkpoint <ldm> "a thick seven" --n 1024 --sampler ddpm --max_memory 0.001', [], {
    ...memory,
    cli: {
      argv: gen("a thick seven", "--n", "1024", "--sampler", "ddpm", "--max_memory", "0.001"),
      cwd,
      stderr: refused,
    },
  });
  for (const [name, args, stderr] of [
    ["--n 100000", ["a seven", "--n", "100000"], /must be ≤ 1024/],
    ["--steps 0", ["a seven", "--steps", "0"], /must be ≥ 1/],
    ["--guidance 1e9", ["a seven", "--guidance", "1e9"], /must be ≤ 100/],
    ["--max_memory 0", ["a seven", "--max_memory", "0"], /must be ≥ 0\.001/],
    ["--digit 7", ["a seven", "--digit", "7"], /takes a caption, not --digit/],
    ["an unknown word", ["a purple seven", "--n", "1", "--steps", "1"], /unknown word "purple"/],
    ["a caption of 10,000 words", [Array(10_000).fill("seven").join(" "), "--n", "1"], /10000 words; at most 6 fit/],
    [
      "--judge <an ldm run>",
      ["a seven", "--n", "1", "--steps", "1", "--judge", ldmRun],
      /not a run of `wnn train cnn`/,
    ],
  ] as [string, string[], RegExp][])
    add(`generate --checkpoint <ldm> ${name}`, [], {
      format: "cli (options, outputs, folders)",
      cli: { argv: gen(...args), cwd, stderr },
    });
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
  moreRunCases({ add, runOf, out, say, ddpm: ddpmCkpt, ldm: ldmCkpt, taco, fast, voc });
  return cases;
}

/** The first weight's name, under a prefix. */
const firstUnder = (k: Checkpoint, prefix: string): string => Object.keys(k.model).find((n) => n.startsWith(prefix))!;
const dropOne =
  (prefix = ""): Edit =>
  (k) =>
    void delete k.model[firstUnder(k, prefix)];
const extraOne: Edit = (k) => void (k.model["extra.weight"] = tensor(new Float32Array(5), { shape: [5] }));
/** The first weight under another name: as many values, one missing and one unknown. */
const renameOne =
  (prefix = ""): Edit =>
  (k) => {
    const name = firstUnder(k, prefix);
    k.model[`${name}.renamed`] = k.model[name]!;
    delete k.model[name];
  };
const infOne =
  (prefix = ""): Edit =>
  (k) => {
    const name = firstUnder(k, prefix);
    const t = k.model[name]!;
    k.model[name] = tensor(new Float32Array(t.numel()).fill(-Infinity), { shape: t.shape });
  };
/** xoshiro128**'s one forbidden state: every draw is 0 from it (a normal deviate's loop never ends). */
const ZERO_RNG: GeneratorState = { s: [0, 0, 0, 0], spare: null };

/**
 * The second half of the run-checkpoint cases: schedules of a billion steps, layers and mel bins past any model,
 * negative, fractional and missing (NaN, written as null) sizes, missing, unknown and renamed weights, infinite
 * weights, steps past the run, generator states that cannot draw, empty files, and runs of one speech model given
 * where another is expected.
 */
function moreRunCases(r: {
  add: (name: string, argv: string[]) => void;
  runOf: (ckpt: Checkpoint, edit?: Edit) => string;
  out: (name: string) => string;
  say: (d: string) => string[];
  ddpm: Checkpoint;
  ldm: Checkpoint;
  taco: Checkpoint;
  fast: Checkpoint;
  voc: Checkpoint;
}): void {
  const { add, runOf, out, say } = r;
  const generate = (d: string, ...more: string[]): string[] => [
    "generate",
    "--checkpoint",
    d,
    ...more,
    "--n",
    "1",
    "--steps",
    "1",
    "--out",
    out("g"),
  ];
  const empty = (bytes: Uint8Array): string => {
    const d = runOf(r.taco);
    writeFileSync(join(d, "checkpoint.safetensors"), bytes);
    return d;
  };

  // DDPM
  for (const [name, edit, resume] of [
    ["schedule.timesteps 1e9", (k) => (k.config.schedule.timesteps = 1e9), true],
    ["unet.channels -8", (k) => (k.config.unet.channels = -8), false],
    ["unet.heads 2.5", (k) => (k.config.unet.heads = 2.5), false],
    ["rng that draws only zeros", (k) => (k.rng = ZERO_RNG), true],
  ] as [string, Edit, boolean][]) {
    const d = runOf(r.ddpm, edit);
    if (!name.startsWith("rng")) add(`generate --checkpoint <ddpm: ${name}>`, generate(d, "--digit", "1"));
    if (resume) add(`train ddpm --resume <ddpm: ${name}>`, ["train", "ddpm", "--resume", d]);
  }

  // latent diffusion
  for (const [name, edit, resume] of [
    ["schedule.timesteps 1e9", (k) => (k.config.schedule.timesteps = 1e9), true],
    ["text.layers 1e9", (k) => (k.config.models.text.layers = 1e9), false],
    ["unet.heads 2.5", (k) => (k.config.models.unet.heads = 2.5), false],
    ["vae.layersPerBlock -1", (k) => (k.config.models.vae.layersPerBlock = -1), false],
    ["unet.numResBlocks NaN (null in JSON)", (k) => (k.config.models.unet.numResBlocks = null), false],
    ["step 1e9, past its steps", (k) => (k.step = 1e9), true],
    ["a moving-average weight missing", dropOne("ema.unet."), true],
    ["an unknown weight", extraOne, false],
    ["a weight renamed", renameOne("ema.text."), true],
    ["infinite moving-average weights", infOne("ema.unet."), false],
    ["rng that draws only zeros", (k) => (k.rng = ZERO_RNG), true],
  ] as [string, Edit, boolean][]) {
    const d = runOf(r.ldm, edit);
    if (!name.startsWith("rng"))
      add(`generate --checkpoint <ldm: ${name}> --strict`, generate(d, "a thick seven", "--strict"));
    if (resume) add(`train ldm --resume <ldm: ${name}>`, ["train", "ldm", "--resume", d]);
  }
  add("generate --checkpoint <an empty file>", generate(empty(new Uint8Array(0))));
  add("generate --checkpoint <8 bytes: a header length of 2⁶⁴ − 1>", generate(empty(new Uint8Array(8).fill(255))));

  // text to speech
  for (const [model, ckpt, edits] of [
    [
      "tacotron2",
      r.taco,
      [
        ["config.nMels 1e9", (k) => (k.config.config.nMels = 1e9)],
        ["config.encConvLayers 65536", (k) => (k.config.config.encConvLayers = 65536)],
        ["config.postnetLayers 65536", (k) => (k.config.config.postnetLayers = 65536)],
        ["config.framesPerStep 0", (k) => (k.config.config.framesPerStep = 0)],
        ["config.embDim -2", (k) => (k.config.config.embDim = -2)],
        ["config.attnDim 0.5", (k) => (k.config.config.attnDim = 0.5)],
        ["config.locKernel NaN (null in JSON)", (k) => (k.config.config.locKernel = null)],
        ["a weight missing", dropOne()],
        ["step 1e9, past its steps", (k) => (k.step = 1e9)],
        ["rng that draws only zeros", (k) => (k.rng = ZERO_RNG)],
        ["extra.dropoutRng 5", (k) => (k.extra = { ...(k.extra as object), dropoutRng: 5 })],
      ],
    ],
    [
      "fastspeech2",
      r.fast,
      [
        ["config.encLayers 65536", (k) => (k.config.config.encLayers = 65536)],
        ["config.nMels 1e9", (k) => (k.config.config.nMels = 1e9)],
        ["config.convKernels [1e9 + 1, 1]", (k) => (k.config.config.convKernels = [1e9 + 1, 1])],
        [
          "bins from high to low",
          (k) =>
            (k.config.bins = [
              [400, 50],
              [1, 0],
            ]),
        ],
        ["config.convKernels 9, not a list", (k) => (k.config.config.convKernels = 9)],
        ["an unknown weight", extraOne],
        ["infinite weights", infOne()],
        ["extra.dropoutRng that draws only zeros", (k) => (k.extra = { ...(k.extra as object), dropoutRng: ZERO_RNG })],
      ],
    ],
    [
      "vocoder",
      r.voc,
      [
        [
          "config.resblockKernels of 100,000 kernels",
          (k) => {
            k.config.config.resblockKernels = new Array(100_000).fill(3);
            k.config.config.resblockDilations = new Array(100_000).fill([1]);
          },
        ],
        ["config.periods of 100,000 periods", (k) => (k.config.config.periods = new Array(100_000).fill(2))],
        ["config.mpdChannels [-1, 4, 4, 4]", (k) => (k.config.config.mpdChannels = [-1, 4, 4, 4])],
        ["config.msdChannels a string of 7 letters", (k) => (k.config.config.msdChannels = "abcdefg")],
        [
          "config.resblockDilations [[0.5]]",
          (k) => {
            k.config.config.resblockKernels = [3];
            k.config.config.resblockDilations = [[0.5]];
          },
        ],
        [
          "config.upsampleRates [1e9]",
          (k) => {
            k.config.config.upsampleRates = [1e9];
            k.config.config.upsampleKernels = [1e9];
          },
        ],
        ["a weight renamed", renameOne()],
        ["step 1e9, past its steps", (k) => (k.step = 1e9)],
      ],
    ],
  ] as [TtsModelName, Checkpoint, [string, Edit][]][]) {
    for (const [name, edit] of edits) {
      const d = runOf(ckpt, edit);
      if (/rng|dropoutRng/i.test(name))
        add(`train ${model} --resume <${model}: ${name}>`, ["train", model, "--resume", d]);
      else if (model === "vocoder") add(`say --vocoder <vocoder: ${name}>`, [...say(runOf(r.taco)), "--vocoder", d]);
      else add(`say --checkpoint <${model}: ${name}>`, say(d));
      if (/Layers|a weight|unknown|periods|resblock/.test(name))
        add(`eval --checkpoint <${model}: ${name}>`, ["eval", "--checkpoint", d]);
    }
  }
  // one speech model where another is expected
  add("say --checkpoint <a vocoder run>", say(runOf(r.voc)));
  add("say --vocoder <a tacotron2 run>", [...say(runOf(r.fast)), "--vocoder", runOf(r.taco)]);
  add("train tacotron2 --resume <a vocoder run>", ["train", "tacotron2", "--resume", runOf(r.voc)]);
  add("train vocoder --resume <a fastspeech2 run>", ["train", "vocoder", "--resume", runOf(r.fast)]);
  add("generate --checkpoint <a vocoder run>", generate(runOf(r.voc)));
  add("say --checkpoint <an empty file>", say(empty(new Uint8Array(0))));
  add("eval --checkpoint <its checkpoint's header alone>", ["eval", "--checkpoint", empty(headerOf(r.fast))]);
}

/** A checkpoint's safetensors header and nothing of its data. */
function headerOf(k: Checkpoint): Uint8Array {
  const bytes = serializeCheckpoint(k);
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return bytes.subarray(0, 8 + n);
}
