// `wnn list`: the model zoo (src/models/zoo.ts), every preset with its parameters counted on the preset's
// model built shape-only (meta(), src/engine/meta.ts: a 7B model in milliseconds, nothing allocated; the
// count equals the model's own countParameters formula, test/models/presets.test.ts), its title and config
// from describe() (src/models/architecture.ts), the commands that train it, the CLI's own toy and the
// comparison recipes. Nothing is typed by hand.

import { meta } from "../src/engine/meta.js";
import { ZOO, type ZooModel } from "../src/models/zoo.js";
import { helpText, parseOptions, type OptionSpecs } from "./args.js";
import type { Output } from "./progress.js";
import { RECIPES } from "./recipes.js";
import { spiralParameterCount } from "./spirals.js";
import { ZOO_TRAINING } from "../src/recipes/zoo-train.js";

export interface ZooListing {
  name: string;
  kind: "model" | "toy" | "comparison";
  /** the default preset's model ("GPT-2 (tiny)") or what the comparison runs */
  title: string;
  paper: string;
  /** the default preset's parameters (null for a comparison of several models) */
  parameters: number | null;
  presets: { name: string; title: string; config: string; parameters: number; activeParameters?: number }[];
  trainsOn: string;
  /** the commands that train it */
  commands: string[];
}

/** The CLI's own training commands, beside the recipes: which zoo model each trains. */
const CLI_COMMANDS: Record<string, string[]> = {
  gpt2: ["wnn train gpt"],
  mlp: ["wnn train mlp"],
  lenet5: ["wnn train cnn"],
  ddpm: ["wnn train ddpm"],
  "latent-diffusion": ["wnn train ldm"],
  tacotron2: ["wnn train tacotron2"],
  hifigan: ["wnn train vocoder"],
};

/** The commands that train a model of the zoo: the CLI's own, then its recipes. */
export const commandsOf = (m: ZooModel): string[] => {
  const own = [...(CLI_COMMANDS[m.name] ?? []), ...m.recipes.map((r) => `wnn train ${r.name}`)];
  // the models trained on their kind's default task (src/recipes/zoo-train.ts), when no recipe has their name
  const byDefault =
    Object.hasOwn(ZOO_TRAINING, m.name) && !RECIPES.some((r) => r.name === m.name) ? [`wnn train ${m.name}`] : [];
  return [...own, ...byDefault];
};

export function zoo(): ZooListing[] {
  const models: ZooListing[] = ZOO.map((m) => {
    const presets = m.presets.map((p) => {
      const a = p.describe();
      const active = a.activeParameters === undefined ? {} : { activeParameters: a.activeParameters }; // a mixture of experts: the router and k experts per token
      return {
        name: p.name,
        title: a.title,
        config: a.config,
        parameters: meta(() => p.build()).numParameters(),
        ...active,
      };
    });
    return {
      name: m.name,
      kind: "model",
      title: presets[0]!.title,
      paper: m.paper,
      parameters: presets[0]!.parameters,
      presets,
      trainsOn: m.trainsOn,
      commands: commandsOf(m),
    };
  });
  const inZoo = new Set(ZOO.flatMap((m) => m.recipes.map((r) => r.name)));
  const comparisons: ZooListing[] = RECIPES.filter((r) => !inZoo.has(r.name)).map((r) => ({
    name: r.name,
    kind: "comparison",
    title: "a comparison recipe",
    paper: r.paper,
    parameters: null,
    presets: [],
    trainsOn: r.trainsOn,
    commands: [`wnn train ${r.name}`],
  }));
  const spirals: ZooListing = {
    name: "spirals",
    kind: "toy",
    title: "MLP 2 → 64 → 3, tanh",
    paper: "Rumelhart, Hinton, Williams 1986 (the classic spiral toy problem)",
    parameters: spiralParameterCount(64),
    presets: [{ name: "default", title: "MLP", config: "2 → 64 → 3, tanh", parameters: spiralParameterCount(64) }],
    trainsOn: "300 points on 3 seeded spiral arms (generated)",
    commands: ["wnn train spirals"],
  };
  return [...models, spirals, ...comparisons];
}

const LIST_OPTIONS = { json: { kind: "flag", help: "print the zoo as JSON" } } as const satisfies OptionSpecs;

export const LIST_HELP = helpText(
  "wnn list [--json]",
  "The models of the zoo: each preset with its parameters (computed from the code), its paper, what it trains on and the commands that train it; then the comparison recipes. `wnn compare <a> <b>` shows two side by side.",
  LIST_OPTIONS,
);

export function listCommand(args: readonly string[], out: Output): number {
  const { values, help } = parseOptions("list", args, LIST_OPTIONS);
  if (help) {
    out.write(LIST_HELP);
    return 0;
  }
  const entries = zoo();
  if (values.json) {
    out.write(JSON.stringify(entries, null, 2) + "\n");
    return 0;
  }
  const w = Math.max(...entries.map((e) => e.name.length));
  const pad = "".padEnd(w);
  const count = (n: number | null, active?: number): string =>
    n === null
      ? ""
      : `${n.toLocaleString("en-US")} parameters${active === undefined ? "" : ` (${active.toLocaleString("en-US")} active)`}`;
  const presets = entries.flatMap((e) => e.presets);
  const pw = Math.max(...presets.map((p) => p.name.length)),
    cw = Math.max(...presets.map((p) => count(p.parameters, p.activeParameters).length));
  for (const e of entries) {
    out.write(
      `${e.name.padEnd(w)}  ${e.title}${e.parameters === null ? "" : `, ${count(e.parameters, e.presets[0]?.activeParameters)}`}\n`,
    );
    if (e.presets.length > 1)
      for (const p of e.presets)
        out.write(
          `${pad}    ${p.name.padEnd(pw)}  ${count(p.parameters, p.activeParameters).padStart(cw)}  ${p.config}\n`,
        );
    out.write(
      `${pad}  paper: ${e.paper}\n${pad}  trains on: ${e.trainsOn}${e.commands.length ? `  (${e.commands.join(", ")})` : ""}\n`,
    );
  }
  return 0;
}
