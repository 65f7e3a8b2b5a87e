// Every model's describe() against the model it describes, built on a tiny config: parameters, layer kinds,
// normalisation and FLOPs (counted by wrapping the kernels, test/harness/flops.ts) come from the code, not
// from what describe() says. And one FLOP count by hand.

import { strict as assert } from "node:assert";
import { test } from "node:test";
import { Generator, noGrad, randint, tensor, type Tensor } from "../index.js";
import type { Module } from "../nn/module.js";
import { countFlops } from "../../test/harness/flops.js";
import { layerKinds, type Architecture } from "./architecture.js";
import { ZOO } from "./zoo.js";
import * as gpt2 from "./gpt2/model.js";
import * as bengio from "./bengio-mlp/model.js";
import * as charRnn from "./char-rnn/model.js";
import * as mlp from "./mlp/model.js";
import * as lenet5 from "./lenet5/model.js";
import * as resnet from "./resnet/model.js";
import * as senet from "./senet/model.js";
import * as cbam from "./cbam/model.js";
import * as nonLocal from "./non-local/model.js";
import * as vit from "./vit/model.js";
import * as gcn from "./gcn/model.js";
import * as gat from "./gat/model.js";
import * as seq2seq from "./seq2seq-attention/model.js";
import * as transformer from "./transformer/model.js";
import * as convs2s from "./convs2s/model.js";
import * as llama from "./llama/model.js";
import * as mixtral from "./mixtral/model.js";
import * as switchGpt from "./switch/model.js";
import * as bloom from "./bloom/model.js";
import * as falcon from "./falcon/model.js";
import * as bert from "./bert/model.js";
import * as roberta from "./roberta/model.js";
import * as deberta from "./deberta/model.js";
import * as t5 from "./t5/model.js";
import * as bart from "./bart/model.js";
import * as unet from "./ddpm/unet.js";
import * as vae from "./latent-diffusion/vae.js";
import * as clip from "./latent-diffusion/clip-text.js";
import * as tacotron2 from "./tacotron2/model.js";
import * as fastspeech2 from "./fastspeech2/model.js";
import * as hifigan from "./hifigan/model.js";

/** A tiny model, what its describe() says, and one forward pass over `units` units (tokens, images, nodes). */
interface Case {
  name: string;
  arch: Architecture;
  model: Module;
  forward: () => unknown;
  units: number;
}

const g = () => new Generator(0);
const ids = (B: number, T: number, V: number, low = 0): Tensor =>
  randint(low, V, [B, T], { dtype: "int32", generator: g() });
const images = (N: number, C: number, S: number): Tensor =>
  tensor(
    Float32Array.from({ length: N * C * S * S }, (_, i) => ((i * 37) % 11) / 11),
    { shape: [N, C, S, S] },
  );

/** A symmetric 0/1 graph of n nodes without self-loops (a ring plus a few chords), and features (n, F). */
function graph(n: number, F: number): { x: Tensor; adj: Tensor } {
  const a = new Float32Array(n * n);
  const edge = (i: number, j: number): void => void (a[i * n + j] = a[j * n + i] = 1);
  for (let i = 0; i < n; i++) edge(i, (i + 1) % n);
  edge(0, 3);
  edge(1, 4);
  return {
    x: tensor(
      Float32Array.from({ length: n * F }, (_, i) => Math.sin(i)),
      { shape: [n, F] },
    ),
    adj: tensor(a, { shape: [n, n] }),
  };
}

