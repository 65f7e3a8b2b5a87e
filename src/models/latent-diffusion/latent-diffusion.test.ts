// Latent diffusion's networks against the PyTorch reference (tools/fixtures/latent_diffusion.py): a tiny KL
// autoencoder (encode, reparameterise, decode, KL, every gradient), a tiny CLIP text encoder (hidden states, the
// pooled end-of-text state, every gradient), and Stable Diffusion v1's three networks counted without
// allocating (meta) against the counts of the reference modules — which are the published ones.

import { readFileSync } from "../../../test/harness/files.js";
import { test } from "node:test";
import assert from "node:assert/strict";
import { ArgumentError, Generator, ShapeError, tensor } from "../../index.js";
import { meta } from "../../engine/meta.js";
import { assertClose, assertThrowsWith } from "../../../test/harness/assert.js";
import { fromJson, type TensorJson } from "../../../test/harness/fixtures.js";
import * as F from "../../nn/functional.js";
import type { Module } from "../../nn/module.js";
import { UNet, unetConfig } from "../ddpm/unet.js";
import { AutoencoderKL, vaeConfig, type VAEConfig } from "./vae.js";
import { CLIPTextModel, clipTextConfig, type CLIPTextConfig } from "./clip-text.js";

interface Case<C> {
  config: C;
  state: Record<string, TensorJson>;
  loss: number;
  grads: Record<string, TensorJson>;
}
interface Fixture {
  vae: Case<VAEConfig> & {
    x: TensorJson;
    eps: TensorJson;
    mean: TensorJson;
    logvar: TensorJson;
    z: TensorJson;
    rec: TensorJson;
    kl: number;
  };
  clip: Case<CLIPTextConfig> & { ids: TensorJson; hidden: TensorJson; pooled: TensorJson };
  counts: Record<"sd-v1-unet" | "sd-v1-vae" | "clip-vit-l-14-text", number>;
}

const fx = JSON.parse(
  readFileSync(new URL("../../../../test/fixtures/models/latent_diffusion.json", import.meta.url), "utf8"),
) as Fixture;
const TOL = { atol: 1e-4, rtol: 1e-4 };
const GRAD = { atol: 1e-5, rtol: 2e-3 };

function load<M extends Module>(model: M, state: Record<string, TensorJson>): M {
  const s = Object.fromEntries(Object.entries(state).map(([k, v]) => [k, fromJson(v)]));
  assert.deepEqual(
    Object.keys(model.stateDict()).sort(),
    Object.keys(s).sort(),
    "the same parameter names as the reference",
  );
  model.loadStateDict(s);
  return model;
}

function checkGrads(model: Module, grads: Record<string, TensorJson>): void {
  for (const [name, p] of model.namedParameters())
    assertClose(p.grad!, fromJson(grads[name]!), GRAD, `d loss/d ${name}`);
}

test("the KL autoencoder matches PyTorch: q(z | x), z = μ + σ·ε, the decoder, the KL term and every gradient", () => {
  const c = fx.vae;
  const vae = load(new AutoencoderKL(vaeConfig(c.config), { generator: new Generator(0) }), c.state);
  const x = fromJson(c.x);
  const q = vae.encode(x);
  assertClose(q.mean, fromJson(c.mean), TOL, "mean");
  assertClose(q.logvar, fromJson(c.logvar), TOL, "log-variance");
  const z = q.mean.add(q.logvar.mul(0.5).exp().mul(fromJson(c.eps)));
  assertClose(z, fromJson(c.z), TOL, "z");
  const rec = vae.decode(z);
  assertClose(rec, fromJson(c.rec), TOL, "reconstruction");
  const kl = AutoencoderKL.kl(q);
  assert.ok(Math.abs(kl.item() - c.kl) <= 1e-4 * Math.max(1, c.kl), `KL ${kl.item()} vs ${c.kl}`);
  const loss = F.mseLoss(rec, x).add(kl.mul(1e-3));
  assert.ok(Math.abs(loss.item() - c.loss) <= 1e-5 * Math.max(1, c.loss));
  loss.backward();
  checkGrads(vae, c.grads);
  assert.deepEqual(vae.sample(q, new Generator(1)).shape, q.mean.shape);
  assertThrowsWith(() => vae.encode(tensor([1, 2, 3, 4]).reshape([1, 4, 1, 1])), ShapeError, /AutoencoderKL/);
  assertThrowsWith(() => vaeConfig(c.config, { groups: 3 }), ArgumentError, /groups/);
});

test("the CLIP text encoder matches PyTorch: causal pre-LN blocks with QuickGELU, the pooled end-of-text state, every gradient", () => {
  const c = fx.clip;
  const clip = load(new CLIPTextModel(clipTextConfig(c.config), { generator: new Generator(0) }), c.state);
  const { hidden, pooled } = clip.forward(fromJson(c.ids));
  assertClose(hidden, fromJson(c.hidden), TOL, "hidden states");
  assertClose(pooled, fromJson(c.pooled), TOL, "pooled");
  const loss = hidden.mul(hidden).sum().mul(0.01).add(pooled.mul(pooled).mul(pooled).sum());
  assert.ok(Math.abs(loss.item() - c.loss) <= 1e-4 * Math.max(1, Math.abs(c.loss)));
  loss.backward();
  checkGrads(clip, c.grads);
  assertThrowsWith(
    () => clip.forward(tensor([[1, 2, 3, 4, 5, 6, 7, 8]], { dtype: "int32" })),
    ShapeError,
    /CLIPTextModel/,
  );
});

test("Stable Diffusion v1's networks as presets, counted without allocating: the reference modules' (and the published) counts", () => {
  const unet = meta(() => new UNet(unetConfig("sd-v1-unet")).numParameters());
  const vae = meta(() => new AutoencoderKL(vaeConfig("sd-v1-vae")).numParameters());
  const clip = meta(() => new CLIPTextModel(clipTextConfig("clip-vit-l-14-text")).numParameters());
  assert.deepEqual({ "sd-v1-unet": unet, "sd-v1-vae": vae, "clip-vit-l-14-text": clip }, fx.counts);
});
