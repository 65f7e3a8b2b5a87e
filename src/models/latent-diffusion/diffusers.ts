// Stable Diffusion's checkpoint names and configs ↔ ours: the weight maps of the U-Net (diffusers'
// UNet2DConditionModel), the autoencoder (diffusers' AutoencoderKL) and the text encoder (transformers'
// CLIPTextModel), and their config.json fields. Browser-safe: tensors and parsed JSON in, modules out; the
// folder itself is read by src/io/diffusers-folder.ts.
//
// Every name is checked both ways (a tensor the model needs and the checkpoint lacks, or one the checkpoint has
// and the model does not know, is a LoadError naming it) and every shape is checked. The only layout change:
// SD v1's spatial transformers project in and out with 1×1 convolutions (C, C, 1, 1) where ours are Linear
// (C, C), and old autoencoder checkpoints hold their attention as 1×1 convolutions too; both are reshaped.

import { LoadError } from "../../engine/errors.js";
import { fmt } from "../../engine/shape.js";
import type { Tensor } from "../../engine/tensor.js";
import type { Module } from "../../nn/module.js";
import { Generator } from "../../engine/rng.js";
import { meta } from "../../engine/meta.js";
import { UNet, unetConfig, type UNetConfig } from "../ddpm/unet.js";
import { AutoencoderKL, vaeConfig, type VAEConfig } from "./vae.js";
import { CLIPTextModel, clipTextConfig, type CLIPTextConfig } from "./clip-text.js";

// =====================================================================================================
// Weight maps: one of our names → the checkpoint's. Rules apply in order, each to the whole name.

type Rule = readonly [RegExp, string];

const rewrite =
  (rules: readonly Rule[]) =>
  (name: string): string =>
    rules.reduce((s, [re, to]) => s.replace(re, to), name);

/** Inside an attention block: ours → diffusers' Attention (to_q, to_k, to_v, to_out.0). */
const ATTENTION: readonly Rule[] = [
  [/\.wq\./, ".to_q."],
  [/\.wk\./, ".to_k."],
  [/\.wv\./, ".to_v."],
  [/\.wo\./, ".to_out.0."],
];

/** A residual block: ours → diffusers' ResnetBlock2D. */
const RESNET: readonly Rule[] = [
  [/\.timeProj\./, ".time_emb_proj."],
  [/\.skip\./, ".conv_shortcut."],
];

/**
 * | ours                                   | diffusers UNet2DConditionModel                         |
 * |----------------------------------------|--------------------------------------------------------|
 * | convIn, normOut, convOut               | conv_in, conv_norm_out, conv_out                       |
 * | time.linear1 / linear2                 | time_embedding.linear_1 / linear_2                     |
 * | down.{l}.res.{j} (norm1 conv1 timeProj norm2 conv2 skip) | down_blocks.{l}.resnets.{j} (… time_emb_proj … conv_shortcut) |
 * | down.{l}.attn.{j}.{norm,projIn,projOut} | down_blocks.{l}.attentions.{j}.{norm,proj_in,proj_out} (1×1 convs) |
 * | down.{l}.attn.{j}.{norm1..3,attn1,attn2,ff} | ….transformer_blocks.0.{norm1..3,attn1,attn2,ff}  |
 * | attn{1,2}.{wq,wk,wv,wo}                | attn{1,2}.{to_q,to_k,to_v,to_out.0}                    |
 * | ff.up / ff.down                        | ff.net.0.proj / ff.net.2                               |
 * | down.{l}.down.conv / up.{l}.up.conv    | down_blocks.{l}.downsamplers.0.conv / up_blocks.{l}.upsamplers.0.conv |
 * | midRes1, midAttn, midRes2              | mid_block.resnets.0, mid_block.attentions.0, mid_block.resnets.1 |
 */