function cases(): Case[] {
  const out: Case[] = [];
  {
    const c = gpt2.gptConfig({ vocabSize: 7, blockSize: 6, nLayer: 2, nHead: 2, nEmbd: 8, dropout: 0, bias: true });
    const m = new gpt2.GPT(c, { generator: g() });
    out.push({ name: "gpt2", arch: gpt2.describe(c), model: m, forward: () => m.forward(ids(1, 6, 7)), units: 6 });
  }
  for (const direct of [false, true]) {
    const c = bengio.bengioConfig({ vocabSize: 7, context: 3, nEmbd: 4, nHidden: 5, direct });
    const m = new bengio.BengioMLP(c, { generator: g() });
    out.push({
      name: `bengio-mlp${direct ? " (direct)" : ""}`,
      arch: bengio.describe(c),
      model: m,
      forward: () => m.forward(ids(2, 5, 7)),
      units: 10,
    });
  }
  for (const cell of ["rnn", "lstm", "gru"] as const) {
    const c = charRnn.charRnnConfig({ vocabSize: 7, cell, nEmbd: 4, nHidden: 5, nLayer: 2, dropout: 0 });
    const m = new charRnn.CharRNN(c, { generator: g() });
    out.push({
      name: `char-rnn (${cell})`,
      arch: charRnn.describe(c),
      model: m,
      forward: () => m.forward(ids(2, 5, 7)),
      units: 10,
    });
  }
  {
    const c: mlp.MLPConfig = { inputs: 12, hidden: [6, 5], classes: 3, dropout: 0 };
    const m = new mlp.MLP(c, { generator: g() });
    out.push({
      name: "mlp",
      arch: mlp.describe(c),
      model: m,
      forward: () =>
        m.forward(
          tensor(
            Float32Array.from({ length: 24 }, (_, i) => i / 24),
            { shape: [2, 12] },
          ),
        ),
      units: 2,
    });
  }
  {
    const c = lenet5.lenetConfig({
      inChannels: 2,
      imageSize: 28,
      padding: 2,
      c1: 2,
      c3: 3,
      c5: 4,
      f6: 5,
      numClasses: 3,
    });
    const m = new lenet5.LeNet5(c, { generator: g() });
    out.push({
      name: "lenet5",
      arch: lenet5.describe(c),
      model: m,
      forward: () => m.forward(images(2, 2, 28)),
      units: 2,
    });
  }
  {
    // an odd side (9 → 5 → 3) checks the ⌈S/2⌉ of the stride-2 convs; two blocks in stage 1 check the identity shortcut
    const c = resnet.resnetConfig({ inChannels: 1, widths: [2, 3, 3], blocks: [2, 1, 1], numClasses: 3 });
    const m = new resnet.ResNet(c, { generator: g() });
    out.push({
      name: "resnet",
      arch: resnet.describe(c, 9),
      model: m,
      forward: () => m.forward(images(2, 1, 9)),
      units: 2,
    });
  }
  // the ResNet's attention variants on the same odd side (9 → 5 → 3); the non-local blocks after stages 1 and 2
  {
    const base = { inChannels: 1, widths: [2, 3, 4], blocks: [2, 1, 1], numClasses: 3 };
    const se = senet.seResNetConfig({ ...base, reduction: 2 });
    const sm = new senet.SEResNet(se, { generator: g() });
    out.push({
      name: "senet",
      arch: senet.describe(se, 9),
      model: sm,
      forward: () => sm.forward(images(2, 1, 9)),
      units: 2,
    });
    const cb = cbam.cbamResNetConfig({ ...base, reduction: 2, spatialKernel: 3 });
    const cm = new cbam.CBAMResNet(cb, { generator: g() });
    out.push({
      name: "cbam",
      arch: cbam.describe(cb, 9),
      model: cm,
      forward: () => cm.forward(images(2, 1, 9)),
      units: 2,
    });
    const nl = nonLocal.nonLocalResNetConfig({ ...base, reduction: 2, nonLocal: [0, 1] });
    const nm = new nonLocal.NonLocalResNet(nl, { generator: g() });
    out.push({
      name: "non-local",
      arch: nonLocal.describe(nl, 9),
      model: nm,
      forward: () => nm.forward(images(2, 1, 9)),
      units: 2,
    });
  }
  {
    const c = vit.vitConfig({
      imageSize: 12,
      patchSize: 4,
      inChannels: 2,
      dim: 8,
      depth: 2,
      heads: 2,
      mlpDim: 12,
      numClasses: 3,
    });
    const m = new vit.ViT(c, { generator: g() });
    out.push({ name: "vit", arch: vit.describe(c), model: m, forward: () => m.forward(images(2, 2, 12)), units: 2 });
  }
  for (const bias of [true, false]) {
    const c = gcn.gcnConfig({ inFeatures: 5, hidden: 4, numClasses: 3, nLayer: 3, dropout: 0, bias });
    const m = new gcn.GCN(c, { generator: g() });
    const { x, adj } = graph(6, 5);
    out.push({
      name: `gcn${bias ? "" : " (no bias)"}`,
      arch: gcn.describe(c, 6),
      model: m,
      forward: () => m.forward(x, adj),
      units: 6,
    });
  }
  {
    const c = gat.gatConfig({
      inFeatures: 5,
      hidden: 3,
      heads: 2,
      numClasses: 3,
      outHeads: 2,
      nLayer: 3,
      dropout: 0,
      attnDropout: 0,
      negativeSlope: 0.2,
      bias: true,
    });
    const m = new gat.GAT(c, { generator: g() });
    const { x, adj } = graph(6, 5);
    out.push({ name: "gat", arch: gat.describe(c, 6), model: m, forward: () => m.forward(x, adj), units: 6 });
  }
  for (const attention of seq2seq.ATTENTION_KINDS) {
    const c = seq2seq.seq2seqConfig("tiny", { attention });
    const m = new seq2seq.Seq2Seq(c, { generator: g() });
    // one example of 7 source tokens (no padding: ids ≥ 3) and 5 target steps
    out.push({
      name: `seq2seq-attention (${attention})`,
      arch: seq2seq.describe(c, 7, 5),
      model: m,
      forward: () => m.forward(ids(1, 7, c.srcVocab, 3), ids(1, 5, c.tgtVocab, 1)),
      units: 1,
    });
  }
  {
    const c = convs2s.convS2SConfig("tiny");
    const m = new convs2s.ConvS2S(c, { generator: g() });
    out.push({
      name: "convs2s",
      arch: convs2s.describe(c, 7, 5),
      model: m,
      forward: () => m.forward(ids(1, 7, c.srcVocab, 3), ids(1, 5, c.tgtVocab, 1)),
      units: 1,
    });
  }
  for (const attnBias of [false, true]) {
    const c = transformer.transformerConfig("tiny", {
      vocabSize: 9,
      maxLen: 10,
      nEncoderLayer: 2,
      nDecoderLayer: 1,
      nHead: 2,
      dModel: 8,
      dFF: 12,
      dropout: 0,
      attnBias,
    });
    const m = new transformer.Transformer(c, { generator: g() });
    out.push({
      name: `transformer${attnBias ? " (biases)" : ""}`,
      arch: transformer.describe(c, 7, 5),
      model: m,
      forward: () => m.forward(ids(1, 7, 9, 1), ids(1, 5, 9, 1)),
      units: 1,
    });
  }
  // the decoder-only siblings of GPT-2, at their full context (6 tokens)
  for (const nKvHeads of [2, 1]) {
    const c = llama.llamaConfig("tiny", {
      vocabSize: 7,
      blockSize: 6,
      nLayer: 2,
      nHead: 2,
      nKvHeads,
      nEmbd: 8,
      multipleOf: 4,
    });
    const m = new llama.Llama(c, { generator: g() });
    out.push({
      name: `llama${nKvHeads === 1 ? " (multi-query)" : ""}`,
      arch: llama.describe(c),
      model: m,
      forward: () => m.forward(ids(1, 6, 7)),
      units: 6,
    });
  }
  {
    // every token runs exactly k experts (no capacity limit): the FLOPs are those of the formula
    const c = mixtral.mixtralConfig("tiny", {
      vocabSize: 7,
      blockSize: 6,
      nLayer: 2,
      nHead: 2,
      nKvHeads: 1,
      nEmbd: 8,
      intermediateSize: 6,
      nExperts: 4,
      topK: 2,
    });
    const m = new mixtral.Mixtral(c, { generator: g() });
    out.push({
      name: "mixtral",
      arch: mixtral.describe(c),
      model: m,
      forward: () => m.forward(ids(1, 6, 7)),
      units: 6,
    });
  }
  for (const topK of [1, 2]) {
    const c = switchGpt.switchConfig("tiny", {
      vocabSize: 7,
      blockSize: 6,
      nLayer: 2,
      nHead: 2,
      nEmbd: 8,
      nExperts: 4,
      topK,
      expertHidden: 12,
      capacityFactor: null,
    });
    const m = new switchGpt.SwitchGPT(c, { generator: g() });
    out.push({
      name: `switch (top-${topK})`,
      arch: switchGpt.describe(c),
      model: m,
      forward: () => m.forward(ids(1, 6, 7)),
      units: 6,
    });
  }
  {
    const c = bloom.bloomConfig("tiny", { vocabSize: 7, blockSize: 6, nLayer: 2, nHead: 2, nEmbd: 8 });
    const m = new bloom.Bloom(c, { generator: g() });
    out.push({ name: "bloom", arch: bloom.describe(c), model: m, forward: () => m.forward(ids(1, 6, 7)), units: 6 });
  }
  {
    const c = falcon.falconConfig("tiny", { vocabSize: 7, blockSize: 6, nLayer: 2, nHead: 2, nEmbd: 8 });
    const m = new falcon.Falcon(c, { generator: g() });
    out.push({ name: "falcon", arch: falcon.describe(c), model: m, forward: () => m.forward(ids(1, 6, 7)), units: 6 });
  }
  // the encoders, on one sequence of 8 tokens (the pooler's 2C² = 512 FLOPs shared by 8 tokens: 64 each)
  {
    const c = bert.bertConfig("tiny", {
      vocabSize: 11,
      maxPositions: 10,
      nLayer: 2,
      nHead: 2,
      dModel: 16,
      dFF: 24,
      dropout: 0,
    });
    const m = new bert.BertModel(c, { generator: g() });
    out.push({
      name: "bert",
      arch: bert.describe(c, 8),
      model: m,
      forward: () => m.forward(ids(1, 8, 11, 1)),
      units: 8,
    });
  }
  {
    const c = roberta.robertaConfig("tiny", {
      vocabSize: 11,
      maxPositions: 12,
      nLayer: 2,
      nHead: 2,
      dModel: 16,
      dFF: 24,
      dropout: 0,
    });
    const m = new roberta.RobertaModel(c, { generator: g() });
    out.push({
      name: "roberta",
      arch: roberta.describe(c, 8),
      model: m,
      forward: () => m.forward(ids(1, 8, 11, 2)),
      units: 8,
    });
  }
  for (const typeVocabSize of [0, 2]) {
    // R = 2k = 8 relative rows: the projections of the table, 2·2·8·16² per layer, shared by 8 tokens
    const c = deberta.debertaConfig("tiny", {
      vocabSize: 11,
      typeVocabSize,
      nLayer: 2,
      nHead: 2,
      dModel: 16,
      dFF: 24,
      positionBuckets: 4,
      maxRelativePositions: 16,
      dropout: 0,
    });
    const m = new deberta.DebertaModel(c, { generator: g() });
    out.push({
      name: `deberta${typeVocabSize ? " (segments)" : ""}`,
      arch: deberta.describe(c, 8),
      model: m,
      forward: () => m.forward(ids(1, 8, 11, 1)),
      units: 8,
    });
  }
  // the encoder-decoders, one example of 7 source and 5 target tokens
  for (const v of ["relu", "gated-gelu"] as const) {
    const c = t5.t5Config("tiny", {
      vocabSize: 9,
      nEncoderLayer: 2,
      nDecoderLayer: 1,
      nHead: 2,
      dModel: 8,
      dKv: 3,
      dFF: 12,
      dropout: 0,
      feedForward: v,
      tieHead: v === "relu",
    });
    const m = new t5.T5(c, { generator: g() });
    out.push({
      name: `t5 (${v})`,
      arch: t5.describe(c, 7, 5),
      model: m,
      forward: () => m.forward(ids(1, 7, 9, 2), ids(1, 5, 9, 2)),
      units: 1,
    });
  }
  {
    const c = bart.bartConfig("tiny", {
      vocabSize: 9,
      maxPositions: 10,
      nEncoderLayer: 2,
      nDecoderLayer: 1,
      nHead: 2,
      dModel: 8,
      dFF: 12,
      dropout: 0,
    });
    const m = new bart.Bart(c, { generator: g() });
    out.push({
      name: "bart",
      arch: bart.describe(c, 7, 5),
      model: m,
      forward: () => m.forward(ids(1, 7, 9, 3), ids(1, 5, 9, 3)),
      units: 1,
    });
  }
  {
    // odd sizes (9 → 5 → 3): the stride-2 convs' ⌈H/2⌉ and the upsampling back to each skip's size
    const c = unet.unetConfig({
      inChannels: 1,
      outChannels: 1,
      channels: 4,
      channelMult: [1, 2, 2],
      numResBlocks: 1,
      attnLevels: [1],
      groups: 2,
      heads: 2,
      numClasses: 3,
      contextDim: 0,
      dropout: 0,
    });
    const m = new unet.UNet(c, { generator: g() });
    out.push({
      name: "ddpm",
      arch: unet.describe(c, 9, "U-Net"),
      model: m,
      forward: () => m.forward(images(2, 1, 9), [3, 700], tensor([0, 3], { dtype: "int32" })),
      units: 2,
    });
  }
  {
    const c = unet.unetConfig({
      inChannels: 2,
      outChannels: 2,
      channels: 4,
      channelMult: [1, 2],
      numResBlocks: 2,
      attnLevels: [0, 1],
      groups: 2,
      heads: 2,
      numClasses: 0,
      contextDim: 6,
      dropout: 0,
    });
    const m = new unet.UNet(c, { generator: g() });
    const context = tensor(
      Float32Array.from({ length: 2 * 5 * 6 }, (_, i) => Math.cos(i)),
      { shape: [2, 5, 6] },
    );
    out.push({
      name: "latent-diffusion (unet)",
      arch: unet.describe(c, 6, "latent U-Net", 5),
      model: m,
      forward: () => m.forward(images(2, 2, 6), [10, 20], null, context),
      units: 2,
    });
  }
  {
    const c = vae.vaeConfig({
      inChannels: 1,
      outChannels: 1,
      latentChannels: 2,
      channels: [2, 4, 4],
      layersPerBlock: 1,
      groups: 2,
    });
    const m = new vae.AutoencoderKL(c, { generator: g() });
    out.push({
      name: "latent-diffusion (vae)",
      arch: vae.describe(c, 12, "autoencoder"),
      model: m,
      forward: () => m.decode(m.encode(images(2, 1, 12)).mean),
      units: 2,
    });
  }
  {
    const c = clip.clipTextConfig({ vocabSize: 9, maxPositions: 6, width: 8, layers: 2, heads: 2, mlpWidth: 12 });
    const m = new clip.CLIPTextModel(c, { generator: g() });
    out.push({
      name: "latent-diffusion (clip)",
      arch: clip.describe(c, "text encoder", 5),
      model: m,
      forward: () => m.forward(ids(2, 5, 9)),
      units: 10,
    });
  }
  {
    // one sentence of 5 symbols and 6 frames (3 decoder steps of r = 2), teacher-forced
    const c = tacotron2.tacotron2Config("tiny");
    const m = new tacotron2.Tacotron2(c, { generator: g() });
    const mel = tensor(
      Float32Array.from({ length: 5 * 6 }, (_, i) => Math.sin(i)),
      { shape: [1, 5, 6] },
    );
    out.push({
      name: "tacotron2",
      arch: tacotron2.describe(c, 5, 6),
      model: m,
      forward: () => m.forward(ids(1, 5, 7, 1), [5], { mel, melLengths: [6] }),
      units: 1,
    });
  }
  {
    // 5 symbols expanded to 9 frames by the durations
    const c = fastspeech2.fastSpeech2Config("tiny");
    const m = new fastspeech2.FastSpeech2(c, { generator: g() });
    const row = (f: (i: number) => number, n: number): Tensor =>
      tensor(
        Array.from({ length: n }, (_, i) => f(i)),
        { shape: [1, n] },
      );
    const targets = {
      durations: [[2, 1, 3, 0, 3]],
      pitch: row((i) => 4 + 0.1 * i, 5),
      energy: row((i) => 0.2 * i, 5),
      mel: tensor(
        Float32Array.from({ length: 5 * 9 }, (_, i) => Math.cos(i)),
        { shape: [1, 5, 9] },
      ),
    };
    out.push({
      name: "fastspeech2",
      arch: fastspeech2.describe(c, 5, 9),
      model: m,
      forward: () => m.forward(ids(1, 5, 7, 1), [5], targets),
      units: 1,
    });
  }
  {
    const c = hifigan.hifiganConfig("tiny");
    const m = new hifigan.Generator(c, { generator: g() });
    const mel = tensor(
      Float32Array.from({ length: 4 * 7 }, (_, i) => Math.sin(0.3 * i)),
      { shape: [1, 4, 7] },
    );
    out.push({ name: "hifigan", arch: hifigan.describe(c, 7), model: m, forward: () => m.forward(mel), units: 1 });
  }
  return out;
}

