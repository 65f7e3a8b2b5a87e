// The runner of the hostile-input corpus: every case in a child process of its own, a few at a time,
// each judged on four things:
//   hang      still running after HANG_MS of wall time (then killed): never acceptable
//   time      more than CPU_MS of CPU time (user + system; wall time on a shared machine says little)
//   memory    a peak resident set above RSS_MB
//   outcome   a library case must end "ok" or "typed" (one of the library's errors), as the case expects;
//             a command-line case must exit as expected, with at most one line on stderr per failure and
//             no stack trace ("    at ...") in its output
import { spawn } from "node:child_process";
import { chmodSync, existsSync, readFileSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

export const HANG_MS = 30_000;
export const CPU_MS = 2_000;
export const RSS_MB = 300;

const CHILD = fileURLToPath(new URL("./child.js", import.meta.url));
const PROBE = fileURLToPath(new URL("./probe.js", import.meta.url));
const WNN = fileURLToPath(new URL("../../cli/wnn.js", import.meta.url));

/** What a case may end in: "error" a typed refusal only; "any" accepted or refused (mutation fuzzing); "ok" accepted. */
export type Expect = "error" | "any" | "ok";

export interface Case {
  /** the input's format, for the counts: safetensors, hf-folder, tokenizer.json, config.json, checkpoint, cli, tensor, ... */
  format: string;
  /** what the case is, in a few words (shown when it fails) */
  name: string;
  /** a library case: an op of ./child.ts and its arguments; a command-line case: wnn's arguments */
  lib?: { op: string; args: string[] };
  cli?: { argv: string[]; cwd: string; stderr?: RegExp };
  expect: Expect;
  /** files that must be byte-for-byte the same after the case (a command must not replace them) */
  keep?: string[];
  /**
   * folders the case must find read-only. Run as root (where permissions do not stop writes), the case runs as
   * the unprivileged user `nobody` (setpriv), for whom the root-owned folders are read-only; otherwise the
   * folders are made read-only (chmod 555) for the case and restored after it.
   */
  readOnly?: string[];
}

/** How a read-only case is run here: as nobody through setpriv (root), by chmod (another user), or not at all (root without setpriv). */
export const READ_ONLY_MODE: "setpriv" | "chmod" | null =
  process.getuid?.() !== 0 ? "chmod" : existsSync("/usr/bin/setpriv") && othersCanRun() ? "setpriv" : null;

/** Whether another user can reach node and this build (every folder above them searchable by others). */
function othersCanRun(): boolean {
  for (const file of [process.execPath, fileURLToPath(new URL("../../cli/wnn.js", import.meta.url))]) {
    for (let d = dirname(file); ; d = dirname(d)) {
      if ((statSync(d).mode & 0o001) === 0) return false;
      if (dirname(d) === d) break;
    }
  }
  return true;
}

export interface Result {
  case: Case;
  outcome: "ok" | "typed" | "raw" | "hang" | "refused";
  errorClass?: string;
  message: string;
  cpuMs: number;
  rssMB: number;
  /** why the case fails, or null when it passes */
  problem: string | null;
}

function runOne(c: Case): Promise<Result> {
  const kept = (c.keep ?? []).map((p) => [p, readFileSync(p)] as const);
  const argv = [
    process.execPath,
    "--import",
    PROBE,
    ...(c.lib ? [CHILD, c.lib.op, ...c.lib.args] : [WNN, ...c.cli!.argv]),
  ];
  const asNobody = c.readOnly !== undefined && READ_ONLY_MODE === "setpriv";
  if (c.readOnly && READ_ONLY_MODE === "chmod") for (const d of c.readOnly) chmodSync(d, 0o555);
  const restore = (): void => {
    if (c.readOnly && READ_ONLY_MODE === "chmod") for (const d of c.readOnly) chmodSync(d, 0o755);
  };
  return new Promise((resolve) => {
    // setpriv execs node in its own process: the probe's fd 3 and the exit code are node's
    const child = spawn(
      asNobody ? "/usr/bin/setpriv" : process.execPath,
      asNobody ? ["--reuid=65534", "--regid=65534", "--clear-groups", ...argv] : argv.slice(1),
      {
        cwd: c.cli?.cwd,
        stdio: ["ignore", "pipe", "pipe", "pipe"],
        env: { ...process.env, WNN_DEBUG: "" },
      },
    );
    let stdout = "",
      stderr = "",
      probe = "",
      hung = false;
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    (child.stdio[3] as NodeJS.ReadableStream).on("data", (d) => (probe += d));
    const timer = setTimeout(() => {
      hung = true;
      child.kill("SIGKILL");
    }, HANG_MS);
    child.on("close", (code) => {
      clearTimeout(timer);
      restore();
      let cpuMs = NaN,
        rssMB = NaN;
      try {
        const p = JSON.parse(probe.trim().split("\n").pop()!) as { maxRssKB: number; cpuMs: number };
        cpuMs = p.cpuMs;
        rssMB = p.maxRssKB / 1024;
      } catch {
        // killed: no report
      }
      const r: Result = { case: c, outcome: "raw", message: "", cpuMs, rssMB, problem: null };
      const problems: string[] = [];
      if (hung) {
        r.outcome = "hang";
        problems.push(`still running after ${HANG_MS} ms`);
      } else if (c.lib) {
        try {
          const line = JSON.parse(stdout.trim().split("\n").pop() ?? "") as {
            outcome: Result["outcome"];
            class?: string;
            message?: string;
          };
          r.outcome = line.outcome;
          r.errorClass = line.class;
          r.message = line.message ?? "";
        } catch {
          r.message = (stderr || stdout).slice(0, 300);
          problems.push(`the child crashed (exit ${code})`);
        }
        if (r.outcome === "raw") problems.push(`a raw ${r.errorClass}: ${r.message}`);
        if (c.expect === "error" && r.outcome === "ok") problems.push("accepted, expected a typed error");
        if (c.expect === "ok" && r.outcome !== "ok") problems.push(`refused, expected acceptance: ${r.message}`);
      } else {
        r.outcome = code === 0 ? "ok" : "refused";
        r.message = stderr.trim().split("\n")[0] ?? "";
        const lines = stderr.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("warning: "));
        if (/^\s+at .+[(:]\d+/m.test(stdout + stderr)) problems.push("a stack trace in the output");
        if (code !== 0 && lines.length !== 1) problems.push(`${lines.length} lines on stderr, expected one`);
        if (code !== 0 && !/^wnn: /.test(lines[0] ?? "")) problems.push("stderr does not start with wnn:");
        if (c.expect === "error" && code === 0) problems.push("exit code 0, expected a refusal");
        if (c.expect === "ok" && code !== 0) problems.push(`exit code ${code}: ${stderr.trim()}`);
        if (c.cli!.stderr && !c.cli!.stderr.test(stderr))
          problems.push(`stderr does not match ${c.cli!.stderr}: ${stderr.trim()}`);
      }
      if (cpuMs > CPU_MS) problems.push(`${cpuMs.toFixed(0)} ms of CPU time, over ${CPU_MS}`);
      if (rssMB > RSS_MB) problems.push(`${rssMB.toFixed(0)} MB resident, over ${RSS_MB}`);
      for (const [p, before] of kept) {
        let after: Buffer | null = null;
        try {
          after = readFileSync(p);
        } catch {
          // removed
        }
        if (after === null || !after.equals(before)) problems.push(`${p} was replaced or removed`);
      }
      r.problem = problems.length ? problems.join("; ") : null;
      resolve(r);
    });
  });
}

/** Run every case, `pool` at a time; results in the cases' order. */
export async function runCases(cases: readonly Case[], pool = 2): Promise<Result[]> {
  const results: Result[] = new Array(cases.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < cases.length) {
      const k = next++;
      results[k] = await runOne(cases[k]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(pool, cases.length) }, worker));
  return results;
}