export const unetToDiffusers = rewrite([
  [/^convIn\./, "conv_in."],
  [/^normOut\./, "conv_norm_out."],
  [/^convOut\./, "conv_out."],
  [/^time\.linear1\./, "time_embedding.linear_1."],
  [/^time\.linear2\./, "time_embedding.linear_2."],
  [/^(down|up)\.(\d+)\.res\.(\d+)\./, "$1_blocks.$2.resnets.$3."],
  [/^(down|up)\.(\d+)\.attn\.(\d+)\./, "$1_blocks.$2.attentions.$3."],
  [/^down\.(\d+)\.down\./, "down_blocks.$1.downsamplers.0."],
  [/^up\.(\d+)\.up\./, "up_blocks.$1.upsamplers.0."],
  [/^midRes1\./, "mid_block.resnets.0."],
  [/^midRes2\./, "mid_block.resnets.1."],
  [/^midAttn\./, "mid_block.attentions.0."],
  [/(attentions\.\d+\.)(norm[123]|attn[12]|ff)\./, "$1transformer_blocks.0.$2."],
  [/\.projIn\./, ".proj_in."],
  [/\.projOut\./, ".proj_out."],
  [/\.ff\.up\./, ".ff.net.0.proj."],
  [/\.ff\.down\./, ".ff.net.2."],
  ...ATTENTION,
  ...RESNET,
]);

/**
 * | ours                                         | diffusers AutoencoderKL                              |
 * |----------------------------------------------|------------------------------------------------------|
 * | encoder.down.{l}.res.{j} / .resample.conv     | encoder.down_blocks.{l}.resnets.{j} / .downsamplers.0.conv |
 * | decoder.up.{l}.res.{j} / .resample.conv       | decoder.up_blocks.{l}.resnets.{j} / .upsamplers.0.conv |
 * | {en,de}coder.midRes1 / midAttn / midRes2      | mid_block.resnets.0 / attentions.0 / resnets.1       |
 * | midAttn.norm, midAttn.attn.{wq,wk,wv,wo}      | attentions.0.group_norm, attentions.0.{to_q,to_k,to_v,to_out.0} |
 * | convIn, normOut, convOut, quantConv, postQuantConv | conv_in, conv_norm_out, conv_out, quant_conv, post_quant_conv |
 */
export const vaeToDiffusers = rewrite([
  [/^(encoder|decoder)\.convIn\./, "$1.conv_in."],
  [/^(encoder|decoder)\.normOut\./, "$1.conv_norm_out."],
  [/^(encoder|decoder)\.convOut\./, "$1.conv_out."],
  [/^quantConv\./, "quant_conv."],
  [/^postQuantConv\./, "post_quant_conv."],
  [/^encoder\.down\.(\d+)\.res\.(\d+)\./, "encoder.down_blocks.$1.resnets.$2."],
  [/^encoder\.down\.(\d+)\.resample\./, "encoder.down_blocks.$1.downsamplers.0."],
  [/^decoder\.up\.(\d+)\.res\.(\d+)\./, "decoder.up_blocks.$1.resnets.$2."],
  [/^decoder\.up\.(\d+)\.resample\./, "decoder.up_blocks.$1.upsamplers.0."],
  [/\.midRes1\./, ".mid_block.resnets.0."],
  [/\.midRes2\./, ".mid_block.resnets.1."],
  [/\.midAttn\.norm\./, ".mid_block.attentions.0.group_norm."],
  [/\.midAttn\.attn\./, ".mid_block.attentions.0."],
  ...ATTENTION,
  ...RESNET,
]);

/**
 * | ours                          | transformers CLIPTextModel                                     |
 * |-------------------------------|----------------------------------------------------------------|
 * | tokenEmb / posEmb             | text_model.embeddings.token_embedding / position_embedding      |
 * | blocks.{i}.norm1 / norm2      | text_model.encoder.layers.{i}.layer_norm1 / layer_norm2         |
 * | blocks.{i}.attn.{wq,wk,wv,wo} | text_model.encoder.layers.{i}.self_attn.{q,k,v,out}_proj        |
 * | blocks.{i}.mlp.up / down      | text_model.encoder.layers.{i}.mlp.fc1 / fc2                     |
 * | normF                         | text_model.final_layer_norm                                     |
 */
export const clipToTransformers = rewrite([
  [/^tokenEmb\./, "text_model.embeddings.token_embedding."],
  [/^posEmb\./, "text_model.embeddings.position_embedding."],
  [/^normF\./, "text_model.final_layer_norm."],
  [/^blocks\.(\d+)\.norm([12])\./, "text_model.encoder.layers.$1.layer_norm$2."],
  [/^blocks\.(\d+)\.attn\.w([qkv])\./, "text_model.encoder.layers.$1.self_attn.$2_proj."],
  [/^blocks\.(\d+)\.attn\.wo\./, "text_model.encoder.layers.$1.self_attn.out_proj."],
  [/^blocks\.(\d+)\.mlp\.up\./, "text_model.encoder.layers.$1.mlp.fc1."],
  [/^blocks\.(\d+)\.mlp\.down\./, "text_model.encoder.layers.$1.mlp.fc2."],
]);

