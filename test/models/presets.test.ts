// The released presets of the Transformer families, built shape-only (meta(), src/engine/meta.ts): each model's unique
// parameters (a tied tensor counted once) add up to the published count and to the model's own
// countParameters formula; the two 7B models build in milliseconds without allocating their weights; and
// every preset of the zoo — the counts `wnn list` prints — equals its describe() formula, so a formula and
// the code it describes cannot drift apart.

import { test } from "node:test";
import assert from "node:assert/strict";
import { meta, Tensor } from "../../src/index.js";
import { Module, Parameter } from "../../src/nn/module.js";
import { ZOO, entryName } from "../../src/models/zoo.js";
import { zoo } from "../../cli/list.js";
import * as gpt2 from "../../src/models/gpt2/model.js";
import * as bert from "../../src/models/bert/model.js";
import * as roberta from "../../src/models/roberta/model.js";
import * as deberta from "../../src/models/deberta/model.js";
import * as llama from "../../src/models/llama/model.js";
import * as bloom from "../../src/models/bloom/model.js";
import * as falcon from "../../src/models/falcon/model.js";
import * as t5 from "../../src/models/t5/model.js";
import * as bart from "../../src/models/bart/model.js";

interface Preset {
  /** "model:preset" in the zoo */
  zoo: string;
  build: () => Module;
  formula: () => number;
  /** the count published for the released checkpoint (the model's README for deberta-v3-base and t5-v1_1-small) */
  published: number;
}

const PRESETS: Preset[] = [
  {
    zoo: "gpt2:gpt2",
    build: () => new gpt2.GPT(gpt2.gptConfig("gpt2")),
    formula: () => gpt2.countParameters(gpt2.gptConfig("gpt2")),
    published: 124_439_808,
  },
  {
    zoo: "bert:bert-base-uncased",
    build: () => new bert.BertModel(bert.bertConfig("bert-base-uncased")),
    formula: () => bert.countParameters(bert.bertConfig("bert-base-uncased")),
    published: 109_482_240,
  },
  {
    zoo: "roberta:roberta-base",
    build: () => new roberta.RobertaModel(roberta.robertaConfig("roberta-base")),
    formula: () => roberta.countParameters(roberta.robertaConfig("roberta-base")),
    published: 124_645_632,
  },
  {
    zoo: "deberta:deberta-v3-base",
    build: () => new deberta.DebertaModel(deberta.debertaConfig("deberta-v3-base")),
    formula: () => deberta.countParameters(deberta.debertaConfig("deberta-v3-base")),
    published: 183_831_552,
  },
  {
    zoo: "llama:llama-2-7b",
    build: () => new llama.Llama(llama.llamaConfig("llama-2-7b")),
    formula: () => llama.countParameters(llama.llamaConfig("llama-2-7b")),
    published: 6_738_415_616,
  },
  {
    zoo: "bloom:bloom-560m",
    build: () => new bloom.Bloom(bloom.bloomConfig("bloom-560m")),
    formula: () => bloom.countParameters(bloom.bloomConfig("bloom-560m")),
    published: 559_214_592,
  },
  {
    zoo: "falcon:falcon-7b",
    build: () => new falcon.Falcon(falcon.falconConfig("falcon-7b")),
    formula: () => falcon.countParameters(falcon.falconConfig("falcon-7b")),
    published: 6_921_720_704,
  },
  {
    zoo: "t5:t5-small",
    build: () => new t5.T5(t5.t5Config("t5-small")),
    formula: () => t5.countParameters(t5.t5Config("t5-small")),
    published: 60_506_624,
  },
  {
    zoo: "t5:t5-v1_1-small",
    build: () => new t5.T5(t5.t5Config("t5-v1_1-small")),
    formula: () => t5.countParameters(t5.t5Config("t5-v1_1-small")),
    published: 76_961_152,
  },
  {
    zoo: "bart:bart-base",
    build: () => new bart.Bart(bart.bartConfig("bart-base")),
    formula: () => bart.countParameters(bart.bartConfig("bart-base")),
    published: 139_420_416,
  },
];

/**
 * The parameters of a module found by walking every field of every submodule (not through parameters(),
 * whose own de-duplication is what is checked), each tensor once however many fields hold it.
 */
