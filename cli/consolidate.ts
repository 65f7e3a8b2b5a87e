// `wnn consolidate --checkpoint DIR [--hf OUT]`: the sharded saves of a data-parallel run (DIR/sharded/, written
// by `wnn train gpt --sharded_checkpoint`) joined into one process's checkpoint, DIR/checkpoint.safetensors (what
// `wnn sample` and `wnn train gpt --resume` read), and with --hf into a Hugging Face GPT-2 folder (config.json and
// model.safetensors) that transformers' GPT2LMHeadModel.from_pretrained loads — the model to continue with
// PyTorch FSDP on a cluster (docs/compare/data-parallel.md).

import { existsSync } from "node:fs";
import { join } from "node:path";
import { isShardedCheckpoint, loadShardedCheckpoint } from "../src/distributed/sharded-checkpoint-node.js";
import { toCheckpoint } from "../src/distributed/sharded-checkpoint.js";
import { writeHFFolder } from "../src/io/hf-folder.js";
import { loadCheckpoint, saveCheckpoint, writeFileAtomic } from "../src/io/node.js";
import type { LoadedCheckpoint } from "../src/io/checkpoint.js";
import { toHFFiles } from "../src/models/hf.js";
import { GPT } from "../src/models/gpt2/model.js";
import { checkpointConfig } from "../src/models/gpt2/train.js";
import { UsageError, helpText, parseOptions, type OptionSpecs } from "./args.js";
import type { Output } from "./progress.js";
import { SHARDED_DIR } from "./gpt-worker.js";
import { checkpointPath } from "./rundir.js";

const OPTIONS = {
  checkpoint: {
    kind: "string",
    metavar: "DIR",
    help: "a run of wnn train gpt (its sharded/ folder, or its checkpoint.safetensors)",
  },
  hf: {
    kind: "string",
    metavar: "OUT",
    help: "also write a Hugging Face GPT-2 folder here (config.json, model.safetensors, vocab.json of the characters)",
  },
} as const satisfies OptionSpecs;

export const CONSOLIDATE_HELP = helpText(
  "wnn consolidate --checkpoint DIR [--hf OUT]",
  `Join the sharded saves of a data-parallel run (DIR/sharded/: one shard per worker and an index) into
DIR/checkpoint.safetensors, one process's checkpoint; with --hf OUT, also write the model as a Hugging
Face GPT-2 folder (config.json, model.safetensors) and its characters (vocab.json: character → id).`,
  OPTIONS,
  "example: wnn train gpt --workers 4 --strategy fsdp --sharded_checkpoint --out runs/f && wnn consolidate --checkpoint runs/f --hf runs/f/hf",
);

export function consolidateCommand(args: readonly string[], out: Output): number {
  const { values: v, help } = parseOptions("consolidate", args, OPTIONS);
  if (help) {
    out.write(CONSOLIDATE_HELP);
    return 0;
  }
  if (v.checkpoint === undefined) throw new UsageError("consolidate: which run? give --checkpoint DIR");
  const dir = v.checkpoint,
    sharded = join(dir, SHARDED_DIR);
  let ckpt: LoadedCheckpoint;
  if (isShardedCheckpoint(sharded)) {
    const s = loadShardedCheckpoint(sharded);
    ckpt = toCheckpoint(s.index, s) as LoadedCheckpoint;
    checkpointConfig(ckpt); // a GPT run's checkpoint, its config and weights consistent
    saveCheckpoint(checkpointPath(dir), ckpt);
    out.write(
      `consolidated ${s.index.shards} shard${s.index.shards === 1 ? "" : "s"} (${s.index.strategy}) of step ${s.index.step} into ${checkpointPath(dir)}\n`,
    );
  } else if (existsSync(checkpointPath(dir))) {
    ckpt = loadCheckpoint(checkpointPath(dir));
    out.write(`${dir} has no sharded saves; using ${checkpointPath(dir)} (step ${ckpt.step})\n`);
  } else throw new UsageError(`consolidate: ${dir} holds neither ${SHARDED_DIR}/ nor checkpoint.safetensors`);
  if (v.hf !== undefined) {
    const { model: config, config: meta } = checkpointConfig(ckpt);
    const model = new GPT(config);
    model.loadStateDict(ckpt.model);
    writeHFFolder(v.hf, toHFFiles("gpt2", model, config));
    // the character vocabulary (ours, not a GPT-2 BPE): the ids the model was trained on
    const chars = (meta.tokenizer as { chars?: unknown } | undefined)?.chars;
    if (typeof chars === "string" || Array.isArray(chars)) {
      const vocab = Object.fromEntries([...(chars as Iterable<string>)].map((c, i) => [c, i]));
      writeFileAtomic(join(v.hf, "vocab.json"), [new TextEncoder().encode(JSON.stringify(vocab, null, 1) + "\n")]);
    }
    out.write(
      `wrote ${v.hf}/ (config.json, model.safetensors${chars ? ", vocab.json" : ""}): a Hugging Face GPT-2 folder\n`,
    );
  }
  return 0;
}
