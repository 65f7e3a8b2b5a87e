// ResNet: deep residual learning, in the small form the paper used for 32×32 images, sized for MNIST.
//   He, Zhang, Ren, Sun 2016, "Deep Residual Learning for Image Recognition", CVPR,
//   https://arxiv.org/abs/1512.03385 (§3: residual blocks and shortcuts; §4.2: the CIFAR-10 networks)
//   Ioffe & Szegedy 2015, "Batch Normalization", https://arxiv.org/abs/1502.03167 (after every conv)
//
// A block learns a residual F(x) and adds its input back: y = ReLU(F(x) + shortcut(x)), with
// F(x) = BN(conv3×3(ReLU(BN(conv3×3(x))))) (the "basic" block of fig. 2 / fig. 5 left). The shortcut is
// the identity when x and F(x) have one shape, else a 1×1 convolution of stride 2 with BN (option B of
// §3.3: "projection shortcuts are used for increasing dimensions").
//
// The network is §4.2's: a 3×3 stem conv, then 3 stages of n blocks on maps of 28², 14², 7² (CIFAR:
// 32², 16², 8²) with widths w, 2w, 4w (CIFAR: 16, 32, 64); the first block of stages 2 and 3 halves the
// map with stride 2; global average pooling; a Linear head. 6n + 2 weighted layers: n = 3 is ResNet-20.
// Differences from the paper's CIFAR networks: option B shortcuts (the paper's CIFAR nets use option A,
// zero-padded identity shortcuts with no parameters), 1 input channel, and narrower presets so that the
// reference backend trains one in minutes.
//
// Read top to bottom: config → layers (the shortcut) → block → model → init → weight map.
//
// Vocabulary (shape comments): N batch, C input channels, S image side, w_i stage i's width, K classes.

import { noGrad } from "../../engine/autograd.js";
import { ArgumentError, ShapeError } from "../../engine/errors.js";
import { configOf } from "../presets.js";
import { defaultGenerator, Generator } from "../../engine/rng.js";
import { fmt } from "../../engine/shape.js";
import type { Tensor } from "../../engine/tensor.js";
import * as F from "../../nn/functional.js";
import { Module, ModuleList } from "../../nn/module.js";
import { BatchNorm2d, Conv2d, Linear, Sequential, type UnaryModule } from "../../nn/index.js";
import { convFlops, linearFlops, sortedKinds, type Architecture } from "../architecture.js";
import { kaimingNormal_, ones_, zeros_ } from "../../nn/init.js";

// =====================================================================================================
// Config

export interface ResNetConfig {
  /** input channels (C): 1 for MNIST */
  readonly inChannels: number;
  /** the width of each stage (w_1, w_2, w_3); the stem has the first stage's width */
  readonly widths: readonly number[];
  /** basic blocks in each stage (n per stage; the paper: n, n, n) */
  readonly blocks: readonly number[];
  /** classes (K) */
  readonly numClasses: number;
}

/** A checked, frozen config: `resnetConfig("resnet-mnist-small")`. */
export function resnetConfig(
  base: ResNetConfig | keyof typeof PRESETS,
  overrides: Partial<ResNetConfig> = {},
): ResNetConfig {
  const list = (xs: readonly number[]): boolean =>
    Array.isArray(xs) && xs.length > 0 && xs.every((n) => Number.isInteger(n) && n >= 1);
  const c = configOf("ResNetConfig", PRESETS, base, overrides, {
    positive: ["inChannels", "numClasses"],
    also: (c) =>
      !list(c.widths)
        ? `widths must be a non-empty list of positive integers, got ${JSON.stringify(c.widths)}`
        : !list(c.blocks)
          ? `blocks must be a non-empty list of positive integers, got ${JSON.stringify(c.blocks)}`
          : c.widths.length !== c.blocks.length
            ? `widths ${JSON.stringify(c.widths)} and blocks ${JSON.stringify(c.blocks)} must have one entry per stage`
            : undefined,
  });
  return Object.freeze({ ...c, widths: Object.freeze([...c.widths]), blocks: Object.freeze([...c.blocks]) });
}