function uniqueParameters(model: Module): { unique: Parameter[]; fields: number } {
  const seen = new Set<Parameter>();
  let fields = 0;
  for (const [, m] of model.namedModules()) {
    for (const v of Object.values(m)) {
      if (v instanceof Parameter) {
        fields++;
        seen.add(v);
      }
    }
  }
  return { unique: [...seen], fields };
}

const sumNumel = (ts: readonly Tensor[]): number => ts.reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);

test("the ten released presets, built shape-only: unique parameters = the published count = countParameters", () => {
  for (const p of PRESETS) {
    const model = meta(p.build);
    const { unique, fields } = uniqueParameters(model);
    assert.ok(unique.length > 0 && unique.every((t) => t.isMeta), `${p.zoo}: every parameter is shape-only`);
    const n = sumNumel(unique);
    assert.equal(n, p.published, `${p.zoo}: the published count`);
    assert.equal(n, p.formula(), `${p.zoo}: countParameters`);
    assert.equal(model.numParameters(), n, `${p.zoo}: numParameters`);
    // the tied ones: GPT-2's head is its token embedding, T5-small's (v1.0) and BART's too; their fields outnumber their tensors
    if (/gpt2|t5-small$|bart/.test(p.zoo)) assert.ok(fields > unique.length, `${p.zoo}: a tied tensor, counted once`);
    // ... and the same model in the zoo (which `wnn list` counts) is this one
    const [name, preset] = p.zoo.split(":");
    const entry = ZOO.find((m) => m.name === name)!.presets.find((q) => q.name === preset)!;
    assert.equal(meta(() => entry.build()).numParameters(), p.published, `${p.zoo}: the zoo's build`);
  }
});

test("llama-2-7b and falcon-7b build shape-only in under 2 s together (milliseconds in practice) and allocate almost nothing", () => {
  const before = process.memoryUsage();
  const t0 = performance.now();
  const models = [meta(PRESETS[4]!.build), meta(PRESETS[6]!.build)];
  const ms = performance.now() - t0;
  const after = process.memoryUsage();
  assert.equal(sumNumel(models[0]!.parameters()) + sumNumel(models[1]!.parameters()), 6_738_415_616 + 6_921_720_704);
  // 13.7 billion float32 values would be 55 GB; a shape-only build holds a few hundred small objects
  const rss = (after.rss - before.rss) / 2 ** 20,
    buffers = (after.arrayBuffers - before.arrayBuffers) / 2 ** 20;
  assert.ok(rss < 64, `rss grew by ${rss.toFixed(1)} MiB`);
  assert.ok(buffers < 1, `array buffers grew by ${buffers.toFixed(2)} MiB`);
  assert.ok(ms < 2000, `built in ${ms.toFixed(0)} ms`);
});

test("every preset of the zoo: its model built shape-only has the parameters its describe() formula says, and wnn list prints them", () => {
  const listed = new Map<string, number>(
    zoo()
      .filter((e) => e.kind === "model")
      .flatMap((e) => e.presets.map((p) => [`${e.name}:${p.name}`, p.parameters] as const)),
  );
  let n = 0,
    buffers = 0;
  for (const m of ZOO) {
    for (const p of m.presets) {
      const name = entryName({ model: m, preset: p });
      const before = process.memoryUsage().arrayBuffers;
      const built = meta(() => p.build());
      buffers = Math.max(buffers, process.memoryUsage().arrayBuffers - before);
      assert.ok(
        built.parameters().every((t) => t.isMeta),
        `${name}: built shape-only`,
      );
      assert.equal(
        built.numParameters(),
        p.describe().parameters,
        `${name}: the model built differs from describe()'s formula`,
      );
      assert.equal(listed.get(name), built.numParameters(), `${name}: wnn list`);
      n++;
    }
  }
  assert.equal(listed.size, n);
  // no preset's constructor computes a table of values inside meta() (the Transformer's sinusoids once did: 1 MiB for the base preset)
  assert.ok(
    buffers < 64 * 1024,
    `a preset built shape-only allocated ${(buffers / 2 ** 20).toFixed(2)} MiB of array buffers`,
  );
});
