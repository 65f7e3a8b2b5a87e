// PyTorch parity for every module (fixtures written by tools/fixtures/nn_modules.py, format there):
// PyTorch's parameters and buffers are loaded into our module by name through loadStateDict (strict),
// after mapping PyTorch's snake_case names to ours with nn.fromTorchName ("in_proj_weight" → "inProjWeight");
// so the test also checks that our names and their order are PyTorch's. Then forward outputs, every
// parameter gradient, every input gradient and (BatchNorm) the buffers after the run are compared.

import { readFileSync } from "node:fs";
import { test } from "node:test";
import assert from "node:assert/strict";
import * as wnn from "../../src/index.js";
import { Tensor } from "../../src/index.js";
import { assertClose, type Tolerance } from "../harness/assert.js";
import { fromJson, type TensorJson } from "../harness/fixtures.js";

const { nn } = wnn;
type Module = wnn.nn.Module;

interface ModuleCase {
  module: string;
  label: string;
  ctor: unknown[];
  opts: Record<string, unknown>;
  mode: "train" | "eval";
  fwd: Record<string, unknown>;
  fwd_tensors: Record<string, TensorJson>;
  state: Record<string, TensorJson>;
  names: string[];
  state_keys: string[];
  inputs: TensorJson[];
  steps: TensorJson[][] | null;
  outputs: TensorJson[];
  grad_outputs: (TensorJson | null)[];
  param_grads: Record<string, TensorJson>;
  input_grads: (TensorJson | null)[];
  state_after: Record<string, TensorJson>;
}

const TOL: Tolerance = { rtol: 1e-4, atol: 1e-5 };

// The nested model of the fixture script, written with our modules (same structure, same field order).
class Block extends nn.Module {
  norm = new nn.LayerNorm(6);
  attn = new nn.MultiheadAttention(6, 2, { batchFirst: true });
  mlp = new nn.Sequential(new nn.Linear(6, 12), new nn.GELU({ approximate: "tanh" }), new nn.Linear(12, 6));

  forward(x: Tensor): Tensor {
    const h = this.norm.forward(x);
    x = x.add(this.attn.forward(h, h, h, { needWeights: false }).output);
    return x.add(this.mlp.forward(x));
  }
}

class Net extends nn.Module {
  embed = new nn.Embedding(10, 6);
  blocks = new nn.ModuleList([new Block(), new Block()]);
  bn = new nn.BatchNorm1d(6);
  // pairs, not an object literal: JS orders integer-like keys ("1") first in an object
  heads = new nn.ModuleDict([
    ["cls", new nn.Linear(6, 3)],
    ["1", new nn.Linear(6, 2)],
  ]);

  forward(idx: Tensor): Tensor[] {
    let x = this.embed.forward(idx);
    for (const b of this.blocks) x = b.forward(x);
    const h = this.bn.forward(x.mean(1));
    return [(this.heads.get("cls") as wnn.nn.Linear).forward(h), (this.heads.get("1") as wnn.nn.Linear).forward(h)];
  }
}

/** Our module for a fixture case: `new Class(...ctor, opts)` (opts only when given), or a custom builder. */
function build(c: ModuleCase): Module {
  if (c.module === "Net") return new Net();
  if (c.module === "Sequential") {
    return new nn.Sequential(
      new nn.Conv2d(1, 4, 3, { padding: 1 }),
      new nn.BatchNorm2d(4),
      new nn.ReLU(),
      new nn.MaxPool2d(2),
      new nn.Flatten(),
      new nn.Linear(4 * 3 * 3, 5),
    );
  }
  const cls = (nn as unknown as Record<string, new (...args: unknown[]) => Module>)[c.module];
  assert.ok(cls, `no module ${c.module} in wnn.nn`);
  return Object.keys(c.opts).length ? new cls(...c.ctor, c.opts) : new cls(...c.ctor);
}

/** Our forward for a case: the outputs in PyTorch's order. */
function run(c: ModuleCase, m: Module, inputs: Tensor[]): Tensor[] {
  if (m instanceof nn.MultiheadAttention) {
    const t = Object.fromEntries(Object.entries(c.fwd_tensors).map(([k, v]) => [k, fromJson(v)]));
    const [q, k, v] = c.fwd.self ? [inputs[0]!, inputs[0]!, inputs[0]!] : inputs;
    const r = m.forward(q!, k!, v!, {
      keyPaddingMask: t.keyPaddingMask,
      attnMask: t.attnMask,
      needWeights: c.fwd.needWeights as boolean | undefined,
      averageAttnWeights: c.fwd.averageAttnWeights as boolean | undefined,
      isCausal: c.fwd.isCausal as boolean | undefined,
    });
    return r.weights ? [r.output, r.weights] : [r.output];
  }
  const out = (m as unknown as { forward(...xs: Tensor[]): Tensor | Tensor[] }).forward(...inputs);
  return Array.isArray(out) ? out : [out];
}

