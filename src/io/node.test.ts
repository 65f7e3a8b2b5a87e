// The Node file layer: files round-trip, the lazy reader reads one tensor at a time, errors name the
// path, and atomic saves leave no temporary files behind. Kills during saves: test/io/crash.test.ts.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { LoadError, randn, tensor } from "../index.js";
import {
  loadCheckpoint,
  loadSafetensors,
  openSafetensors,
  saveCheckpoint,
  saveSafetensors,
  writeFileAtomic,
} from "./node.js";
import { serializeSafetensors } from "./safetensors.js";

const dir = mkdtempSync(join(tmpdir(), "wnn-io-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const isLoadError =
  (pattern: RegExp) =>
  (e: unknown): boolean =>
    e instanceof LoadError && pattern.test(e.message);

test("saveSafetensors writes serializeSafetensors' bytes; loadSafetensors reads them back", () => {
  const path = join(dir, "a.safetensors");
  const tensors = { w: randn([3, 4]), ids: tensor([1, 2], { dtype: "int32" }) };
  saveSafetensors(path, tensors, { format: "pt" });
  assert.deepEqual(new Uint8Array(readFileSync(path)), serializeSafetensors(tensors, { format: "pt" }));
  const back = loadSafetensors(path);
  assert.deepEqual([...back.tensors["w"]!.storage], [...tensors.w.storage]);
  assert.deepEqual(back.metadata, { format: "pt" });
  // overwrite: the new content replaces the old, and no temporary file is left
  saveSafetensors(path, { x: tensor([5]) });
  assert.deepEqual(Object.keys(loadSafetensors(path).tensors), ["x"]);
  assert.deepEqual(
    readdirSync(dir).filter((n) => n.startsWith("a.safetensors")),
    ["a.safetensors"],
  );
});

test("openSafetensors reads the header, then one tensor at a time", () => {
  const path = join(dir, "lazy.safetensors");
  const tensors = { big: randn([64, 32]), small: tensor([1, 2, 3], { dtype: "float64" }), flag: tensor([true]) };
  saveSafetensors(path, tensors, { k: "v" });
  const r = openSafetensors(path);
  try {
    assert.deepEqual(r.metadata, { k: "v" });
    assert.deepEqual(r.entries.map((e) => e.name).sort(), ["big", "flag", "small"]);
    assert.ok(r.has("small") && !r.has("nope"));
    assert.deepEqual([...r.read("small").storage], [1, 2, 3]);
    assert.deepEqual([...r.read("big").storage], [...tensors.big.storage]);
    assert.throws(() => r.read("nope"), isLoadError(/no tensor named "nope"/));
  } finally {
    r.close();
  }
  assert.throws(() => r.read("small"), /after close/);
  // a damaged header is caught when opening, with the path in the message
  const bad = new Uint8Array(readFileSync(path));
  bad[8] = 0x5b; // "[" instead of "{"
  writeFileSync(join(dir, "bad.safetensors"), bad);
  assert.throws(
    () => openSafetensors(join(dir, "bad.safetensors")),
    isLoadError(/bad\.safetensors: safetensors: the header does not start with/),
  );
  // a file cut short is caught too: the offsets no longer fit the data section
  writeFileSync(join(dir, "short.safetensors"), readFileSync(path).subarray(0, 200));
  assert.throws(() => openSafetensors(join(dir, "short.safetensors")), LoadError);
});

test("missing and corrupted files are LoadErrors naming the path", () => {
  assert.throws(
    () => loadSafetensors(join(dir, "missing.safetensors")),
    isLoadError(/missing\.safetensors: cannot open/),
  );
  assert.throws(() => loadCheckpoint(join(dir, "missing.ckpt")), isLoadError(/missing\.ckpt: cannot open/));
  writeFileSync(join(dir, "junk.ckpt"), "not a checkpoint at all");
  assert.throws(() => loadCheckpoint(join(dir, "junk.ckpt")), isLoadError(/junk\.ckpt: safetensors: header length/));
});

test("saveCheckpoint / loadCheckpoint", () => {
  const path = join(dir, "run.ckpt");
  saveCheckpoint(path, {
    model: { w: tensor([1, 2, 3]) },
    optimizer: { tensors: { "m.w": tensor([0, 0, 1]) }, json: { lr: 0.1 } },
    step: 42,
    dataPosition: 99,
    config: { a: 1 },
  });
  const c = loadCheckpoint(path);
  assert.equal(c.step, 42);
  assert.equal(c.dataPosition, 99);
  assert.deepEqual([...c.model["w"]!.storage], [1, 2, 3]);
  assert.deepEqual([...c.optimizer!.tensors["m.w"]!.storage], [0, 0, 1]);
  assert.deepEqual(c.optimizer!.json, { lr: 0.1 });
});

test("a failed save leaves nothing behind; saves remove temporaries of dead processes only", () => {
  assert.throws(() => writeFileAtomic(join(dir, "no-such-dir", "x.bin"), [new Uint8Array(4)]), /ENOENT/);
  const path = join(dir, "t.bin");
  const dead = spawnSync(process.execPath, ["-e", "0"]).pid!; // a process that has exited
  writeFileSync(`${path}.tmp-${dead}-aaaa`, "stale");
  writeFileSync(`${path}.tmp-${process.ppid}-bbbb`, "a live process's save in progress");
  writeFileAtomic(path, [new Uint8Array([1, 2]), new Uint8Array([3])]);
  assert.deepEqual([...readFileSync(path)], [1, 2, 3]);
  assert.equal(existsSync(`${path}.tmp-${dead}-aaaa`), false);
  assert.equal(existsSync(`${path}.tmp-${process.ppid}-bbbb`), true);
});
