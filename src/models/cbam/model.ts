// CBAM-ResNet: the convolutional block attention module in the small ResNet — channels, then places.
//   Woo, Park, Lee, Kweon 2018, "CBAM: Convolutional Block Attention Module", ECCV,
//   https://arxiv.org/abs/1807.06521 (§3: eq. 1–3; fig. 3: CBAM integrated with a ResBlock)
//
// On a residual branch's output F (C maps), CBAM first re-weights the channels — like SE-Net's module
// (src/models/senet), but the shared MLP sees both the average- and the max-pooled summaries (eq. 2) —
// then re-weights the places: a 7×7 convolution of the channel-wise mean and max maps gives one gate in
// (0, 1) per pixel (eq. 3). F'' = M_s(F') ⊗ F' with F' = M_c(F) ⊗ F (eq. 1), before the shortcut is added.
// The network is the parent's (src/models/resnet/model.ts) with every basic block replaced by a CBAM block.
//
// Differences from the paper: the parent's small MNIST ResNet; reduction ratio 4 (the paper: 16); the
// spatial gate's 7×7 convolution has no bias and no BatchNorm after it (eq. 3 has neither; the authors'
// released code adds a BatchNorm).
//
// Read top to bottom: config → layers (channel gate, spatial gate) → block → model → describe → weight map.
//
// Vocabulary (shape comments): N batch, C channels of the block, H W the map's side, h = max(1, ⌊C/r⌋).

import { configOf } from "../presets.js";
import type { Generator } from "../../engine/rng.js";
import type { Tensor } from "../../engine/tensor.js";
import * as F from "../../nn/functional.js";
import { Module } from "../../nn/module.js";
import { BatchNorm2d, Conv2d, Linear } from "../../nn/index.js";
import { cat } from "../../ops/shape.js";
import { convFlops, linearFlops, sortedKinds, type Architecture } from "../architecture.js";
import * as resnet from "../resnet/model.js";
import { Projection, ResNet, stageSides, type ResNetConfig } from "../resnet/model.js";

// =====================================================================================================
// Config

export interface CBAMResNetConfig extends ResNetConfig {
  /** the reduction ratio r of the channel gate's shared MLP (C → ⌊C/r⌋ → C) */
  readonly reduction: number;
  /** the side of the spatial gate's convolution (the paper: 7) */
  readonly spatialKernel: number;
}

/** A checked, frozen config: `cbamResNetConfig("cbam-resnet")`. */
export function cbamResNetConfig(
  base: CBAMResNetConfig | keyof typeof PRESETS,
  overrides: Partial<CBAMResNetConfig> = {},
): CBAMResNetConfig {
  const c = configOf("CBAMResNetConfig", PRESETS, base, overrides, {
    positive: ["reduction", "spatialKernel"],
    also: (c) =>
      c.spatialKernel % 2 === 0 // DIFF(senet): the spatial attention's kernel
        ? `spatialKernel must be odd (a "same" convolution), got ${c.spatialKernel}`
        : undefined,
  });
  return Object.freeze({ ...resnet.resnetConfig(c), reduction: c.reduction, spatialKernel: c.spatialKernel });
}

export const PRESETS = Object.freeze({
  /** resnet-mnist-small (ResNet-8, widths 8, 16, 32) with CBAM (ratio 4, 7×7 spatial gate) in each block: 20,846 parameters */
  "cbam-resnet": Object.freeze({ ...resnet.PRESETS["resnet-mnist-small"], reduction: 4, spatialKernel: 7 }),
} satisfies Record<string, CBAMResNetConfig>);

/** The shared MLP's hidden width for C channels. */
export const hiddenOf = (channels: number, reduction: number): number => Math.max(1, Math.floor(channels / reduction));

/** Each block's output width and side, stage by stage. */
function blockShapes(c: ResNetConfig, imageSize: number): { C: number; side: number }[] {
  const sides = stageSides(c, imageSize);
  return c.widths.flatMap((w, s) => Array.from({ length: c.blocks[s]! }, () => ({ C: w, side: sides[s]! })));
}

/** The parent's, plus per block: the shared MLP W₀ (h, C), b₀ (h), W₁ (C, h), b₁ (C) and the k×k spatial filter (1, 2, k, k). */
export function countParameters(c: CBAMResNetConfig): number {
  const cbam = (C: number, h: number): number => h * C + h + C * h + C + 2 * c.spatialKernel * c.spatialKernel;
  return resnet.countParameters(c) + blockShapes(c, 1).reduce((n, { C }) => n + cbam(C, hiddenOf(C, c.reduction)), 0);
}

