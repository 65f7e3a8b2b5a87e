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
  "src/io": ["src/engine", "src/ops", "src/nn"],
  "src/models": ["src/engine", "src/ops", "src/nn", "src/optim", "src/data", "src/io"],
  "src/index.ts": ["src/engine", "src/backend", "src/ops", "src/nn", "src/optim", "src/data", "src/io", "src/models"],
  // the Node entry point: the library plus the Node-only thread pool of the wasm backend
  "src/node.ts": ["src/index.ts", "src/backend"],
};
/** layers that must bundle for the browser: no Node built-ins */
const CORE = ["src/engine", "src/ops", "src/nn", "src/optim", "src/models", "src/backend/reference", "src/backend/backend.ts", "src/backend/wasm"];
/** Node-only files inside the core's folders, loaded only by src/node.ts (and their own workers) */
const NODE_FILES = /^src\/backend\/wasm\/[\w-]+-node\.ts$/;
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

const layerOf = (p) => {
  const parts = p.split("/");
  if (parts.length === 2) return p; // src/index.ts
  return parts.slice(0, 2).join("/");
};

const problems = [];
for (const file of files) {
  if (/\.test\.ts$/.test(file)) continue; // tests next to code may reach anywhere below cli
  if (NOT_TS.test(file)) continue;
  const isCore = CORE.some((c) => file.startsWith(c)) && !NODE_FILES.test(file);
  const src = readFileSync(file, "utf8");
  const layer = layerOf(file);
  const allowed = ALLOWED[layer];
  const re = /(?:import|export)\s[^'"]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;
  for (const m of src.matchAll(re)) {
    const spec = m[1] ?? m[2];
    if (spec.startsWith(".")) {
      if (isCore && NODE_FILES.test(relative(".", normalize(join(dirname(file), spec)).replace(/\.js$/, ".ts"))))
        problems.push(`${file}: imports the Node-only file ${spec}; only src/node.ts may load it`);
      const target = normalize(join(dirname(file), spec)).replace(/\.js$/, ".ts");
      const tl = layerOf(relative(".", target));
      if (tl !== layer && allowed && !allowed.includes(tl)) problems.push(`${file}: imports ${spec} (${tl}), but ${layer} may import only ${allowed.join(", ") || "itself"}`);
      if (!tl.startsWith("src")) problems.push(`${file}: imports ${spec} outside src/`);
    } else if (NODE_ONLY.test(spec) && isCore) {
      problems.push(`${file}: imports the Node-only module ${spec}; the core must bundle for browsers`);
    } else if (!NODE_ONLY.test(spec) && !spec.startsWith(".")) {
      if (isCore) problems.push(`${file}: imports the package ${spec}; the core has no runtime dependencies`);
    }
  }
}
if (problems.length) {
  console.error("check-layers: imports that point outward or break the core's rules:\n" + problems.map((p) => "  " + p).join("\n"));
  process.exit(1);
}
console.log(`check-layers: ${files.length} files, imports point inward`);
