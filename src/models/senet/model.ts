// SE-ResNet: squeeze-and-excitation blocks in the small ResNet — attention that re-weights channels.
//   Hu, Shen, Albanie, Sun, Wu 2018, "Squeeze-and-Excitation Networks", CVPR,
//   https://arxiv.org/abs/1709.01507 (§3: the SE block, eq. 2–4; fig. 3 right: the SE-ResNet module)
//
// A residual branch's output U = F(x) (C maps) is summarised per channel by global average pooling (the
// squeeze, eq. 2), a bottleneck of two fully connected layers turns that summary into one gate in (0, 1)
// per channel (the excitation, eq. 3), and each map is scaled by its gate (eq. 4) before the shortcut is
// added. The network is the parent's (src/models/resnet/model.ts) with every basic block replaced by an
// SE block; the stem, the stages, the pooling and the head are the parent's code, imported.
//
// Differences from the paper: the ResNet is the parent's small MNIST network, not ResNet-50; the reduction
// ratio r is 4 (the paper: 16, at 64 to 2,048 channels; 16 would leave 0 hidden units at 8 channels), and
// the hidden width is max(1, ⌊C/r⌋).
//
// Read top to bottom: config → layers (the SE module) → block → model → describe → weight map.
//
// Vocabulary (shape comments): N batch, C channels of the block, H W the map's side, h = max(1, ⌊C/r⌋).

import { configOf } from "../presets.js";
import type { Generator } from "../../engine/rng.js";
import type { Tensor } from "../../engine/tensor.js";
import * as F from "../../nn/functional.js";
import { Module } from "../../nn/module.js";
import { BatchNorm2d, Conv2d, Linear } from "../../nn/index.js";
import { linearFlops, sortedKinds, type Architecture } from "../architecture.js";
import * as resnet from "../resnet/model.js";
import { Projection, ResNet, stageSides, type ResNetConfig } from "../resnet/model.js";

// =====================================================================================================
// Config

export interface SEResNetConfig extends ResNetConfig {
  /** the reduction ratio r of the excitation's bottleneck (C → ⌊C/r⌋ → C) */
  readonly reduction: number;
}

/** A checked, frozen config: `seResNetConfig("se-resnet")`. */
export function seResNetConfig(
  base: SEResNetConfig | keyof typeof PRESETS,
  overrides: Partial<SEResNetConfig> = {},
): SEResNetConfig {
  const c = configOf("SEResNetConfig", PRESETS, base, overrides, { positive: ["reduction"] });
  return Object.freeze({ ...resnet.resnetConfig(c), reduction: c.reduction });
}

export const PRESETS = Object.freeze({
  /** resnet-mnist-small (ResNet-8, widths 8, 16, 32) with an SE module of ratio 4 in each block: 20,552 parameters */
  "se-resnet": Object.freeze({ ...resnet.PRESETS["resnet-mnist-small"], reduction: 4 }),
} satisfies Record<string, SEResNetConfig>);

/** The excitation's hidden width for C channels. */
export const hiddenOf = (channels: number, reduction: number): number => Math.max(1, Math.floor(channels / reduction));

/** Each block's output width, stage by stage (the width of its SE module). */
function blockWidths(c: ResNetConfig): number[] {
  return c.widths.flatMap((w, s) => Array.from({ length: c.blocks[s]! }, () => w));
}

/** The parent's parameters plus, per block of width C, the excitation's W₁ (h, C), b₁ (h), W₂ (C, h), b₂ (C). */
export function countParameters(c: SEResNetConfig): number {
  const se = (C: number, h: number): number => h * C + h + C * h + C;
  return resnet.countParameters(c) + blockWidths(c).reduce((n, C) => n + se(C, hiddenOf(C, c.reduction)), 0);
}

/** The parent's row, with the SE modules' Linear layers and FLOPs (two products on one pooled vector per block) added. */
export function describe(c: SEResNetConfig, imageSize = 28): Architecture {
  const parent = resnet.describe(c, imageSize);
  const widths = blockWidths(c);
  const flops = widths.reduce(
    (n, C) => n + linearFlops(C, hiddenOf(C, c.reduction)) + linearFlops(hiddenOf(C, c.reduction), C),
    0,
  );
  const sides = stageSides(c, imageSize);
  return {
    ...parent,
    title: `SE-${parent.title}`,
    config: `${parent.config}, reduction ${c.reduction}`,
    parameters: countParameters(c),
    layers: sortedKinds({ ...parent.layers, [Linear.name]: 1 + 2 * widths.length }),
    attention: `channel: squeeze-and-excitation gates σ(W₂ δ(W₁ GAP(U))) on every block's C maps (maps of ${sides.join("², ")}²)`,
    activation: `${parent.activation}; sigmoid gates`,
    flops: { ...parent.flops, value: parent.flops.value + flops },
  };
}

// =====================================================================================================
// Layers

/** The SE module (fig. 1): squeeze U to one number per channel, excite it into a gate per channel, scale U. */
export class SqueezeExcitation extends Module {
  fc1: Linear;
  fc2: Linear;

