// `wnn generate --checkpoint` on a latent-diffusion run: the memory estimate (cli/ldm.ts, ldmGenerateMemory) against
// the peak measured on the real sampler, its parts (the weights, the picture, one chunk of captions), the refusal
// past the budget in one line; and the message that names the run when the checkpoint is not a diffusion run's.

import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { ldmGenerateMemory, LDM_GENERATE_CHUNK } from "../../cli/ldm.js";
import { LIVE_PEAK_FACTOR } from "../../cli/memory.js";
import { describeRun } from "../../cli/rundir.js";
import { Generator } from "../../src/engine/rng.js";
import { ImageGridWriter } from "../../src/io/chart.js";
import { parseCheckpoint, serializeCheckpoint, type Checkpoint } from "../../src/io/checkpoint.js";
import { saveCheckpoint } from "../../src/io/node.js";
import { measureLivePeak } from "../harness/peak.js";
import { LDMTrainer, ldmMnistConfig, loadLDM } from "../../src/models/latent-diffusion/train.js";

const WNN = fileURLToPath(new URL("../../cli/wnn.js", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "wnn-generate-ldm-"));
after(() => rmSync(tmp, { recursive: true, force: true }));
const wnn = (...args: string[]) => spawnSync(process.execPath, [WNN, ...args], { encoding: "utf8" });

const digits = { images: new Float32Array(4 * 784).fill(0.5), labels: Int32Array.of(0, 1, 2, 3), count: 4 };
const trainer = new LDMTrainer(ldmMnistConfig({ channels: 8 }), { vaeSteps: 1, steps: 1, batchSize: 2 }, digits);
const ckpt: Checkpoint = trainer.checkpoint();
const model = loadLDM(parseCheckpoint(serializeCheckpoint(ckpt)));

test("ldmGenerateMemory: the weights, the picture, and one chunk's live peak, which bounds the peak measured on the real sampler", () => {
  const est = ldmGenerateMemory(model, 1, 4, 3);
  assert.equal(est.how.includes("counted on shape-only tensors"), true, est.how);
  assert.ok(est.live !== null && est.live > 0);
  const params = [model.vae, model.text, model.unet].reduce((n, m) => n + m.numParameters(), 0);
  assert.equal(est.weights, 4 * params);
  assert.equal(est.picture, 5 * ImageGridWriter.bytes(1, 4, [1, 28, 28], { scale: 2 }));
  assert.equal(est.bytes, est.weights + est.picture + LIVE_PEAK_FACTOR * est.live!);
  assert.equal(est.chunk, 4);

  // the real sampler on 4 captions, the collector forced before every kernel: the bytes then alive, less those before
  const measured = measureLivePeak(() =>
    model.generate(new Array<string>(4).fill("a seven"), { steps: 1, guidance: 3, generator: new Generator(0) }),
  );
  // the count is a lower bound of the real peak; the estimate weighs twice it
  assert.ok(
    est.live! <= measured && measured <= LIVE_PEAK_FACTOR * est.live!,
    `live ${est.live}, measured ${measured}`,
  );
});

test("ldmGenerateMemory: past one chunk of captions only the picture grows with the digits", () => {
  const one = ldmGenerateMemory(model, 1, LDM_GENERATE_CHUNK, 3),
    many = ldmGenerateMemory(model, 40, 1024, 3);
  assert.equal(many.chunk, LDM_GENERATE_CHUNK);
  assert.equal(many.live, one.live);
  assert.equal(many.bytes - many.picture, one.bytes - one.picture);
  assert.ok(many.picture > 100 * one.picture);
  const small = ldmGenerateMemory(model, 1, 16, 3);
  assert.ok(small.live! < one.live!, `16 captions ${small.live}, ${LDM_GENERATE_CHUNK}: ${one.live}`);
});

test("wnn generate --checkpoint <ldm run>: refused past --max_memory in one line before a digit is drawn; drawn within it", () => {
  const run = join(tmp, "ldm");
  mkdirSync(run);
  saveCheckpoint(join(run, "checkpoint.safetensors"), ckpt);
  const png = join(tmp, "sevens.png");
  const big = wnn("generate", "--checkpoint", run, "--n", "1024", "--steps", "1", "--max_memory", "0.01", "--out", png);
  assert.equal(big.status, 1, big.stderr);
  assert.equal(big.stderr.trim().split("\n").length, 1, big.stderr);
  assert.match(
    big.stderr,
    /^wnn: generate: --n 1024 --steps 1: this would need about [\d.]+ GiB \(the weights, the picture \(5 bytes a pixel\) and twice the peak of the buffers one step keeps at once, counted on shape-only tensors\), more than the budget of 0\.01 GiB \(--max_memory\)/,
  );
  assert.equal(existsSync(png), false);
  // 200 digits of one caption: refused at 0.9 times the estimate, drawn at 1.1 times it
  const need = ldmGenerateMemory(model, 1, 200, 3).bytes / 2 ** 30;
  assert.ok(0.9 * need > 0.001, `${need} GiB`);
  const at = (f: number) =>
    wnn(
      "generate",
      "--checkpoint",
      run,
      "a seven",
      "--n",
      "200",
      "--steps",
      "1",
      "--max_memory",
      (f * need).toPrecision(6),
      "--out",
      png,
    );
  const refused = at(0.9);
  assert.equal(refused.status, 1, refused.stderr);
  assert.match(refused.stderr, /would need about/);
  assert.equal(existsSync(png), false);
  const ok = at(1.1);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /200 digit\(s\) for "a seven"/);
  assert.ok(existsSync(png));
});

test("wnn generate --checkpoint <a run of another command>: the message names the run and the command that reads it", () => {
  const runOf = (name: string, config: Record<string, unknown> | undefined): string => {
    const d = join(tmp, name);
    mkdirSync(d);
    saveCheckpoint(join(d, "checkpoint.safetensors"), { model: {}, step: 0, ...(config && { config }) });
    return d;
  };
  const cases: [string, Record<string, unknown> | undefined, RegExp][] = [
    [
      "tts",
      { kind: "tts", model: "tacotron2" },
      /a speech run of `wnn train tacotron2` \(text to speech; config\.kind "tts"\), which `wnn say` and `wnn eval` read/,
    ],
    ["fs2", { kind: "tts", model: "fastspeech2" }, /a speech run of `wnn train fastspeech2`/],
    ["vocoder", { kind: "tts", model: "vocoder" }, /a vocoder run of `wnn train vocoder` .*`wnn say --vocoder`/],
    ["gpt", { kind: "gpt" }, /a run of `wnn train gpt` .*which `wnn sample` reads/],
    ["zoo", { kind: "zoo", model: "llama" }, /a run of `wnn train llama` .*`wnn eval` and `wnn sample` read/],
    ["cnn", { kind: "cnn" }, /a run of `wnn train cnn` .*`wnn generate --judge` reads/],
    ["other", { kind: "wavenet\n at x" }, /a checkpoint of no `wnn train` command \(config\.kind "wavenet\\n at x"\)/],
    ["none", undefined, /without a run's config \(no config\.kind\)/],
  ];
  for (const [name, config, said] of cases) {
    const r = wnn("generate", "--checkpoint", runOf(name, config), "--out", join(tmp, `${name}.png`));
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, said);
    assert.match(r.stderr, /`wnn generate --checkpoint` draws with a run of `wnn train ddpm` or `wnn train ldm`$/m);
    assert.doesNotMatch(r.stderr, /not one written by/);
  }
  // the description is the config's, whatever reads it
  assert.match(describeRun({ model: {}, step: 0, config: { kind: "ldm" } } as never), /`wnn train ldm`/);
});