export const PRESETS = Object.freeze({
  /** ResNet-8 (n = 1) of widths 8, 16, 32: trains on the reference backend in minutes; 19,810 parameters */
  "resnet-mnist-small": Object.freeze({
    inChannels: 1,
    widths: Object.freeze([8, 16, 32]),
    blocks: Object.freeze([1, 1, 1]),
    numClasses: 10,
  }),
  /** ResNet-20 (n = 3) of the paper's CIFAR widths 16, 32, 64, with projection shortcuts: 272,186 parameters */
  "resnet20-mnist": Object.freeze({
    inChannels: 1,
    widths: Object.freeze([16, 32, 64]),
    blocks: Object.freeze([3, 3, 3]),
    numClasses: 10,
  }),
} satisfies Record<string, ResNetConfig>);

/** Stage i's first block downsamples (stride 2) in every stage but the first. */
const strideOf = (stage: number): number => (stage === 0 ? 1 : 2);

/** A block needs a projection shortcut when it changes the map's channels or size. */
const projects = (cin: number, cout: number, stride: number): boolean => cin !== cout || stride !== 1;

/**
 * The number of parameters of a config, counted from the equations (nothing allocated). BatchNorm
 * has 2 per channel (γ, β); its running statistics are buffers, not parameters. Convs have no bias
 * (the BN after them has β).
 */
export function countParameters(c: ResNetConfig): number {
  const conv = (cin: number, cout: number, k: number): number => cout * cin * k * k; // W (out, in, k, k)
  const bn = (ch: number): number => 2 * ch; //                                         γ (ch), β (ch)
  const block = (cin: number, cout: number, stride: number): number =>
    conv(cin, cout, 3) +
    bn(cout) +
    conv(cout, cout, 3) +
    bn(cout) +
    (projects(cin, cout, stride) ? conv(cin, cout, 1) + bn(cout) : 0);
  let n = conv(c.inChannels, c.widths[0]!, 3) + bn(c.widths[0]!); // stem
  let cin = c.widths[0]!;
  c.widths.forEach((w, s) => {
    for (let b = 0; b < c.blocks[s]!; b++) {
      n += block(cin, w, b === 0 ? strideOf(s) : 1);
      cin = w;
    }
  });
  return n + c.numClasses * (cin + 1); // head: W (K, w_last), b (K)
}

/**
 * The architecture in one row (src/models/architecture.ts), for square images of side `imageSize` (28 for
 * MNIST). FLOPs per image: every conv 2·in·k²·out·side² over its output map (a stride-2 conv of padding 1,
 * or a 1×1 projection of stride 2, maps S to ⌈S/2⌉), then the head; BN, ReLU, the residual adds and the
 * global average pool are not counted.
 */
export function describe(c: ResNetConfig, imageSize = 28): Architecture {
  let side = imageSize,
    cin = c.widths[0]!,
    convs = 1,
    projections = 0;
  let flops = convFlops(c.inChannels, cin, 3, side); // the stem
  c.widths.forEach((w, s) => {
    for (let b = 0; b < c.blocks[s]!; b++) {
      const stride = b === 0 ? strideOf(s) : 1;
      side = Math.floor((side - 1) / stride) + 1; // (S + 2·1 − 3)/stride + 1, and the 1×1 projection's (S − 1)/stride + 1
      flops += convFlops(cin, w, 3, side) + convFlops(w, w, 3, side);
      convs += 2;
      if (projects(cin, w, stride)) {
        flops += convFlops(cin, w, 1, side);
        projections++;
      }
      cin = w;
    }
  });
  const depth = 2 * c.blocks.reduce((a, b) => a + b, 0) + 2; // the weighted layers on the main path (6n + 2)
  return {
    title: `ResNet-${depth}`,
    config: `widths ${c.widths.join("-")}, blocks ${c.blocks.join("-")}, ${c.inChannels} channel${c.inChannels === 1 ? "" : "s"} in, ${c.numClasses} classes`,
    parameters: countParameters(c),
    layers: sortedKinds({
      [Conv2d.name]: convs + projections,
      [BatchNorm2d.name]: convs + projections,
      [Linear.name]: 1,
    }),
    normalization: `${BatchNorm2d.name} after every convolution (batch statistics in training, running averages in eval)`,
    positions: "none: 3×3 convolutions (translation-equivariant), then global average pooling (invariant)",
    attention: "none",
    activation:
      "ReLU; identity shortcuts (1×1 projections where the shape changes) added before the last ReLU of a block",
    flops: { value: flops + linearFlops(cin, c.numClasses), per: "image", at: `${imageSize}×${imageSize}` },
  };
}

