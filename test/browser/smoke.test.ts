// Browser smoke test: the core, bundled by esbuild for the browser (no Node built-ins may sneak in),
// trains a small MLP inside headless Chromium (Debian's `chromium`, driven by playwright-core).
// .ci/run installs chromium; where /usr/bin/chromium is absent this test is skipped and says so.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { test } from "node:test";

const CHROMIUM = process.env.WNN_CHROMIUM ?? "/usr/bin/chromium";

/** The page's job: a 2 → 16 → 2 tanh MLP learns XOR-of-signs on 64 seeded points with gradient descent. */
function trainInPage(): { first: number; last: number; accuracy: number; backend: string } {
  const w = (globalThis as unknown as { wnn: typeof import("../../src/index.js") }).wnn;
  const F = w.nn.functional;
  const g = new w.Generator(0);
  const x = w.rand([64, 2], { generator: g }).mul(2).sub(1); // (64, 2) in [−1, 1)²
  const xs = x.storage;
  const labels = new Int32Array(64);
  for (let i = 0; i < 64; i++) labels[i] = xs[2 * i]! * xs[2 * i + 1]! > 0 ? 1 : 0;
  const y = w.tensor(labels);
  const W1 = w.randn([16, 2], { generator: g }).requiresGrad_();
  const b1 = w.zeros([16], { requiresGrad: true });
  const W2 = w.randn([2, 16], { generator: g }).mul(0.25).detach().requiresGrad_();
  const b2 = w.zeros([2], { requiresGrad: true });
  const params = [W1, b1, W2, b2];
  const opt = new w.optim.Adam(params, { lr: 0.05 });
  let first = NaN,
    last = NaN;
  for (let step = 0; step < 300; step++) {
    const loss = F.crossEntropy(F.linear(F.tanh(F.linear(x, W1, b1)), W2, b2), y);
    opt.zeroGrad();
    loss.backward();
    opt.step();
    if (step === 0) first = loss.item();
    last = loss.item();
  }
  const accuracy = w.noGrad(() =>
    F.linear(F.tanh(F.linear(x, W1, b1)), W2, b2)
      .argmax(1)
      .eq(y)
      .float()
      .mean()
      .item(),
  );
  return { first, last, accuracy, backend: w.getBackend() };
}

test(
  "the core bundle trains an MLP in headless Chromium",
  { skip: existsSync(CHROMIUM) ? false : `no browser at ${CHROMIUM} (apt-get install -y chromium)`, timeout: 120_000 },
  async () => {
    const esbuild = await import("esbuild");
    const bundle = await esbuild.build({
      entryPoints: [new URL("../../src/index.js", import.meta.url).pathname],
      bundle: true,
      format: "iife",
      globalName: "wnn",
      platform: "browser",
      write: false,
    });
    const code = bundle.outputFiles[0]!.text;
    const { chromium } = await import("playwright-core");
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.setContent("<!doctype html><title>wnn</title>");
      await page.addScriptTag({ content: code });
      const r = (await page.evaluate(`(${trainInPage.toString()})()`)) as ReturnType<typeof trainInPage>;
      assert.deepEqual(errors, []);
      assert.equal(r.backend, "wasm"); // the default where WebAssembly SIMD exists (a page without cross-origin isolation: one thread, plain memory)
      assert.ok(r.last < r.first / 4, `loss fell from ${r.first} to ${r.last}`);
      assert.ok(r.accuracy >= 0.95, `training accuracy ${r.accuracy}`);
    } finally {
      await browser.close();
    }
  },
);
