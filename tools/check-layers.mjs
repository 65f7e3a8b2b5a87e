// Fails when an import points outward (ARCHITECTURE.md, "Layers") or when the core imports Node-only
// modules. Layer of a file = its first folder under src/ (or cli/, web/, bench/, test/, tools/).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";

/** which layers each layer may import (itself always allowed) */
const ALLOWED = {
  "src/engine": [],
  "src/backend": [],
  "src/ops": ["src/engine", "src/backend"],
  "src/nn": ["src/engine", "src/backend", "src/ops"],
  "src/optim": ["src/engine", "src/ops", "src/nn"],
  "src/data": ["src/engine", "src/ops"],
  // the Node half of data reads files through src/io's checked-file reader (regular files, sizes capped)
  "src/data/node": ["src/data", "src/engine", "src/ops", "src/io"],
  "src/io": ["src/engine", "src/ops", "src/nn"],
  "src/audio": ["src/engine", "src/ops"],
  "src/generation": ["src/engine", "src/ops", "src/nn"],
  // collectives over SharedArrayBuffer and the data-parallel strategies; its *-node.ts files launch worker_threads and
  // write sharded checkpoints (through src/io)
  "src/distributed": ["src/engine", "src/ops", "src/nn", "src/optim", "src/io"],
  "src/models": ["src/engine", "src/ops", "src/nn", "src/optim", "src/data", "src/io", "src/generation"],
  // what `wnn train` runs: the recipe shape, the shared training loop, the comparisons; a model folder's own
  // recipe.ts / train.ts and the zoo (src/models/zoo.ts) belong to this layer too (see RECIPE_FILES)
  "src/recipes": [
    "src/engine",
    "src/ops",
    "src/nn",
    "src/optim",
    "src/data",
    "src/io",
    "src/audio",
    "src/generation",
    "src/models",
    "src/finetune",
    "src/distributed",
  ],
  "src/index.ts": [
    "src/engine",
    "src/backend",
    "src/ops",
    "src/nn",
    "src/optim",
    "src/data",
    "src/io",
    "src/audio",
    "src/generation",
    "src/models",
    "src/recipes",
    "src/finetune",
    "src/distributed",
  ],
  "src/finetune": [
    "src/engine",
    "src/ops",
    "src/nn",
    "src/optim",
    "src/data",
    "src/io",
    "src/generation",
    "src/models",
  ],
  "src/node.ts": ["src/engine", "src/data", "src/io", "src/distributed", "src/data/node"],
  // "writtingnns" under Node's "node" condition: the library plus the Node-only thread pool of the wasm backend
  "src/index-node.ts": ["src/index.ts", "src/backend"],
};
/** layers that must bundle for the browser: no Node built-ins */
const CORE = [
  "src/engine",
  "src/audio",
  "src/ops",
  "src/nn",
  "src/optim",
  "src/generation",
  "src/models",
  "src/recipes",
  "src/backend/reference",
  "src/backend/backend.ts",
  "src/backend/wasm",
  "src/data",
  "src/finetune",
  "src/distributed",
];
/** folders inside the core that hold its Node-only half (exported from src/node.ts, "writtingnns/node") */
const NODE_HALF = ["src/data/node/"];
/**
 * Node-only files inside the core's folders: the wasm backend's worker-thread pool, loaded only by src/index-node.ts,
 * and the distributed launcher (worker_threads)
 */
const NODE_FILES = /^src\/(backend\/wasm|distributed)\/[\w-]+-node\.ts$/;
const isNodeOnly = (rel) => NODE_HALF.some((n) => rel.startsWith(n)) || NODE_FILES.test(rel);
const isCore = (file) => CORE.some((c) => file.startsWith(c)) && !isNodeOnly(file);
/** AssemblyScript sources (compiled to wasm by tools/build-wasm.mjs, not by tsc) */
const NOT_TS = /^src\/backend\/wasm\/assembly\//;
const NODE_ONLY = /^(node:|fs$|path$|os$|worker_threads$|child_process$|process$|url$|crypto$|zlib$)/;

const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith(".ts") && !p.endsWith(".d.ts")) files.push(p);
  }
};
walk("src");

/**
 * Files under src/models that belong to the recipes layer: a folder's recipe.ts / train.ts (they train the
 * model) and zoo.ts (its zoo entry names its recipes), and the zoo itself (zoo.ts, zoo-entry.ts). A model.ts
 * or hf.ts may not import them.
 */
const RECIPE_FILES = /^src\/models\/([\w-]+\/(recipe|train|zoo)|zoo|zoo-entry)\.ts$/;
const layerOf = (p) => {
  if (p.startsWith("src/data/node/")) return "src/data/node";
  if (RECIPE_FILES.test(p)) return "src/recipes";
  const parts = p.split("/");
  if (parts.length === 2) return p; // src/index.ts
  return parts.slice(0, 2).join("/");
};

const problems = [];
for (const file of files) {
  if (/\.test\.ts$/.test(file)) continue; // tests next to code may reach anywhere below cli
  if (NOT_TS.test(file)) continue;
  const src = readFileSync(file, "utf8");
  const layer = layerOf(file);
  const allowed = ALLOWED[layer];
  // import … from "x", export … from "x", import("x"), and side-effect imports: import "x"
  const re =
    /(?:import|export)\s[^'"]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|^\s*import\s+["']([^"']+)["']/gm;
  for (const m of src.matchAll(re)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec.startsWith(".")) {
      const target = normalize(join(dirname(file), spec)).replace(/\.js$/, ".ts");
      const tl = layerOf(relative(".", target));
      if (tl !== layer && allowed && !allowed.includes(tl))
        problems.push(
          `${file}: imports ${spec} (${tl}), but ${layer} may import only ${allowed.join(", ") || "itself"}`,
        );
      if (!tl.startsWith("src")) problems.push(`${file}: imports ${spec} outside src/`);
      const rel = relative(".", target);
      if (isCore(file) && isNodeOnly(rel))
        problems.push(`${file}: imports ${spec}, a Node-only file; the core must bundle for browsers`);
    } else if (NODE_ONLY.test(spec) && isCore(file)) {
      problems.push(`${file}: imports the Node-only module ${spec}; the core must bundle for browsers`);
    } else if (!NODE_ONLY.test(spec) && !spec.startsWith(".")) {
      if (isCore(file)) problems.push(`${file}: imports the package ${spec}; the core has no runtime dependencies`);
    }
  }
}
if (problems.length) {
  console.error(
    "check-layers: imports that point outward or break the core's rules:\n" + problems.map((p) => "  " + p).join("\n"),
  );
  process.exit(1);
}
console.log(`check-layers: ${files.length} files, imports point inward`);