/** Counts by format and outcome, as a table for the test's output. */
export function summary(results: readonly Result[]): string {
  const formats = [...new Set(results.map((r) => r.case.format))];
  const outcomes = ["typed", "refused", "ok", "raw", "hang"] as const;
  const most = (rs: readonly Result[], k: "cpuMs" | "rssMB"): string =>
    String(Math.round(Math.max(0, ...rs.map((r) => (Number.isFinite(r[k]) ? r[k] : 0)))));
  const row = (name: string, rs: readonly Result[]): string[] => [
    name,
    String(rs.length),
    ...outcomes.map((o) => String(rs.filter((r) => r.outcome === o).length)),
    String(rs.filter((r) => r.problem).length),
    most(rs, "cpuMs"),
    most(rs, "rssMB"),
  ];
  const rows = formats.map((f) =>
    row(
      f,
      results.filter((r) => r.case.format === f),
    ),
  );
  const head = [
    "format",
    "cases",
    "typed error",
    "CLI refusal",
    "accepted",
    "raw error",
    "hang",
    "failing",
    "max CPU ms",
    "max RSS MB",
  ];
  const all = [head, ...rows, row("all", results)];
  const w = head.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  return all.map((r) => r.map((x, i) => (i === 0 ? x.padEnd(w[i]!) : x.padStart(w[i]!))).join("  ")).join("\n");
}

/** The `n` cases that took the most CPU time, one a line: their CPU ms, peak RSS MB, format and name. */
export function slowest(results: readonly Result[], n: number): string {
  return [
    `the ${n} slowest cases (CPU ms, peak RSS MB, format: name):`,
    ...[...results]
      .filter((r) => Number.isFinite(r.cpuMs))
      .sort((a, b) => b.cpuMs - a.cpuMs)
      .slice(0, n)
      .map(
        (r) => `${r.cpuMs.toFixed(0).padStart(6)}  ${r.rssMB.toFixed(0).padStart(4)}  ${r.case.format}: ${r.case.name}`,
      ),
  ].join("\n");
}
