// Crash safety: a child process saving checkpoints in a loop is killed with SIGKILL at random moments;
// after every kill the checkpoint path must load, as the last checkpoint the child reported saved or
// the one it was saving. (SIGKILL stops the process, not the machine: what fsync adds against power
// loss cannot be tested here.)
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { Generator } from "../../src/index.js";
import { loadCheckpoint, saveCheckpoint } from "../../src/io/node.js";
import { N, checkpointFor } from "./crash-shared.js";

const dir = mkdtempSync(join(tmpdir(), "wnn-crash-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const child = new URL("./crash-child.js", import.meta.url).pathname;

/** Start the child, wait for "ready", kill it `delayMs` later; resolve with the last step it reported saved. */
function runAndKill(path: string, start: number, delayMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child, path, String(start)], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    let lastSaved = start - 1,
      armed = false;
    p.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (!armed && out.startsWith("ready\n")) {
        armed = true;
        setTimeout(() => p.kill("SIGKILL"), delayMs);
      }
      for (const m of out.matchAll(/saved (\d+)\n/g)) lastSaved = Math.max(lastSaved, Number(m[1]));
    });
    p.on("error", reject);
    p.on("exit", (_code, signal) =>
      signal === "SIGKILL" ? resolve(lastSaved) : reject(new Error(`child exited without being killed: ${out}`)),
    );
  });
}

test(
  "a checkpoint killed mid-save (SIGKILL, 24 times) always loads as the old or the new one",
  { timeout: 60_000 },
  async () => {
    const path = join(dir, "run.ckpt");
    saveCheckpoint(path, checkpointFor(0));
    const rng = new Generator(7);
    let step = 0,
      midSave = 0,
      progressed = 0;
    for (let kill = 0; kill < 24; kill++) {
      const delay = rng.random() * 60; // ms after the child is ready: lands before, during and between saves
      const lastSaved = await runAndKill(path, step + 1, delay);
      if (readdirSync(dir).some((n) => n.includes(".tmp-"))) midSave++;
      const c = loadCheckpoint(path); // must not throw
      assert.ok(
        c.step === lastSaved || c.step === lastSaved + 1,
        `kill ${kill}: loaded step ${c.step}, the child had saved ${lastSaved}`,
      );
      assert.ok(c.step >= step, `kill ${kill}: went back from step ${step} to ${c.step}`);
      const w = c.model["w"]!.storage;
      assert.equal(w.length, N);
      for (let i = 0; i < N; i += 997)
        assert.equal(w[i], Math.fround(c.step + i / N), `kill ${kill}: w[${i}] is not step ${c.step}'s`);
      if (c.step > step) progressed++;
      step = c.step;
    }
    assert.ok(midSave >= 1, "no kill landed in the middle of a save");
    assert.ok(progressed >= 1, "the children never completed a save");
    // the next save removes the dead children's temporary files
    saveCheckpoint(path, checkpointFor(step + 1));
    assert.deepEqual(readdirSync(dir), ["run.ckpt"]);
    console.log(`crash test: 24 kills, ${midSave} mid-save, final step ${step}`);
  },
);
