#!/usr/bin/env node
// wnn — the command line. Until the CLI issue lands it has one job: `wnn train spirals`, a 2-layer MLP
// trained on a seeded 3-arm spiral, printing its loss and accuracy.

import { parseArgs } from "node:util";
import { trainSpirals } from "./spirals.js";

const USAGE = `usage: wnn <command> [options]

commands:
  train spirals   train a 2-layer MLP on a seeded 3-arm spiral (300 points) and print loss and accuracy
                  --steps N (1500)  --hidden N (64)  --lr X (1)  --seed N (0)  --every N (100)
  --help          show this help`;

function fail(message: string): never {
  process.stderr.write(`wnn: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function main(argv: string[]): void {
  if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h") {
    process.stdout.write(USAGE + "\n");
    return;
  }
  const [command, target, ...rest] = argv;
  if (command !== "train") fail(`unknown command ${JSON.stringify(command)}`);
  if (target !== "spirals") fail(target === undefined ? "train: which model? (spirals)" : `train: unknown model ${JSON.stringify(target)}`);
  let values;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        steps: { type: "string", default: "1500" },
        hidden: { type: "string", default: "64" },
        lr: { type: "string", default: "1" },
        seed: { type: "string", default: "0" },
        every: { type: "string", default: "100" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    fail((e as Error).message);
  }
  if (values.help) {
    process.stdout.write(USAGE + "\n");
    return;
  }
  const num = (name: string, v: string, integer: boolean): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || (integer && (!Number.isInteger(n) || n < 0))) fail(`--${name} must be ${integer ? "a non-negative integer" : "a number"}, got ${JSON.stringify(v)}`);
    return n;
  };
  trainSpirals({
    steps: num("steps", values.steps!, true),
    hidden: num("hidden", values.hidden!, true),
    lr: num("lr", values.lr!, false),
    seed: num("seed", values.seed!, true),
    every: Math.max(1, num("every", values.every!, true)),
    log: (line) => process.stdout.write(line + "\n"),
  });
}

main(process.argv.slice(2));