/** Checkpoint tensors that are not parameters and are ignored: CLIP's position_ids buffer. */
const IGNORED = /(^|\.)position_ids$/;

/** Our state dict under the checkpoint's names. */
export function toCheckpointNames(model: Module, map: (name: string) => string): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(model.stateDict()).map(([k, t]) => [map(k), t]));
}

/** Load a checkpoint's tensors into the model through a weight map, every name and shape checked. */
export function loadCheckpointNames(
  model: Module,
  tensors: Record<string, Tensor>,
  map: (name: string) => string,
  what: string,
): void {
  checkCheckpointNames(model, tensors, map, what);
  const state: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(model.stateDict())) {
    const src = tensors[map(name)]!;
    // a 1×1 convolution (C_out, C_in, 1, 1) where we hold a Linear (C_out, C_in)
    const value = src.ndim !== t.ndim ? src.reshape([...t.shape]) : src;
    state[name] = value.dtype === "float32" ? value : value.float();
  }
  model.loadStateDict(state);
}

/** Every tensor the model needs is in the checkpoint with its shape (a 1×1 conv for a Linear allowed), and no other. */
export function checkCheckpointNames(
  model: Module,
  tensors: Record<string, Tensor>,
  map: (name: string) => string,
  what: string,
): void {
  const used = new Set<string>();
  const missing: string[] = [];
  for (const [name, t] of Object.entries(model.stateDict())) {
    const theirs = map(name);
    const src = Object.prototype.hasOwnProperty.call(tensors, theirs) ? tensors[theirs] : undefined;
    if (!src) {
      missing.push(theirs);
      continue;
    }
    used.add(theirs);
    const squeezed =
      src.ndim === 4 && t.ndim === 2 && src.shape[2] === 1 && src.shape[3] === 1 ? src.shape.slice(0, 2) : src.shape;
    if (fmt(squeezed) !== fmt(t.shape))
      throw new LoadError(
        `${what}: ${theirs} has shape ${fmt(src.shape)} in the checkpoint, but the model's ${name} is ${fmt(t.shape)}`,
      );
  }
  if (missing.length)
    throw new LoadError(
      `${what}: the checkpoint lacks ${missing.length} tensor(s) the model needs, e.g. ${missing.slice(0, 3).join(", ")}`,
    );
  const extra = Object.keys(tensors).filter((k) => !used.has(k) && !IGNORED.test(k));
  if (extra.length)
    throw new LoadError(
      `${what}: the checkpoint holds ${extra.length} tensor(s) this model does not know, e.g. ${extra.slice(0, 3).join(", ")}`,
    );
}

// =====================================================================================================
// Configs: config.json ↔ ours

type Json = Record<string, unknown>;

function field<T>(json: Json, key: string, what: string, check: (v: unknown) => v is T, fallback?: T): T {
  const v = json[key];
  if (v === undefined && fallback !== undefined) return fallback;
  if (!check(v))
    throw new LoadError(
      `${what}: config.json's ${JSON.stringify(key)} is ${JSON.stringify(v)}, which is not valid here`,
    );
  return v;
}
const isInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;
const isInts = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.every(isInt);
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === "string");
const isString = (v: unknown): v is string => typeof v === "string";

