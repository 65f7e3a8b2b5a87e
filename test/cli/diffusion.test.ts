// `wnn train ddpm`, `wnn generate --checkpoint` and `wnn generate --model`, run as a user runs them, with tiny
// settings: the run's files, resume, the PNGs; Stable Diffusion from a tiny diffusers folder with random weights.

import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { Generator } from "../../src/engine/rng.js";
import { writeDiffusersFolder } from "../../src/io/diffusers-folder.js";
import { UNet, unetConfig } from "../../src/models/ddpm/unet.js";
import { AutoencoderKL, vaeConfig } from "../../src/models/latent-diffusion/vae.js";
import { CLIPTextModel, clipTextConfig } from "../../src/models/latent-diffusion/clip-text.js";
import { toDiffusers } from "../../src/models/latent-diffusion/diffusers.js";

const WNN = fileURLToPath(new URL("../../cli/wnn.js", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "wnn-diffusion-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

function wnn(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [WNN, ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("wnn train ddpm writes its run (checkpoint, log, loss curve, grid, strip), resumes, stops at a CPU budget, and wnn generate draws a digit", () => {
  const dir = join(tmp, "ddpm");
  const tiny = ["--batch_size", "2", "--channels", "8", "--sample_steps", "1", "--guidance", "1"];
  const a = wnn("train", "ddpm", "--steps", "2", ...tiny, "--out", dir);
  assert.equal(a.code, 0, a.stderr);
  for (const f of ["checkpoint.safetensors", "log.jsonl", "loss.png", "grid.png", "strip.png"])
    assert.ok(existsSync(join(dir, f)), f);
  const b = wnn("train", "ddpm", "--resume", dir, "--steps", "3", "--sample_steps", "1", "--guidance", "1");
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stdout, /resuming .* at step 2 of 3/);
  assert.equal(readFileSync(join(dir, "log.jsonl"), "utf8").trim().split("\n").length, 3);
  // the CPU of the steps already run counts (the log's cpuTotal): a budget they exceed stops before another step
  const budget = wnn(
    "train",
    "ddpm",
    "--resume",
    dir,
    "--steps",
    "9",
    "--max_cpu_minutes",
    "1e-6",
    "--sample_steps",
    "1",
  );
  assert.equal(budget.code, 0, budget.stderr);
  assert.match(budget.stdout, /stopped at the CPU budget: [\d.]+ of 0\.000001 CPU minutes at step 3;/);
  assert.equal(readFileSync(join(dir, "log.jsonl"), "utf8").trim().split("\n").length, 3);
  const c = wnn(
    "generate",
    "--checkpoint",
    dir,
    "--digit",
    "7",
    "--n",
    "2",
    "--steps",
    "2",
    "--out",
    join(dir, "seven.png"),
  );
  assert.equal(c.code, 0, c.stderr);
  assert.match(c.stdout, /2 digits \(7\) by DDIM, 2 steps/);
  assert.ok(existsSync(join(dir, "seven.png")));
  const bad = wnn("train", "ddpm", "--resume", dir, "--lr", "0.1");
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--lr cannot change when resuming/);
});

test("wnn generate --model: Stable Diffusion from a diffusers folder (tiny, random weights) writes a PNG", () => {
  const dir = join(tmp, "sd");
  const g = new Generator(0);
  const tok = JSON.parse(
    readFileSync(new URL("../../../test/fixtures/data/clip_tokenizer.json", import.meta.url), "utf8"),
  ) as { vocab: Record<string, number>; merges: string };
  const nets = {
    unet: new UNet(
      unetConfig("sd-v1-unet", {
        channels: 4,
        channelMult: [1, 2],
        numResBlocks: 1,
        attnLevels: [1],
        groups: 2,
        heads: 2,
        contextDim: 6,
      }),
      { generator: g },
    ),
    vae: new AutoencoderKL(vaeConfig("sd-v1-vae", { channels: [4, 8], layersPerBlock: 1, groups: 2 }), {
      generator: g,
    }),
    textEncoder: new CLIPTextModel(
      clipTextConfig("clip-vit-l-14-text", {
        vocabSize: Object.keys(tok.vocab).length,
        maxPositions: 8,
        width: 6,
        layers: 1,
        heads: 2,
        mlpWidth: 12,
      }),
      { generator: g },
    ),
  };
  writeDiffusersFolder(dir, {
    ...toDiffusers(nets),
    tokenizer: tok,
    scheduler: { num_train_timesteps: 1000, beta_schedule: "scaled_linear", beta_start: 0.00085, beta_end: 0.012 },
  });
  const out = join(tmp, "sd.png");
  const r = wnn("generate", "--model", dir, "a thick slanted seven", "--steps", "2", "--size", "8", "--out", out);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /2 DDIM steps, guidance 7\.5, 8×8/);
  assert.match(r.stdout, /s per U-Net evaluation/);
  assert.ok(existsSync(out));
  const png = readFileSync(out);
  assert.equal(png.readUInt32BE(16), 8); // IHDR width
  const noModel = wnn("generate", "a prompt");
  assert.equal(noModel.code, 2);
  assert.match(noModel.stderr, /needs --model/);
  const both = wnn("generate", "--model", dir, "--checkpoint", dir, "x");
  assert.equal(both.code, 2);
  const missing = wnn("generate", "--model", join(tmp, "nowhere"), "x");
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nowhere/);
});

