// diffusers pipeline folders: tiny Stable-Diffusion-shaped networks written in the diffusers layout
// (toDiffusers → writeDiffusersFolder) and read back (readDiffusersFolder → fromDiffusers) give bit-identical
// outputs; the weight maps produce names of the published checkpoints; bad folders (a missing component,
// pickle-only weights, a mismatched shape, an unknown or missing tensor) are LoadErrors naming the problem.

import { strict as assert } from "node:assert";
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { randn, tensor, zeros } from "../../src/engine/creation.js";
import { LoadError } from "../../src/engine/errors.js";
import { meta } from "../../src/engine/meta.js";
import { noGrad } from "../../src/engine/autograd.js";
import { Generator } from "../../src/engine/rng.js";
import { readDiffusersFolder, writeDiffusersFolder } from "../../src/io/diffusers-folder.js";
import { UNet, unetConfig } from "../../src/models/ddpm/unet.js";
import { AutoencoderKL, vaeConfig } from "../../src/models/latent-diffusion/vae.js";
import { CLIPTextModel, clipTextConfig } from "../../src/models/latent-diffusion/clip-text.js";
import {
  clipToTransformers,
  fromDiffusers,
  toDiffusers,
  unetToDiffusers,
  vaeToDiffusers,
} from "../../src/models/latent-diffusion/diffusers.js";
import { assertThrowsWith } from "../harness/assert.js";