/** The side of each stage's output map for square images of side `imageSize` (28 → 28, 14, 7): what the variants' attention sees. */
export function stageSides(c: ResNetConfig, imageSize = 28): number[] {
  let side = imageSize;
  return c.widths.map((_, s) => (side = Math.floor((side - 1) / strideOf(s)) + 1));
}

// =====================================================================================================
// Layers

/** Option B's projection shortcut: W_s·x as a 1×1 convolution of the block's stride, then BN (§3.3, eq. 2). */
export class Projection extends Module {
  conv: Conv2d;
  norm: BatchNorm2d;

  constructor(cin: number, cout: number, stride: number, generator: Generator) {
    super();
    this.conv = new Conv2d(cin, cout, 1, { stride, bias: false, generator });
    this.norm = new BatchNorm2d(cout);
  }

  forward(x: Tensor): Tensor {
    return this.norm.forward(this.conv.forward(x)); // (N, cout, H/stride, W/stride)
  }
}

// =====================================================================================================
// Block

/** The basic residual block (fig. 2): two 3×3 convs, each followed by BN, and the shortcut added before the last ReLU. */
export class BasicBlock extends Module {
  conv1: Conv2d;
  norm1: BatchNorm2d;
  conv2: Conv2d;
  norm2: BatchNorm2d;
  shortcut: Projection | null;

  constructor(cin: number, cout: number, stride: number, generator: Generator) {
    super();
    this.conv1 = new Conv2d(cin, cout, 3, { stride, padding: 1, bias: false, generator });
    this.norm1 = new BatchNorm2d(cout);
    this.conv2 = new Conv2d(cout, cout, 3, { padding: 1, bias: false, generator });
    this.norm2 = new BatchNorm2d(cout);
    this.shortcut = projects(cin, cout, stride) ? new Projection(cin, cout, stride, generator) : null;
  }

  forward(x: Tensor): Tensor {
    // F(x) = BN(W₂ ∗ ReLU(BN(W₁ ∗ x)))     (W₁ of stride 1 or 2)
    const h = F.relu(this.norm1.forward(this.conv1.forward(x))); // (N, cout, H', W')
    const f = this.norm2.forward(this.conv2.forward(h)); //          (N, cout, H', W')
    // y = ReLU(F(x) + x)  or, when the shape changes, y = ReLU(F(x) + W_s x)   (eq. 1, eq. 2)
    const s = this.shortcut ? this.shortcut.forward(x) : x; //        (N, cout, H', W')
    return F.relu(f.add(s)); //                                       (N, cout, H', W')
  }
}

// =====================================================================================================
// Model

export interface ResNetOptions {
  /** the source of the initial weights (default: the library's default generator, seeded by manualSeed) */
  generator?: Generator;
}

/** The outputs of the stem and of each stage for one batch: what the pictures of the feature maps show. */
export interface ResNetActivations {
  stem: Tensor; // (N, w_1, S, S)
  stages: Tensor[]; // (N, w_i, S/2^i, S/2^i) rounded up
  pooled: Tensor; // (N, w_last)
  logits: Tensor; // (N, K)
}

export class ResNet extends Module {
  readonly config: ResNetConfig;
  stem: Conv2d;
  stemNorm: BatchNorm2d;
  stages: ModuleList<Sequential>;
  head: Linear;

