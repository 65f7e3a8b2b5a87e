// Reading the PyTorch fixtures written by tools/fixtures/*.py (format in tools/fixtures/common.py)
// and replaying them: the same inputs and output gradients through our ops, compared with PyTorch's
// outputs and input gradients.

import { readFileSync } from "node:fs";
import { test } from "node:test";
import assert from "node:assert/strict";
import { Tensor, type DType } from "../../src/index.js";
import { assertClose, type Tolerance } from "./assert.js";

export interface TensorJson {
  shape: number[];
  dtype: DType;
  data: (number | string)[];
}

export interface FixtureCase {
  op: string;
  label: string;
  args: Record<string, unknown>;
  inputs: TensorJson[];
  outputs: TensorJson[];
  grad_outputs: (TensorJson | null)[];
  grads: (TensorJson | null)[];
}

export function loadFixtures(name: string): FixtureCase[] {
  const url = new URL(`../../../test/fixtures/${name}`, import.meta.url); // dist/test/harness → test/fixtures
  const json = JSON.parse(readFileSync(url, "utf8")) as { cases: FixtureCase[] };
  return json.cases;
}

/** A fixture's tensors by name (a state dict or its gradients) as tensors. */
export const tensorsOf = (o: Record<string, TensorJson>): Record<string, Tensor> =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, fromJson(v)]));

/** A model's fixture, test/fixtures/models/<name>.json, as written by tools/fixtures/<name>.py. */
export function readModelFixture<F>(name: string): F {
  return JSON.parse(readFileSync(new URL(`../../../test/fixtures/models/${name}.json`, import.meta.url), "utf8")) as F;
}

export function fromJson(t: TensorJson, requiresGrad = false): Tensor {
  const values = t.data.map((v) =>
    v === "nan" ? NaN : v === "inf" ? Infinity : v === "-inf" ? -Infinity : (v as number),
  );
  const n = values.length;
  const storage =
    t.dtype === "float32"
      ? new Float32Array(n)
      : t.dtype === "float64"
        ? new Float64Array(n)
        : t.dtype === "int32"
          ? new Int32Array(n)
          : new Uint8Array(n);
  storage.set(values);
  const x = new Tensor(storage, t.shape);
  if (requiresGrad) x.requiresGrad = true;
  return x;
}

export type FixtureCall = (
  inputs: Tensor[],
  args: Record<string, any>,
) => Tensor | Tensor[] | { values: Tensor; indices?: Tensor };

/**
 * One test per fixture case: call `calls[case.op]` on the fixture's inputs, compare every output with
 * PyTorch's, backpropagate PyTorch's grad_outputs, compare every input gradient.
 * Fails when a case names an op that `calls` does not know.
 */
export function replayFixtures(file: string, calls: Record<string, FixtureCall>, tol: (op: string) => Tolerance): void {
  const cases = loadFixtures(file);
  test(`PyTorch fixtures ${file}`, async (t) => {
    assert.ok(cases.length > 0, `${file} holds no cases`);
    for (const c of cases) {
      await t.test(`${c.op}: ${c.label}`, () => {
        const call = calls[c.op];
        assert.ok(call, `no call for fixture op ${c.op}`);
        const inputs = c.inputs.map((x, i) => fromJson(x, c.grads[i] !== null && c.grads[i] !== undefined));
        const raw = call(inputs, c.args);
        const outs =
          raw instanceof Tensor
            ? [raw]
            : Array.isArray(raw)
              ? raw
              : raw.indices
                ? [raw.values, raw.indices]
                : [raw.values];
        assert.equal(outs.length, c.outputs.length, `${c.op}: ${outs.length} outputs, PyTorch has ${c.outputs.length}`);
        const tl = tol(c.op);
        outs.forEach((o, i) => assertClose(o, fromJson(c.outputs[i]!), tl, `${c.op} output ${i}`));
        const gos = c.grad_outputs;
        if (!gos.some((g) => g !== null)) return;
        let first = true;
        outs.forEach((o, i) => {
          const go = gos[i];
          if (!go || !o.requiresGrad) return;
          o.backward(fromJson(go), { retainGraph: true });
          first = false;
        });
        assert.ok(!first, `${c.op}: PyTorch computed gradients but our output does not require grad`);
        inputs.forEach((x, i) => {
          const g = c.grads[i];
          if (!g) return;
          assert.ok(x.grad, `${c.op}: no gradient reached input ${i}`);
          assertClose(x.grad, fromJson(g), tl, `${c.op} grad of input ${i}`);
        });
      });
    }
  });
}