  constructor(channels: number, reduction: number, generator: Generator) {
    super();
    const h = hiddenOf(channels, reduction);
    this.fc1 = new Linear(channels, h, { generator });
    this.fc2 = new Linear(h, channels, { generator });
  }

  /** The gates s (N, C) for the maps u (N, C, H, W). */
  gates(u: Tensor): Tensor {
    // z_c = F_sq(u_c) = (1/(H·W)) Σ_{i,j} u_c(i, j)                           (eq. 2)
    const z = u.mean([2, 3]); //                                                 (N, C)
    // s = F_ex(z, W) = σ(W₂ δ(W₁ z)),  δ the ReLU, W₁ ∈ ℝ^{h×C}, W₂ ∈ ℝ^{C×h}   (eq. 3)
    return F.sigmoid(this.fc2.forward(F.relu(this.fc1.forward(z)))); //          (N, C)
  }

  forward(u: Tensor): Tensor {
    const [N, C] = u.shape as [number, number];
    const s = this.gates(u); //                     (N, C)
    // x̃_c = F_scale(u_c, s_c) = s_c · u_c                                      (eq. 4)
    return u.mul(s.reshape([N, C, 1, 1])); //        (N, C, H, W)
  }
}

// =====================================================================================================
// Block

/** The SE-ResNet module (fig. 3 right): the parent's basic block with the SE module on its residual branch. */
export class SEBasicBlock extends Module {
  conv1: Conv2d;
  norm1: BatchNorm2d;
  conv2: Conv2d;
  norm2: BatchNorm2d;
  se: SqueezeExcitation; // DIFF(resnet): the SE module
  shortcut: Projection | null;

  constructor(cin: number, cout: number, stride: number, reduction: number, generator: Generator) {
    super();
    this.conv1 = new Conv2d(cin, cout, 3, { stride, padding: 1, bias: false, generator });
    this.norm1 = new BatchNorm2d(cout);
    this.conv2 = new Conv2d(cout, cout, 3, { padding: 1, bias: false, generator });
    this.norm2 = new BatchNorm2d(cout);
    this.se = new SqueezeExcitation(cout, reduction, generator); // DIFF(resnet)
    this.shortcut = cin !== cout || stride !== 1 ? new Projection(cin, cout, stride, generator) : null;
  }

  forward(x: Tensor): Tensor {
    // U = F(x) = BN(W₂ ∗ ReLU(BN(W₁ ∗ x)))
    const h = F.relu(this.norm1.forward(this.conv1.forward(x))); // (N, cout, H', W')
    const u = this.norm2.forward(this.conv2.forward(h)); //          (N, cout, H', W')
    const f = this.se.forward(u); //                                 (N, cout, H', W')  DIFF(resnet): X̃ = s · U
    // y = ReLU(X̃ + shortcut(x))
    const s = this.shortcut ? this.shortcut.forward(x) : x; //        (N, cout, H', W')
    return F.relu(f.add(s)); //                                       (N, cout, H', W')
  }
}

// =====================================================================================================
// Model

export class SEResNet extends ResNet {
  declare readonly config: SEResNetConfig;

  constructor(config: SEResNetConfig, opts: resnet.ResNetOptions = {}) {
    super(seResNetConfig(config), opts);
  }

  /** DIFF(resnet): every block is an SE block. */
  protected override block(cin: number, cout: number, stride: number, generator: Generator): SEBasicBlock {
    return new SEBasicBlock(cin, cout, stride, this.config.reduction, generator);
  }

  /** The gates s (N, C) of every block for a batch, stage by stage (eval mode: the running statistics). */
  gates(x: Tensor): Tensor[] {
    const out: Tensor[] = [];
    let h = F.relu(this.stemNorm.forward(this.stem.forward(x))); // (N, w_1, S, S)
    for (const stage of this.stages) {
      for (const block of stage) {
        const b = block as SEBasicBlock;
        out.push(b.se.gates(b.norm2.forward(b.conv2.forward(F.relu(b.norm1.forward(b.conv1.forward(h))))))); // (N, w_i)
        h = b.forward(h);
      }
    }
    return out;
  }
}

// Init: the parent's (He-normal convs, BN γ = 1, β = 0); the SE module's Linear layers keep PyTorch's
// default U(±1/√fan_in).

// =====================================================================================================
// Weight map: the parent's names (src/models/resnet/model.ts; torchvision's through fromTorchvision), and
// the SE module's two layers. No transposes.
//
// | ours                          | the SE module as two Linear layers (Hu et al.'s fig. 3) |
// |-------------------------------|---------------------------------------------------------|
// | stages.{s}.{b}.se.fc1.weight  | W₁ (h, C)                                               |
// | stages.{s}.{b}.se.fc1.bias    | b₁ (h)                                                  |
// | stages.{s}.{b}.se.fc2.weight  | W₂ (C, h)                                               |
// | stages.{s}.{b}.se.fc2.bias    | b₂ (C)                                                  |