  constructor(config: ResNetConfig, opts: ResNetOptions = {}) {
    super();
    const c = (this.config = resnetConfig(config));
    const generator = opts.generator ?? defaultGenerator;
    this.stem = new Conv2d(c.inChannels, c.widths[0]!, 3, { padding: 1, bias: false, generator });
    this.stemNorm = new BatchNorm2d(c.widths[0]!);
    let cin = c.widths[0]!;
    this.stages = new ModuleList(
      c.widths.map((w, s) => {
        const blocks = Array.from({ length: c.blocks[s]! }, (_, b) =>
          this.block(b === 0 ? cin : w, w, b === 0 ? strideOf(s) : 1, generator),
        );
        cin = w;
        return new Sequential(...blocks, ...this.afterStage(s, w, generator));
      }),
    );
    this.head = new Linear(cin, c.numClasses, { generator });
    this.initWeights(generator);
  }

  /**
   * One residual block of a stage: the basic block here. The variants that change the block (SE-Net,
   * CBAM: src/models/senet, src/models/cbam) override this; the constructor calls it before their own
   * fields exist, so it may read only its arguments and `this.config`.
   */
  protected block(cin: number, cout: number, stride: number, generator: Generator): UnaryModule {
    return new BasicBlock(cin, cout, stride, generator);
  }

  /** Modules appended to stage s after its blocks: none here; the non-local network (src/models/non-local) adds its block. */
  protected afterStage(_stage: number, _width: number, _generator: Generator): UnaryModule[] {
    return [];
  }

  /** x (N, C, S, S) → logits (N, K). */
  forward(x: Tensor): Tensor {
    return this.activations(x).logits;
  }

  /** The forward pass, keeping the stem's and every stage's output. */
  activations(x: Tensor): ResNetActivations {
    if (x.ndim !== 4 || x.shape[1] !== this.config.inChannels) {
      throw new ShapeError(`ResNet: expected images (N, ${this.config.inChannels}, H, W), got ${fmt(x.shape)}`);
    }
    const stem = F.relu(this.stemNorm.forward(this.stem.forward(x))); // (N, w_1, S, S)
    const stages: Tensor[] = [];
    let h = stem;
    for (const stage of this.stages) stages.push((h = stage.forward(h))); // (N, w_i, S_i, S_i)
    // global average pooling: p_c = (1/HW)·Σ_{i,j} h_{c,i,j}
    const pooled = h.mean([2, 3]); //           (N, w_last)
    const logits = this.head.forward(pooled); // (N, K)
    return { stem, stages, pooled, logits };
  }

  // ===================================================================================================
  // Init

  /**
   * He et al. 2015 ("Delving Deep into Rectifiers", https://arxiv.org/abs/1502.01852), as the paper's §3.4
   * cites and torchvision's ResNet does: conv weights N(0, 2/fan_out) with fan_out = out·k·k; BN γ = 1,
   * β = 0; the head keeps PyTorch's Linear default U(±1/√fan_in).
   */
  private initWeights(generator: Generator): void {
    noGrad(() => {
      for (const [, m] of this.namedModules()) {
        if (m instanceof Conv2d) kaimingNormal_(m.weight, { mode: "fan_out", nonlinearity: "relu", generator });
        else if (m instanceof BatchNorm2d) {
          ones_(m.weight!);
          zeros_(m.bias!);
        }
      }
    });
  }
}

