// `wnn train cnn|mlp`'s augmentation (cli/mnist.ts): the affine warp against exact cases, and the wider
// LeNet-5 (--c1/--c3) with --rotate/--scale through the command.

import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { Generator } from "../../src/engine/rng.js";
import { loadCheckpoint } from "../../src/io/node.js";
import { ELASTIC_SIGMA, elasticField, translate, warp } from "../../cli/mnist.js";

const WNN = fileURLToPath(new URL("../../cli/wnn.js", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "wnn-mnist-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

const image = (seed: number): Float32Array => {
  const g = new Generator(seed);
  return Float32Array.from({ length: 784 }, () => g.random());
};

test("warp without rotation or scaling is the integer shift of translate", () => {
  const src = image(1);
  for (const [dx, dy] of [
    [0, 0],
    [2, -1],
    [-3, 2],
    [1, 1],
  ] as const) {
    const a = new Float32Array(784),
      b = new Float32Array(784);
    translate(src, a, dx, dy);
    warp(src, b, 0, 1, dx, dy);
    for (let i = 0; i < 784; i++)
      assert.ok(Math.abs(a[i]! - b[i]!) < 1e-6, `shift (${dx}, ${dy}) pixel ${i}: ${a[i]} vs ${b[i]}`);
  }
});

test("warp by a quarter turn about the centre moves pixel (27 − c, r) to (r, c)", () => {
  const src = image(2),
    dst = new Float32Array(784);
  warp(src, dst, Math.PI / 2, 1, 0, 0);
  for (let r = 0; r < 28; r++)
    for (let c = 0; c < 28; c++) assert.ok(Math.abs(dst[r * 28 + c]! - src[(27 - c) * 28 + r]!) < 1e-5, `(${r}, ${c})`);
});

test("warp by a zoom of 2 reads halfway points: the mean of the two neighbours on a row", () => {
  // a horizontal ramp src(r, c) = c: zoom 2 about 13.5 maps column c to 13.5 + (c − 13.5)/2, linear in c
  const src = Float32Array.from({ length: 784 }, (_, i) => i % 28),
    dst = new Float32Array(784);
  warp(src, dst, 0, 2, 0, 0);
  for (let c = 0; c < 28; c++)
    assert.ok(Math.abs(dst[5 * 28 + c]! - (13.5 + (c - 13.5) / 2)) < 1e-5, `column ${c}: ${dst[5 * 28 + c]}`);
});

test("elasticField: a smooth field scaled by α; with a constant field, warp is a shift", () => {
  const f = elasticField(new Generator(3), 34, ELASTIC_SIGMA),
    z = elasticField(new Generator(3), 0, ELASTIC_SIGMA);
  assert.ok(z.dx.every((v) => v === 0) && z.dy.every((v) => v === 0), "α 0: no displacement");
  const half = elasticField(new Generator(3), 17, ELASTIC_SIGMA);
  for (let i = 0; i < 784; i++)
    assert.ok(
      Math.abs(half.dx[i]! - f.dx[i]! / 2) < 1e-12 && Math.abs(half.dy[i]! - f.dy[i]! / 2) < 1e-12,
      "linear in α",
    );
  // smooth: neighbouring displacements differ far less than the field's own spread
  let spread = 0,
    step = 0;
  for (let r = 0; r < 28; r++)
    for (let c = 0; c < 27; c++) {
      spread = Math.max(spread, Math.abs(f.dx[r * 28 + c]!));
      step = Math.max(step, Math.abs(f.dx[r * 28 + c + 1]! - f.dx[r * 28 + c]!));
    }
  assert.ok(spread > 0.5 && step < spread / 2, `largest |dx| ${spread}, largest step between neighbours ${step}`);
  // a constant field (1, −2) samples src at (c + 1, r − 2): the digit moved 1 left and 2 down, as translate(−1, 2)
  const src = image(4),
    a = new Float32Array(784),
    b = new Float32Array(784);
  translate(src, a, -1, 2);
  warp(src, b, 0, 1, 0, 0, { dx: new Float64Array(784).fill(1), dy: new Float64Array(784).fill(-2) });
  for (let i = 0; i < 784; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 1e-6, `pixel ${i}`);
});

test("train cnn --c1 --c3 --rotate --scale: a wider LeNet-5 trained on warped digits, widths in the checkpoint", () => {
  const dir = join(tmp, "wide");
  const r = spawnSync(
    process.execPath,
    [
      WNN,
      "train",
      "cnn",
      "--epochs",
      "1",
      "--subset",
      "512",
      "--batch_size",
      "32",
      "--c1",
      "8",
      "--c3",
      "12",
      "--augment",
      "2",
      "--rotate",
      "10",
      "--scale",
      "0.1",
      "--elastic",
      "20",
      "--out",
      dir,
    ],
    { encoding: "utf8" },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /LeNet-5 \(8 and 12 feature maps\)/);
  assert.match(r.stdout, /shifts up to 2 px, rotations up to ±10°, scaling by 1 ± 0.1, elastic distortions α 20 σ 4/);
  const acc = /test accuracy: (\d+\.\d\d)% \((\d+)\/2000\)/.exec(r.stdout);
  assert.ok(acc && Number(acc[2]) > 400, r.stdout);
  const ckpt = loadCheckpoint(join(dir, "checkpoint.safetensors"));
  const shapes = Object.fromEntries(Object.entries(ckpt.model).map(([k, t]) => [k, t.shape.join("x")]));
  assert.ok(
    Object.values(shapes).includes("8x1x5x5") && Object.values(shapes).includes("12x8x5x5"),
    JSON.stringify(shapes),
  );
  const config = ckpt.config as Record<string, unknown>;
  assert.deepEqual([config.c1, config.c3, config.rotate, config.scale], [8, 12, 10, 0.1]);
});