test("describe(): parameters, layer kinds and normalisation are those of the built model", () => {
  for (const k of cases()) {
    assert.equal(k.arch.parameters, k.model.numParameters(), `${k.name}: parameters`);
    assert.deepEqual(k.arch.layers, layerKinds(k.model), `${k.name}: layer kinds`);
    const norm = k.arch.normalization.split(/[ ,]/)[0]!;
    assert.ok(
      norm === "none" || norm in k.arch.layers,
      `${k.name}: the normalisation "${k.arch.normalization}" names a layer of the model or says none`,
    );
  }
});

test("describe(): the FLOPs formula equals the multiply-adds the kernels perform in a forward pass", () => {
  for (const k of cases()) {
    k.model.eval();
    const { flops } = countFlops(() => noGrad(k.forward));
    assert.ok(flops > 0, k.name);
    assert.equal(
      k.arch.flops.value * k.units,
      flops,
      `${k.name}: ${k.arch.flops.value} per ${k.arch.flops.per} × ${k.units}`,
    );
  }
});

test("a FLOP count by hand: GPT with V 7, context 6, 2 layers, 2 heads, C 8", () => {
  const C = 8,
    T = 6,
    V = 7;
  const perBlock =
    3 * 2 * C * C + //  q, k, v: three (1, C)·(C, C) products per token
    2 * T * C + //      q·kᵀ: one query against T keys of C channels (2 heads of 4)
    2 * T * C + //      α·v: T weights times T values of C channels
    2 * C * C + //      wo
    2 * C * 4 * C + //  mlp.up (C → 4C)
    2 * 4 * C * C; //   mlp.down (4C → C)
  const hand = 2 * perBlock + 2 * C * V; // two blocks and the tied head
  assert.equal(hand, 3568);
  const c = gpt2.gptConfig({ vocabSize: V, blockSize: T, nLayer: 2, nHead: 2, nEmbd: C, dropout: 0, bias: true });
  assert.equal(gpt2.describe(c).flops.value, hand);
  const m = new gpt2.GPT(c, { generator: g() });
  assert.equal(countFlops(() => noGrad(() => m.forward(ids(1, T, V)))).flops, T * hand);
});

