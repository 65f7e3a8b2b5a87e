// The quality tables of docs/compare/diffusion.md: `wnn generate --judge` over samplers, steps and guidance
// scales for one DDPM run, each setting in its own process, one markdown row per setting.
//
//   node tools/ddpm-quality.mjs --checkpoint runs/ddpm --judge runs/cnn --n 10 [--settings "ddim:20:3,ddim:10:3"] [--out table.md]
//
// A setting is sampler:steps:guidance (steps is ignored for ddpm, which takes all T). --n is digits per class.
// CPU time is user + system of the sampling (every thread), wall time the same on the clock, load the
// 1-minute load average when the row ended (the machine may be shared).
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
if (!args.checkpoint || !args.judge) {
  console.error(
    "usage: node tools/ddpm-quality.mjs --checkpoint DIR --judge DIR [--n 10] [--settings ddim:20:3,...] [--out FILE]",
  );
  process.exit(2);
}
const settings = (args.settings ?? "ddpm:1000:3,ddim:100:3,ddim:50:3,ddim:20:3,ddim:10:3,ddim:20:0,ddim:20:1,ddim:20:5")
  .split(",")
  .map((s) => {
    const [sampler, steps, guidance] = s.split(":");
    return { sampler, steps: Number(steps), guidance: Number(guidance) };
  });
const rows = [];
for (const s of settings) {
  const cmd = [
    "dist/cli/wnn.js",
    "generate",
    "--checkpoint",
    args.checkpoint,
    "--judge",
    args.judge,
    "--n",
    args.n ?? "10",
    "--sampler",
    s.sampler,
    "--steps",
    String(s.steps),
    "--guidance",
    String(s.guidance),
    "--seed",
    args.seed ?? "0",
    "--out",
    `${args.checkpoint}/${s.sampler}-${s.steps}-w${s.guidance}.png`,
  ];
  const r = spawnSync("node", cmd, { encoding: "utf8" });
  if (r.status !== 0) {
    console.error(r.stderr || r.stdout);
    process.exit(1);
  }
  const json = JSON.parse(r.stdout.split("\n").find((l) => l.startsWith("{")));
  const row = `| ${s.sampler === "ddpm" ? "DDPM" : "DDIM"} | ${json.steps} | ${s.guidance} | ${json.n} | ${(100 * json.accuracy).toFixed(1)}% | ${json.fd.toFixed(1)} | ${json.cpuSeconds.toFixed(1)} s | ${json.seconds.toFixed(0)} s | ${json.load.toFixed(1)} |`;
  console.log(row);
  rows.push({ row, floor: json.floor, ceiling: json.ceiling });
}
const head =
  "| sampler | steps | guidance w | digits | class accuracy | Fréchet distance | CPU time | wall time | load |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|";
const table = `${head}\n${rows.map((r) => r.row).join("\n")}\n\nFréchet distance of as many training digits (the floor): ${rows[0].floor.toFixed(1)}; of uniform noise (the ceiling): ${rows[0].ceiling.toFixed(1)}.\n`;
if (args.out) writeFileSync(args.out, table);
console.log("\n" + table);