/** diffusers' UNet2DConditionModel config.json → ours (the SD v1 family: cross-attention and plain blocks, one head count). */
export function unetFromDiffusersConfig(json: Json): UNetConfig {
  const what = "unet";
  const widths = field(json, "block_out_channels", what, isInts);
  const c0 = widths[0]!;
  if (!widths.every((w) => w % c0 === 0))
    throw new LoadError(`${what}: block_out_channels ${JSON.stringify(widths)} must be multiples of the first`);
  const downTypes = field(json, "down_block_types", what, isStrings);
  const upTypes = field(json, "up_block_types", what, isStrings);
  if (downTypes.length !== widths.length || upTypes.length !== widths.length)
    throw new LoadError(`${what}: one down and one up block type per width`);
  for (const t of [...downTypes, ...upTypes])
    if (!["CrossAttnDownBlock2D", "DownBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"].includes(t))
      throw new LoadError(`${what}: block type ${JSON.stringify(t)} is not supported`);
  const attnLevels = downTypes.map((t, l) => (t.startsWith("CrossAttn") ? l : -1)).filter((l) => l >= 0);
  const upAttn = upTypes
    .map((t, i) => (t.startsWith("CrossAttn") ? widths.length - 1 - i : -1))
    .filter((l) => l >= 0)
    .sort();
  if (JSON.stringify(upAttn) !== JSON.stringify(attnLevels))
    throw new LoadError(`${what}: the up blocks' attention must mirror the down blocks'`);
  const heads = field(json, "attention_head_dim", what, isInt, 8); // SD v1 names its head count attention_head_dim
  try {
    return unetConfig({
      inChannels: field(json, "in_channels", what, isInt),
      outChannels: field(json, "out_channels", what, isInt),
      channels: c0,
      channelMult: widths.map((w) => w / c0),
      numResBlocks: field(json, "layers_per_block", what, isInt),
      attnLevels,
      groups: field(json, "norm_num_groups", what, isInt, 32),
      heads,
      numClasses: 0,
      contextDim: field(json, "cross_attention_dim", what, isInt),
      dropout: 0,
    });
  } catch (e) {
    throw new LoadError(`${what}: ${(e as Error).message}`);
  }
}

export function unetToDiffusersConfig(c: UNetConfig): Json {
  const levels = c.channelMult.length;
  return {
    _class_name: "UNet2DConditionModel",
    in_channels: c.inChannels,
    out_channels: c.outChannels,
    block_out_channels: c.channelMult.map((m) => m * c.channels),
    layers_per_block: c.numResBlocks,
    down_block_types: c.channelMult.map((_, l) => (c.attnLevels.includes(l) ? "CrossAttnDownBlock2D" : "DownBlock2D")),
    up_block_types: c.channelMult.map((_, i) =>
      c.attnLevels.includes(levels - 1 - i) ? "CrossAttnUpBlock2D" : "UpBlock2D",
    ),
    norm_num_groups: c.groups,
    attention_head_dim: c.heads,
    cross_attention_dim: c.contextDim,
  };
}

export function vaeFromDiffusersConfig(json: Json): VAEConfig {
  const what = "vae";
  for (const t of field(json, "down_block_types", what, isStrings, []))
    if (t !== "DownEncoderBlock2D") throw new LoadError(`${what}: block type ${JSON.stringify(t)} is not supported`);
  try {
    return vaeConfig({
      inChannels: field(json, "in_channels", what, isInt),
      outChannels: field(json, "out_channels", what, isInt),
      latentChannels: field(json, "latent_channels", what, isInt),
      channels: field(json, "block_out_channels", what, isInts),
      layersPerBlock: field(json, "layers_per_block", what, isInt),
      groups: field(json, "norm_num_groups", what, isInt, 32),
    });
  } catch (e) {
    throw new LoadError(`${what}: ${(e as Error).message}`);
  }
}

export function vaeToDiffusersConfig(c: VAEConfig, scalingFactor = 0.18215): Json {
  return {
    _class_name: "AutoencoderKL",
    in_channels: c.inChannels,
    out_channels: c.outChannels,
    latent_channels: c.latentChannels,
    block_out_channels: [...c.channels],
    layers_per_block: c.layersPerBlock,
    norm_num_groups: c.groups,
    down_block_types: c.channels.map(() => "DownEncoderBlock2D"),
    up_block_types: c.channels.map(() => "UpDecoderBlock2D"),
    scaling_factor: scalingFactor,
  };
}

export function clipFromTransformersConfig(json: Json): CLIPTextConfig {
  const what = "text_encoder";
  const act = field(json, "hidden_act", what, isString, "quick_gelu");
  if (act !== "quick_gelu")
    throw new LoadError(`${what}: hidden_act ${JSON.stringify(act)} is not supported (CLIP ViT-L/14 uses quick_gelu)`);
  try {
    return clipTextConfig({
      vocabSize: field(json, "vocab_size", what, isInt),
      maxPositions: field(json, "max_position_embeddings", what, isInt),
      width: field(json, "hidden_size", what, isInt),
      layers: field(json, "num_hidden_layers", what, isInt),
      heads: field(json, "num_attention_heads", what, isInt),
      mlpWidth: field(json, "intermediate_size", what, isInt),
    });
  } catch (e) {
    throw new LoadError(`${what}: ${(e as Error).message}`);
  }
}