test("wnn train ldm writes its run; wnn generate --checkpoint <ldm> draws for a caption and refuses unknown words", () => {
  const dir = join(tmp, "ldm");
  const a = wnn(
    "train",
    "ldm",
    "--vae_steps",
    "1",
    "--steps",
    "1",
    "--batch_size",
    "2",
    "--channels",
    "8",
    "--sample_steps",
    "1",
    "--out",
    dir,
  );
  assert.equal(a.code, 0, a.stderr);
  assert.match(a.stdout, /captions, e\.g\.: "a /);
  for (const f of ["checkpoint.safetensors", "log.jsonl", "loss-vae.png", "loss-unet.png", "grid.png"])
    assert.ok(existsSync(join(dir, f)), f);
  const out = join(dir, "seven.png");
  const b = wnn("generate", "--checkpoint", dir, "a thick slanted seven", "--n", "2", "--steps", "1", "--out", out);
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stdout, /2 digit\(s\) for "a thick slanted seven" by DDIM, 1 steps, guidance 3/);
  assert.ok(existsSync(out));
  const resumed = wnn("train", "ldm", "--resume", dir, "--steps", "2", "--sample_steps", "1");
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, /resuming .* at step 2 of 3/);
  assert.equal(readFileSync(join(dir, "log.jsonl"), "utf8").trim().split("\n").length, 3);
  const fixed = wnn("train", "ldm", "--resume", dir, "--lr", "0.1");
  assert.equal(fixed.code, 2);
  assert.match(fixed.stderr, /--lr cannot change when resuming/);
  const unknown = wnn("generate", "--checkpoint", dir, "a purple seven", "--steps", "1", "--out", join(dir, "x.png"));
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /unknown word "purple"/);
  const digit = wnn("generate", "--checkpoint", dir, "a seven", "--digit", "7");
  assert.equal(digit.code, 2);
  assert.match(digit.stderr, /takes a caption, not --digit/);
});

test("wnn train ldm --max_cpu_minutes stops and saves, the total carries over --resume; --judge measures the autoencoder's ceiling", () => {
  const dir = join(tmp, "ldm-budget");
  const tiny = ["--batch_size", "2", "--channels", "8", "--sample_steps", "1"];
  const a = wnn("train", "ldm", "--vae_steps", "2", "--steps", "2", ...tiny, "--max_cpu_minutes", "1e-6", "--out", dir);
  assert.equal(a.code, 0, a.stderr);
  const stopped = /stopped at the CPU budget: [\d.]+ of 0\.000001 CPU minutes at step (\d+)/.exec(a.stdout);
  assert.ok(stopped, a.stdout);
  assert.ok(Number(stopped[1]) < 4, a.stdout);
  assert.ok(existsSync(join(dir, "checkpoint.safetensors")));
  const cpuOf = () =>
    readFileSync(join(dir, "log.jsonl"), "utf8")
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { type: string; step: number; cpuTotal: number })
      .filter((e) => e.type === "train");
  const first = cpuOf();
  const b = wnn("train", "ldm", "--resume", dir, "--max_cpu_minutes", "1000", "--sample_steps", "1");
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stdout, new RegExp(`resuming .* at step ${stopped[1]} of 4`));
  const again = cpuOf();
  assert.deepEqual(
    again.map((e) => e.step),
    [1, 2, 3, 4],
  );
  for (let i = 1; i < again.length; i++) assert.ok(again[i]!.cpuTotal > again[i - 1]!.cpuTotal);
  if (first.length) assert.equal(again[first.length - 1]!.cpuTotal, first.at(-1)!.cpuTotal);
  assert.ok(existsSync(join(dir, "grid.png")));

  // the measurement: 40 captions × n digits, then the judge on the autoencoder's reconstructions of 500 test digits
  const judgeDir = join(tmp, "judge");
  const j = wnn("train", "cnn", "--epochs", "1", "--subset", "64", "--batch_size", "16", "--out", judgeDir);
  assert.equal(j.code, 0, j.stderr);
  const m = wnn(
    "generate",
    "--checkpoint",
    dir,
    "--n",
    "1",
    "--steps",
    "1",
    "--judge",
    judgeDir,
    "--out",
    join(dir, "m.png"),
  );
  assert.equal(m.code, 0, m.stderr);
  assert.match(m.stdout, /40 digit\(s\) for 40 captions/);
  assert.match(m.stdout, /class accuracy [\d.]+% \(\d+\/40\)/);
  const line =
    /reconstructions of the first 500 test digits \(the ceiling\): class accuracy [\d.]+% \((\d+)\/500; the test digits themselves [\d.]+% \((\d+)\/500\)\); their captions' words still hold: (.*)/.exec(
      m.stdout,
    );
  assert.ok(line, m.stdout);
  // every test digit whose caption names a word is counted once for that word: the counts are the captions'
  const named = [...line[3]!.matchAll(/(thick|thin|slanted|upright) [\d.]+% \((\d+)\/(\d+)\)/g)];
  assert.equal(named.length, 4, line[3]);
  for (const [, , yes, n] of named) assert.ok(Number(yes) <= Number(n) && Number(n) > 100 && Number(n) < 250);
  const json = JSON.parse(m.stdout.trim().split("\n").pop()!) as {
    n: number;
    reconstruction: { n: number; accuracy: number; testAccuracy: number };
  };
  assert.equal(json.n, 40);
  assert.equal(json.reconstruction.n, 500);
  assert.equal(json.reconstruction.accuracy, Number(line[1]) / 500);
  assert.equal(json.reconstruction.testAccuracy, Number(line[2]) / 500);
});