const tmp = mkdtempSync(join(tmpdir(), "wnn-diffusers-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

const g = new Generator(0);
const tiny = () => ({
  unet: new UNet(
    unetConfig("sd-v1-unet", {
      inChannels: 2,
      outChannels: 2,
      channels: 4,
      channelMult: [1, 2],
      numResBlocks: 1,
      attnLevels: [0],
      groups: 2,
      heads: 2,
      contextDim: 6,
    }),
    { generator: g },
  ).eval(),
  vae: new AutoencoderKL(
    vaeConfig("sd-v1-vae", { latentChannels: 2, channels: [4, 8], layersPerBlock: 1, groups: 2 }),
    { generator: g },
  ).eval(),
  textEncoder: new CLIPTextModel(
    clipTextConfig("clip-vit-l-14-text", {
      vocabSize: 12,
      maxPositions: 5,
      width: 6,
      layers: 1,
      heads: 2,
      mlpWidth: 12,
    }),
    { generator: g },
  ).eval(),
  scalingFactor: 0.5,
});
const TOKENIZER = { vocab: { "a</w>": 0, "<|startoftext|>": 10, "<|endoftext|>": 11 }, merges: "#version: 0.2\n" };
const SCHEDULER = {
  _class_name: "PNDMScheduler",
  num_train_timesteps: 1000,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: "scaled_linear",
};

function write(dir: string, m = tiny()): ReturnType<typeof tiny> {
  writeDiffusersFolder(dir, { ...toDiffusers(m), tokenizer: TOKENIZER, scheduler: SCHEDULER });
  return m;
}

test("a diffusers folder round trip: the three networks read back give bit-identical outputs", () => {
  const dir = join(tmp, "ok");
  const m = write(dir);
  const f = readDiffusersFolder(dir);
  const back = fromDiffusers(f);
  assert.equal(back.scalingFactor, 0.5);
  assert.deepEqual({ ...f.scheduler }, SCHEDULER);
  assert.equal(f.tokenizer.merges, TOKENIZER.merges);
  noGrad(() => {
    const ids = tensor([[10, 3, 4, 11, 11]], { dtype: "int32" });
    const a = m.textEncoder.forward(ids),
      b = back.textEncoder.forward(ids);
    assert.deepEqual([...b.hidden.storage], [...a.hidden.storage]);
    const x = randn([1, 2, 4, 4], { generator: new Generator(1) });
    assert.deepEqual(
      [...back.unet.forward(x, [500], null, a.hidden).storage],
      [...m.unet.forward(x, [500], null, a.hidden).storage],
    );
    assert.deepEqual([...back.vae.decode(x).storage], [...m.vae.decode(x).storage]);
  });
});

test("the weight maps give the names of the published Stable Diffusion v1 checkpoints", () => {
  const unet = meta(() => Object.keys(new UNet(unetConfig("sd-v1-unet")).stateDict()).map(unetToDiffusers));
  for (const name of [
    "conv_in.weight",
    "time_embedding.linear_1.weight",
    "down_blocks.0.resnets.0.time_emb_proj.weight",
    "down_blocks.0.attentions.1.transformer_blocks.0.attn2.to_k.weight",
    "down_blocks.0.attentions.0.transformer_blocks.0.ff.net.0.proj.weight",
    "down_blocks.2.downsamplers.0.conv.weight",
    "mid_block.attentions.0.proj_in.weight",
    "mid_block.resnets.1.conv2.bias",
    "up_blocks.1.resnets.2.conv_shortcut.weight",
    "up_blocks.3.attentions.2.transformer_blocks.0.attn1.to_out.0.bias",
    "up_blocks.0.upsamplers.0.conv.weight",
    "conv_norm_out.weight",
    "conv_out.bias",
  ])
    assert.ok(unet.includes(name), name);
  assert.ok(
    !unet.some((n) =>
      /up_blocks\.0\.attentions|down_blocks\.3\.attentions|up_blocks\.3\.upsamplers|down_blocks\.3\.downsamplers/.test(
        n,
      ),
    ),
  );
  const vae = meta(() => Object.keys(new AutoencoderKL(vaeConfig("sd-v1-vae")).stateDict()).map(vaeToDiffusers));
  for (const name of [
    "encoder.conv_in.weight",
    "encoder.down_blocks.1.resnets.0.conv_shortcut.weight",
    "encoder.down_blocks.0.downsamplers.0.conv.weight",
    "encoder.mid_block.attentions.0.group_norm.weight",
    "encoder.mid_block.attentions.0.to_q.weight",
    "encoder.conv_out.weight",
    "quant_conv.weight",
    "post_quant_conv.bias",
    "decoder.mid_block.attentions.0.to_out.0.weight",
    "decoder.up_blocks.3.resnets.2.norm2.bias",
    "decoder.up_blocks.2.upsamplers.0.conv.weight",
  ])
    assert.ok(vae.includes(name), name);
  const clip = meta(() =>
    Object.keys(new CLIPTextModel(clipTextConfig("clip-vit-l-14-text")).stateDict()).map(clipToTransformers),
  );
  for (const name of [
    "text_model.embeddings.token_embedding.weight",
    "text_model.embeddings.position_embedding.weight",
    "text_model.encoder.layers.11.self_attn.out_proj.bias",
    "text_model.encoder.layers.0.self_attn.q_proj.weight",
    "text_model.encoder.layers.5.mlp.fc2.weight",
    "text_model.encoder.layers.3.layer_norm2.weight",
    "text_model.final_layer_norm.bias",
  ])
    assert.ok(clip.includes(name), name);
  assert.equal(new Set(unet).size, unet.length, "no two of our tensors map to one name");
});

test("SD v1's 1×1-convolution projections load into the Linear layers; CLIP's position_ids buffer is ignored", () => {
  const dir = join(tmp, "conv1x1");
  const m = tiny();
  const files = toDiffusers(m);
  for (const [k, t] of Object.entries(files.unet.tensors))
    if (/proj_(in|out)\.weight$/.test(k)) files.unet.tensors[k] = t.reshape([...t.shape, 1, 1]);
  files.textEncoder.tensors["text_model.embeddings.position_ids"] = tensor([[0, 1, 2, 3, 4]], { dtype: "int32" });
  writeDiffusersFolder(dir, { ...files, tokenizer: TOKENIZER, scheduler: SCHEDULER });
  const back = fromDiffusers(readDiffusersFolder(dir));
  assert.deepEqual(
    [...back.unet.midAttn.stateDict()["projIn.weight"]!.storage],
    [...m.unet.midAttn.stateDict()["projIn.weight"]!.storage],
  );
});

test("bad diffusers folders are LoadErrors: a missing component, pickle-only weights, a mismatched shape, unknown and missing tensors", () => {
  const missing = join(tmp, "missing");
  write(missing);
  rmSync(join(missing, "vae"), { recursive: true });
  assertThrowsWith(() => readDiffusersFolder(missing), LoadError, /vae/);

  const pickle = join(tmp, "pickle");
  write(pickle);
  renameSync(
    join(pickle, "unet", "diffusion_pytorch_model.safetensors"),
    join(pickle, "unet", "diffusion_pytorch_model.bin"),
  );
  assertThrowsWith(() => readDiffusersFolder(pickle), LoadError, /pickle/, /diffusion_pytorch_model\.bin/);

  const noTok = join(tmp, "no-merges");
  write(noTok);
  rmSync(join(noTok, "tokenizer", "merges.txt"));
  assertThrowsWith(() => readDiffusersFolder(noTok), LoadError, /merges\.txt/);

  const files = toDiffusers(tiny());
  const shape = {
    ...files,
    unet: { ...files.unet, tensors: { ...files.unet.tensors, "conv_in.weight": zeros([4, 3, 3, 3]) } },
  };
  assertThrowsWith(() => fromDiffusers(shape), LoadError, /unet/, /conv_in\.weight/, /shape/);
  const extra = {
    ...files,
    vae: { ...files.vae, tensors: { ...files.vae.tensors, "encoder.extra.weight": zeros([1]) } },
  };
  assertThrowsWith(() => fromDiffusers(extra), LoadError, /vae/, /encoder\.extra\.weight/);
  const lacking = { ...files.textEncoder.tensors };
  delete lacking["text_model.final_layer_norm.weight"];
  assertThrowsWith(
    () => fromDiffusers({ ...files, textEncoder: { ...files.textEncoder, tensors: lacking } }),
    LoadError,
    /text_encoder/,
    /final_layer_norm/,
  );
  const badConfig = {
    ...files,
    unet: {
      ...files.unet,
      config: { ...files.unet.config, down_block_types: ["SimpleCrossAttnDownBlock2D", "DownBlock2D"] },
    },
  };
  assertThrowsWith(() => fromDiffusers(badConfig), LoadError, /SimpleCrossAttnDownBlock2D/);
  writeFileSync(join(tmp, "not-a-folder"), "x");
  assertThrowsWith(() => readDiffusersFolder(join(tmp, "not-a-folder")), LoadError, /not a folder/);
});
