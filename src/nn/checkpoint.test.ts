// Activation checkpointing: the gradients equal those without it (bit for bit: the recomputation runs the same
// ops on the same values, with the same dropout masks), and the graph kept between forward and backward is
// smaller — measured as the bytes of the distinct tensors the graph reaches from the loss.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as wnn from "../index.js";
import { Block, GPT, type GPTConfig } from "../models/gpt2/model.js";
import { DecoderBlock, EncoderBlock, T5, t5Config } from "../models/t5/model.js";
import { applyActivationCheckpointing, checkpoint, graphBytes, moduleClassPolicy } from "./checkpoint.js";
import { ArgumentError } from "../engine/errors.js";
import type { Tensor } from "../engine/tensor.js";
import { withSyncBatchNorm } from "../ops/nn.js";
import { GeluExpert, MoE, SWITCH, moeOptions, withSyncRouting } from "./moe.js";

const CONFIG = { vocabSize: 13, blockSize: 16, nLayer: 3, nHead: 2, nEmbd: 24, bias: true };

function run(config: Partial<GPTConfig>, ckpt: boolean): { loss: number; grads: number[][]; kept: number } {
  wnn.manualSeed(0);
  const model = new GPT({ ...CONFIG, dropout: 0, ...config });
  if (ckpt)
    assert.deepEqual(applyActivationCheckpointing(model, moduleClassPolicy(Block)), [
      "blocks.0",
      "blocks.1",
      "blocks.2",
    ]);
  const idx = wnn.randint(0, CONFIG.vocabSize, [4, CONFIG.blockSize + 1], { generator: new wnn.Generator(5) });
  wnn.manualSeed(9); // the dropout masks
  const { loss } = model.forward(idx.narrow(1, 0, CONFIG.blockSize), idx.narrow(1, 1, CONFIG.blockSize));
  const kept = graphBytes(loss!);
  loss!.backward();
  return { loss: loss!.item(), grads: model.parameters().map((p) => Array.from(p.grad!.storage)), kept };
}

for (const dropout of [0, 0.2]) {
  test(`checkpointed GPT blocks give the gradients of the plain model, bit for bit (dropout ${dropout})`, () => {
    const plain = run({ dropout }, false),
      ac = run({ dropout }, true);
    assert.equal(ac.loss, plain.loss);
    assert.equal(ac.grads.length, plain.grads.length);
    ac.grads.forEach((g, i) => assert.deepEqual(g, plain.grads[i], `gradient ${i}`));
  });
}

test("checkpointing keeps only the blocks' inputs: the graph reached from the loss is several times smaller", () => {
  const plain = run({}, false),
    ac = run({}, true);
  // per block the plain graph keeps norms, q k v, attention weights, the MLP's 4C; checkpointed, one (B, T, C) input
  assert.ok(ac.kept * 2 < plain.kept, `${ac.kept} bytes with checkpointing vs ${plain.kept} without`);
});

test("checkpoint of a function: value and input gradient equal the plain computation; bad input is an ArgumentError", () => {
  const x = wnn.randn([3, 4], { generator: new wnn.Generator(1) }).requiresGrad_();
  const f = (t: Tensor): Tensor => t.tanh().mul(t).sum(1);
  const y = checkpoint(f, x);
  y.sum().backward();
  const g1 = x.grad!.toArray();
  x.grad = null;
  f(x).sum().backward();
  assert.deepEqual(g1, x.grad!.toArray());
  assert.deepEqual(y.toArray(), f(x).toArray());
  assert.throws(() => checkpoint(f, [1, 2] as unknown as Tensor), ArgumentError);
});

test("checkpointed T5 blocks: the tensors a block takes besides x (the encoder's output, the position bias) get their gradients", () => {
  // a decoder block reads the encoder's output and every block the root's position bias: their gradients reach the
  // encoder and the bias table only through those arguments, so a lost argument gradient would leave them short
  const grads = (ckpt: boolean): { loss: number; grads: number[][] } => {
    wnn.manualSeed(0);
    const model = new T5(t5Config("tiny", { vocabSize: 17, dropout: 0 }));
    if (ckpt)
      assert.equal(applyActivationCheckpointing(model, moduleClassPolicy(EncoderBlock, DecoderBlock)).length, 4);
    const g = new wnn.Generator(3);
    const src = wnn.randint(0, 17, [2, 7], { generator: g }),
      tgt = wnn.randint(0, 17, [2, 6], { generator: g });
    const { loss } = model.forward(src, tgt.narrow(1, 0, 5), { targets: tgt.narrow(1, 1, 5) });
    loss!.backward();
    return { loss: loss!.item(), grads: model.parameters().map((p) => Array.from(p.grad?.storage ?? [])) };
  };
  const plain = grads(false),
    ac = grads(true);
  assert.equal(ac.loss, plain.loss);
  // the decoder's gradients bit for bit; the encoder's and the embedding's within float32 rounding (‖a − b‖/‖b‖,
  // measured ≤ 3.3e-7): the encoder output's gradient is summed from the two decoder blocks in another order
  ac.grads.forEach((g, i) => {
    const want = plain.grads[i]!;
    assert.ok(want.length > 0 && g.length === want.length, `parameter ${i} has a gradient`);
    const err = Math.hypot(...g.map((x, j) => x - want[j]!)) / Math.hypot(...want);
    assert.ok(err <= 1e-6, `gradient ${i}: ${err}`);
  });
});

test("the recomputation in backward runs inside the groups its forward ran in: a synchronized BatchNorm's and a mixture's routing sum again", () => {
  // one worker of two whose partner contributes nothing: the sums change no value, so they are only counted
  const calls = { bn: 0, routing: 0 };
  const bnSum = (): void => void calls.bn++;
  const group = { rank: 0, worldSize: 2, sum: (): void => void calls.routing++ };
  const g = new wnn.Generator(4);
  const bn = new wnn.nn.BatchNorm1d(6);
  const moe = new MoE(6, moeOptions(SWITCH, { nExperts: 2 }), () => new GeluExpert(6, 8, { generator: g }), {
    generator: g,
  });
  const f = (x: Tensor): Tensor => moe.forward(bn.forward(x).reshape([2, 3, 6])).y;
  const x = wnn.randn([6, 6], { generator: g }).requiresGrad_();
  const y = withSyncBatchNorm(bnSum, () =>
    withSyncRouting(group, () => checkpoint(f, x, { params: moe.parameters() })),
  );
  const forward = { ...calls };
  assert.ok(forward.bn > 0 && forward.routing > 0, `the forward summed: ${JSON.stringify(forward)}`);
  y.sum().backward(); // outside both groups, as a worker's backward runs
  // the forward again (its sums once more), then the BatchNorm's backward sum
  assert.equal(calls.routing, 2 * forward.routing);
  assert.equal(calls.bn, 2 * forward.bn + 1);
  assert.ok(x.grad !== null);
});