export function clipToTransformersConfig(c: CLIPTextConfig): Json {
  return {
    architectures: ["CLIPTextModel"],
    model_type: "clip_text_model",
    vocab_size: c.vocabSize,
    max_position_embeddings: c.maxPositions,
    hidden_size: c.width,
    num_hidden_layers: c.layers,
    num_attention_heads: c.heads,
    intermediate_size: c.mlpWidth,
    hidden_act: "quick_gelu",
  };
}

// =====================================================================================================
// The three networks from a folder's parsed files, and back

export interface DiffusersFiles {
  unet: { config: Json; tensors: Record<string, Tensor> };
  vae: { config: Json; tensors: Record<string, Tensor> };
  textEncoder: { config: Json; tensors: Record<string, Tensor> };
}

/** Build the U-Net, the autoencoder and the text encoder of a Stable Diffusion folder, every name and shape checked. */
/**
 * The three networks' configs from their config.json files, their module counts checked first: a shape-only
 * model is built from them before the shapes are compared, and a config claiming a million blocks would take
 * minutes to build even without weights (Stable Diffusion's: 2, 4, 2, 4, 12).
 */
export function diffusersConfigs(
  unet: Json,
  vae: Json,
  textEncoder: Json,
): { unetCfg: UNetConfig; vaeCfg: VAEConfig; clipCfg: CLIPTextConfig } {
  const unetCfg = unetFromDiffusersConfig(unet),
    vaeCfg = vaeFromDiffusersConfig(vae),
    clipCfg = clipFromTransformersConfig(textEncoder);
  const counts: [string, number, number][] = [
    ["unet: layers_per_block", unetCfg.numResBlocks, 64],
    ["unet: block_out_channels' levels", unetCfg.channelMult.length, 8],
    ["vae: layers_per_block", vaeCfg.layersPerBlock, 64],
    ["vae: block_out_channels' levels", vaeCfg.channels.length, 8],
    ["text_encoder: num_hidden_layers", clipCfg.layers, 1024],
  ];
  for (const [what, n, cap] of counts)
    if (n > cap) throw new LoadError(`diffusers: ${what} is ${n}, more than the ${cap} a folder may describe`);
  return { unetCfg, vaeCfg, clipCfg };
}

export function fromDiffusers(f: DiffusersFiles): {
  unet: UNet;
  vae: AutoencoderKL;
  textEncoder: CLIPTextModel;
  scalingFactor: number;
} {
  const build = <M extends Module>(
    make: () => M,
    tensors: Record<string, Tensor>,
    map: (n: string) => string,
    what: string,
  ): M => {
    // the shapes are checked on a shape-only model first, so a wrong folder allocates nothing
    checkCheckpointNames(meta(make), tensors, map, what);
    const m = make();
    loadCheckpointNames(m, tensors, map, what);
    return m.eval();
  };
  const g = new Generator(0);
  const { unetCfg, vaeCfg, clipCfg } = diffusersConfigs(f.unet.config, f.vae.config, f.textEncoder.config);
  const sf = f.vae.config.scaling_factor;
  return {
    unet: build(() => new UNet(unetCfg, { generator: g }), f.unet.tensors, unetToDiffusers, "unet"),
    vae: build(() => new AutoencoderKL(vaeCfg, { generator: g }), f.vae.tensors, vaeToDiffusers, "vae"),
    textEncoder: build(
      () => new CLIPTextModel(clipCfg, { generator: g }),
      f.textEncoder.tensors,
      clipToTransformers,
      "text_encoder",
    ),
    scalingFactor: typeof sf === "number" ? sf : 0.18215,
  };
}

/** The three networks as a folder's files (configs and tensors under the checkpoints' names). */
export function toDiffusers(m: {
  unet: UNet;
  vae: AutoencoderKL;
  textEncoder: CLIPTextModel;
  scalingFactor?: number;
}): DiffusersFiles {
  return {
    unet: { config: unetToDiffusersConfig(m.unet.config), tensors: toCheckpointNames(m.unet, unetToDiffusers) },
    vae: {
      config: vaeToDiffusersConfig(m.vae.config, m.scalingFactor),
      tensors: toCheckpointNames(m.vae, vaeToDiffusers),
    },
    textEncoder: {
      config: clipToTransformersConfig(m.textEncoder.config),
      tensors: toCheckpointNames(m.textEncoder, clipToTransformers),
    },
  };
}