/** The parent's row with CBAM's layers and FLOPs added: the MLP on two pooled vectors and the 2 → 1 convolution per block. */
export function describe(c: CBAMResNetConfig, imageSize = 28): Architecture {
  const parent = resnet.describe(c, imageSize);
  const shapes = blockShapes(c, imageSize);
  const flops = shapes.reduce((n, { C, side }) => {
    const h = hiddenOf(C, c.reduction);
    return n + 2 * (linearFlops(C, h) + linearFlops(h, C)) + convFlops(2, 1, c.spatialKernel, side);
  }, 0);
  return {
    ...parent,
    title: `CBAM-${parent.title}`,
    config: `${parent.config}, reduction ${c.reduction}, spatial ${c.spatialKernel}×${c.spatialKernel}`,
    parameters: countParameters(c),
    layers: sortedKinds({
      ...parent.layers,
      [Linear.name]: 1 + 2 * shapes.length,
      [Conv2d.name]: parent.layers[Conv2d.name]! + shapes.length,
    }),
    attention: `channel (MLP of the average- and max-pooled maps), then spatial (${c.spatialKernel}×${c.spatialKernel} conv of the channel mean and max) sigmoid gates on every block`,
    activation: `${parent.activation}; sigmoid gates`,
    flops: { ...parent.flops, value: parent.flops.value + flops },
  };
}

// =====================================================================================================
// Layers

/** The channel attention module (eq. 2, fig. 2 top): M_c(F) = σ(MLP(AvgPool(F)) + MLP(MaxPool(F))), MLP shared. */
export class ChannelGate extends Module {
  fc1: Linear;
  fc2: Linear;

  constructor(channels: number, reduction: number, generator: Generator) {
    super();
    const h = hiddenOf(channels, reduction);
    this.fc1 = new Linear(channels, h, { generator });
    this.fc2 = new Linear(h, channels, { generator });
  }

  /** The gates M_c (N, C) of the maps f (N, C, H, W). */
  forward(f: Tensor): Tensor {
    const [N, C, H, W] = f.shape as [number, number, number, number];
    const avg = f.mean([2, 3]); //                               F^c_avg (N, C)
    const max = f.reshape([N, C, H * W]).max(2).values; //       F^c_max (N, C)
    // MLP(z) = W₁ δ(W₀ z), one MLP for both summaries: run it once on the two stacked
    const both = this.fc2.forward(F.relu(this.fc1.forward(cat([avg, max], 0)))); // (2N, C)
    // M_c(F) = σ(W₁(W₀(F^c_avg)) + W₁(W₀(F^c_max)))             (eq. 2)
    return F.sigmoid(both.narrow(0, 0, N).add(both.narrow(0, N, N))); //             (N, C)
  }
}

/** The spatial attention module (eq. 3, fig. 2 bottom): M_s(F) = σ(f^{k×k}([AvgPool_c(F); MaxPool_c(F)])). */
export class SpatialGate extends Module {
  conv: Conv2d;

  constructor(kernel: number, generator: Generator) {
    super();
    this.conv = new Conv2d(2, 1, kernel, { padding: (kernel - 1) / 2, bias: false, generator });
  }

  /** The gates M_s (N, 1, H, W) of the maps f (N, C, H, W). */
  forward(f: Tensor): Tensor {
    const avg = f.mean(1, true); //         F^s_avg (N, 1, H, W): the mean over channels at each place
    const max = f.max(1, true).values; //   F^s_max (N, 1, H, W)
    // M_s(F) = σ(f^{7×7}([F^s_avg; F^s_max]))                   (eq. 3)
    return F.sigmoid(this.conv.forward(cat([avg, max], 1))); // (N, 1, H, W)
  }
}

// =====================================================================================================
// Block

/** What a CBAM block computed: its output, and its two gates (for the pictures). */
export interface CBAMOutput {
  y: Tensor; //       (N, cout, H', W')
  channel: Tensor; // M_c (N, cout)
  spatial: Tensor; // M_s (N, 1, H', W')
}

/** The basic block with CBAM on its residual branch (fig. 3). */
export class CBAMBasicBlock extends Module {
  conv1: Conv2d;
  norm1: BatchNorm2d;
  conv2: Conv2d;
  norm2: BatchNorm2d;
  channelGate: ChannelGate; // DIFF(resnet): CBAM's two gates
  spatialGate: SpatialGate; // DIFF(resnet)
  shortcut: Projection | null;