const file = new URL("../../../test/fixtures/nn_modules.json", import.meta.url); // dist/test/nn → test/fixtures
const cases = (JSON.parse(readFileSync(file, "utf8")) as { cases: ModuleCase[] }).cases;

test("nn.fromTorchName maps PyTorch's names to ours and toTorchName back", () => {
  const pairs = [
    ["blocks.0.attn.in_proj_weight", "blocks.0.attn.inProjWeight"],
    ["bn.num_batches_tracked", "bn.numBatchesTracked"],
    ["out_proj.bias", "outProj.bias"],
    ["0.weight", "0.weight"],
  ];
  for (const [torch, ours] of pairs) {
    assert.equal(nn.fromTorchName(torch!), ours);
    assert.equal(nn.toTorchName(ours!), torch);
  }
});

test("PyTorch fixtures nn_modules.json", async (t) => {
  const covered = new Set(cases.map((c) => c.module));
  for (const name of [
    "Linear",
    "Embedding",
    "LayerNorm",
    "RMSNorm",
    "Dropout",
    "Conv1d",
    "Conv2d",
    "ConvTranspose2d",
    "GroupNorm",
    "BatchNorm1d",
    "BatchNorm2d",
    "MaxPool2d",
    "AvgPool2d",
    "Sequential",
    "MultiheadAttention",
    "ReLU",
    "GELU",
    "SiLU",
    "Tanh",
    "Sigmoid",
    "Softmax",
    "Net",
  ]) {
    assert.ok(covered.has(name), `no fixture case for ${name}`);
  }
  for (const c of cases) {
    await t.test(`${c.module}: ${c.label}`, () => {
      const m = build(c);
      m.train(c.mode === "train");
      // names and their order are PyTorch's
      assert.deepEqual(
        m.namedParameters().map(([n]) => n),
        c.names.map(nn.fromTorchName),
        "namedParameters",
      );
      assert.deepEqual(Object.keys(m.stateDict()), c.state_keys.map(nn.fromTorchName), "stateDict keys");
      m.loadStateDict(Object.fromEntries(Object.entries(c.state).map(([k, v]) => [nn.fromTorchName(k), fromJson(v)])));

      const runs = c.steps ?? [c.inputs];
      const leaves: Tensor[] = [];
      const outs: Tensor[] = [];
      for (const r of runs) {
        const xs = r.map((x) => fromJson(x, x.dtype === "float32"));
        leaves.push(...xs);
        outs.push(...run(c, m, xs));
      }
      assert.equal(outs.length, c.outputs.length, "number of outputs");
      outs.forEach((o, i) => assertClose(o, fromJson(c.outputs[i]!), TOL, `output ${i}`));

      // backward of Σ_i ⟨out_i, grad_out_i⟩, the scalar PyTorch differentiated
      let total: Tensor | null = null;
      outs.forEach((o, i) => {
        const go = c.grad_outputs[i];
        if (!go) return;
        const term = o.mul(fromJson(go)).sum();
        total = total ? total.add(term) : term;
      });
      if (total) (total as Tensor).backward();
      const params = new Map(m.namedParameters());
      const withGrad = [...params]
        .filter(([, p]) => p.grad !== null)
        .map(([n]) => n)
        .sort();
      assert.deepEqual(withGrad, Object.keys(c.param_grads).map(nn.fromTorchName).sort(), "parameters with a gradient");
      for (const [name, g] of Object.entries(c.param_grads))
        assertClose(params.get(nn.fromTorchName(name))!.grad!, fromJson(g), TOL, `grad of ${name}`);
      leaves.forEach((x, i) => {
        const g = c.input_grads[i];
        if (g) assertClose(x.grad ?? wnn.zeros(x.shape), fromJson(g), TOL, `grad of input ${i}`);
        else assert.equal(x.grad, null, `input ${i} has a gradient PyTorch did not compute`);
      });
      const state = m.stateDict();
      for (const [name, b] of Object.entries(c.state_after))
        assertClose(state[nn.fromTorchName(name)]!, fromJson(b), TOL, `buffer ${name} after the run`);
    });
  }
});