test("every model of the zoo has a case here, and every preset describes itself", () => {
  const covered = new Set(cases().map((k) => k.name.split(" ")[0]));
  for (const m of ZOO) {
    assert.ok(covered.has(m.name), `${m.name}: add a tiny config to src/models/architecture.test.ts`);
    for (const p of m.presets) {
      const a = p.describe();
      assert.ok(a.parameters > 0 && a.flops.value > 0 && a.title && a.config, `${m.name}:${p.name}`);
    }
  }
  // the presets' parameters, as their model files document them
  const params = (name: string, preset: string): number =>
    ZOO.find((m) => m.name === name)!
      .presets.find((p) => p.name === preset)!
      .describe().parameters;
  assert.equal(params("gpt2", "gpt2"), 124_439_808);
  assert.equal(params("lenet5", "lenet5"), 61_706);
  assert.equal(params("resnet", "resnet-mnist-small"), 19_810);
  assert.equal(params("resnet", "resnet20-mnist"), 272_186);
  assert.equal(params("char-rnn", "lstm"), 25_164);
  assert.equal(params("mlp", "mnist"), 535_818);
  assert.equal(params("llama", "llama-2-7b"), 6_738_415_616);
  assert.equal(params("bloom", "bloom-560m"), 559_214_592);
  assert.equal(params("falcon", "falcon-7b"), 6_921_720_704);
  assert.equal(params("bert", "bert-base-uncased"), 109_482_240);
  assert.equal(params("roberta", "roberta-base"), 124_645_632);
  assert.equal(params("deberta", "deberta-v3-base"), 183_831_552);
  assert.equal(params("t5", "t5-small"), 60_506_624);
  assert.equal(params("t5", "t5-v1_1-small"), 76_961_152);
  assert.equal(params("bart", "bart-base"), 139_420_416);
  // the TTS models at the size `wnn train tacotron2 | fastspeech2 | vocoder` builds, and the papers' configurations
  assert.equal(params("tacotron2", "small"), 2_003_425);
  assert.equal(params("tacotron2", "paper"), 28_189_489);
  assert.equal(params("fastspeech2", "small"), 1_912_531);
  assert.equal(params("hifigan", "v1"), 13_926_017);
  // Stable Diffusion v1's three networks, as diffusers and transformers count them
  assert.equal(params("latent-diffusion", "sd-v1-unet"), 859_520_964);
  assert.equal(params("latent-diffusion", "sd-v1-vae"), 83_653_863);
  assert.equal(params("latent-diffusion", "clip-vit-l-14-text"), 123_060_480);
});