  constructor(
    cin: number,
    cout: number,
    stride: number,
    reduction: number,
    spatialKernel: number,
    generator: Generator,
  ) {
    super();
    this.conv1 = new Conv2d(cin, cout, 3, { stride, padding: 1, bias: false, generator });
    this.norm1 = new BatchNorm2d(cout);
    this.conv2 = new Conv2d(cout, cout, 3, { padding: 1, bias: false, generator });
    this.norm2 = new BatchNorm2d(cout);
    this.channelGate = new ChannelGate(cout, reduction, generator); // DIFF(resnet)
    this.spatialGate = new SpatialGate(spatialKernel, generator); //  DIFF(resnet)
    this.shortcut = cin !== cout || stride !== 1 ? new Projection(cin, cout, stride, generator) : null;
  }

  forward(x: Tensor): Tensor {
    return this.run(x).y;
  }

  /** The forward pass, keeping the gates. */
  run(x: Tensor): CBAMOutput {
    const [N, C] = [x.shape[0]!, this.norm2.numFeatures];
    // F = BN(W₂ ∗ ReLU(BN(W₁ ∗ x)))
    const h = F.relu(this.norm1.forward(this.conv1.forward(x))); // (N, cout, H', W')
    const f = this.norm2.forward(this.conv2.forward(h)); //          (N, cout, H', W')
    // DIFF(resnet): F' = M_c(F) ⊗ F,  F'' = M_s(F') ⊗ F'          (eq. 1)
    const channel = this.channelGate.forward(f); //                   (N, cout)
    const f1 = f.mul(channel.reshape([N, C, 1, 1])); //               (N, cout, H', W')
    const spatial = this.spatialGate.forward(f1); //                  (N, 1, H', W')
    const f2 = f1.mul(spatial); //                                    (N, cout, H', W')
    // y = ReLU(F'' + shortcut(x))
    const s = this.shortcut ? this.shortcut.forward(x) : x; //        (N, cout, H', W')
    return { y: F.relu(f2.add(s)), channel, spatial };
  }
}

// =====================================================================================================
// Model

export class CBAMResNet extends ResNet {
  declare readonly config: CBAMResNetConfig;

  constructor(config: CBAMResNetConfig, opts: resnet.ResNetOptions = {}) {
    super(cbamResNetConfig(config), opts);
  }

  /** DIFF(resnet): every block is a CBAM block. */
  protected override block(cin: number, cout: number, stride: number, generator: Generator): CBAMBasicBlock {
    return new CBAMBasicBlock(cin, cout, stride, this.config.reduction, this.config.spatialKernel, generator);
  }

  /** The spatial gates M_s (N, 1, H_i, W_i) of every block for a batch, stage by stage. */
  spatialMaps(x: Tensor): Tensor[] {
    const maps: Tensor[] = [];
    let h = F.relu(this.stemNorm.forward(this.stem.forward(x))); // (N, w_1, S, S)
    for (const stage of this.stages) {
      for (const block of stage) {
        const r = (block as CBAMBasicBlock).run(h);
        maps.push(r.spatial);
        h = r.y;
      }
    }
    return maps;
  }
}

// Init: the parent's — He-normal for every convolution (the spatial gate's too), BN γ = 1, β = 0; the
// shared MLP keeps PyTorch's default U(±1/√fan_in).

// =====================================================================================================
// Weight map: the parent's names (src/models/resnet/model.ts), and CBAM's. No transposes.
//
// | ours                                    | the paper's symbol         | the authors' code (CBAM.py)       |
// |-----------------------------------------|----------------------------|-----------------------------------|
// | stages.{s}.{b}.channelGate.fc1.{w,b}    | W₀ (h, C), its bias        | cbam.ChannelGate.mlp.1            |
// | stages.{s}.{b}.channelGate.fc2.{w,b}    | W₁ (C, h), its bias        | cbam.ChannelGate.mlp.3            |
// | stages.{s}.{b}.spatialGate.conv.weight  | f^{7×7} (1, 2, 7, 7)       | cbam.SpatialGate.spatial.conv     |
//
// The authors' spatial input stacks [max; mean], ours [mean; max] as eq. 3 writes it: swap the two input
// channels of the spatial filter when loading their weights.