// =====================================================================================================
// Weight map: our names ↔ torchvision's ResNet (torchvision/models/resnet.py), whose BasicBlock and
// names the PyTorch reference tools/fixtures/resnet.py follows. No transposes: every tensor has one layout.
//
// | ours                                  | torchvision                        |
// |---------------------------------------|------------------------------------|
// | stem.weight                           | conv1.weight                       |
// | stemNorm.{weight,bias,runningMean,…}  | bn1.{weight,bias,running_mean,…}   |
// | stages.{s}.{b}.conv1.weight           | layer{s+1}.{b}.conv1.weight        |
// | stages.{s}.{b}.norm1.*                | layer{s+1}.{b}.bn1.*               |
// | stages.{s}.{b}.conv2.weight           | layer{s+1}.{b}.conv2.weight        |
// | stages.{s}.{b}.norm2.*                | layer{s+1}.{b}.bn2.*               |
// | stages.{s}.{b}.shortcut.conv.weight   | layer{s+1}.{b}.downsample.0.weight |
// | stages.{s}.{b}.shortcut.norm.*        | layer{s+1}.{b}.downsample.1.*      |
// | head.weight / head.bias               | fc.weight / fc.bias                |
//
// BN's buffers keep PyTorch's names in camelCase (running_mean ↔ runningMean, num_batches_tracked ↔
// numBatchesTracked). torchvision's ImageNet ResNets have a 7×7 stem, a max-pool and 4 stages; a network
// of this file's shape written with torchvision's BasicBlock (3×3 stem, no max-pool) loads through this map.

/** [ours, torchvision]: {s} a stage (torchvision counts them from 1), {b} a block, * a BN tensor's name. */
const WEIGHT_MAP: readonly (readonly [string, string])[] = [
  ["stem.weight", "conv1.weight"],
  ["stemNorm.*", "bn1.*"],
  ["stages.{s}.{b}.conv1.weight", "layer{s+1}.{b}.conv1.weight"],
  ["stages.{s}.{b}.norm1.*", "layer{s+1}.{b}.bn1.*"],
  ["stages.{s}.{b}.conv2.weight", "layer{s+1}.{b}.conv2.weight"],
  ["stages.{s}.{b}.norm2.*", "layer{s+1}.{b}.bn2.*"],
  ["stages.{s}.{b}.shortcut.conv.weight", "layer{s+1}.{b}.downsample.0.weight"],
  ["stages.{s}.{b}.shortcut.norm.*", "layer{s+1}.{b}.downsample.1.*"],
  ["head.weight", "fc.weight"],
  ["head.bias", "fc.bias"],
];

/** A name template as a regex: "layer{s+1}.{b}.bn1.*" → /^layer(?<s1>\d+)\.(?<b>\d+)\.bn1\.(?<rest>\w+)$/ */
function pattern(template: string): RegExp {
  const re = template
    .replace(/\./g, "\\.")
    .replace("{s}", "(?<s>\\d+)")
    .replace("{s+1}", "(?<s1>\\d+)")
    .replace("{b}", "(?<b>\\d+)")
    .replace("*", "(?<rest>\\w+)");
  return new RegExp(`^${re}$`);
}

/** One name through the table: side 0 (ours) → 1 (torchvision) or back; `rest` converts a BN tensor's name. */
function rename(name: string, from: 0 | 1, rest: (s: string) => string, fn: string): string {
  for (const entry of WEIGHT_MAP) {
    const m = pattern(entry[from]).exec(name);
    if (!m) continue;
    const g = m.groups ?? {};
    const stage = g.s !== undefined ? +g.s : g.s1 !== undefined ? +g.s1 - 1 : 0;
    return entry[1 - from]!.replace("{s}", String(stage))
      .replace("{s+1}", String(stage + 1))
      .replace("{b}", g.b ?? "")
      .replace("*", rest(g.rest ?? ""));
  }
  throw new ArgumentError(`${fn}: unexpected key ${name}`);
}

const camel = (s: string): string => s.replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase()); // running_mean → runningMean
const snake = (s: string): string => s.replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`); //         runningMean → running_mean

/** A torchvision-named state dict → ours, ready for `model.loadStateDict`. */
export function fromTorchvision(state: Record<string, Tensor>): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(state).map(([k, t]) => [rename(k, 1, camel, "fromTorchvision"), t]));
}

/** Our state dict → torchvision's names. */
export function toTorchvision(state: Record<string, Tensor>): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(state).map(([k, t]) => [rename(k, 0, snake, "toTorchvision"), t]));
}
