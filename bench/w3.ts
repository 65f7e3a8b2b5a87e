// W3 — GPT-2 small inference, batch 1 (../shared/peers/README.md): 12 layers, 12 heads, 768 wide, vocab
// 50257, 1024 positions, biases, tied head, random weights (GPT-2's init), 124,439,808 parameters.
//   forward: one pass over 128 random tokens, logits for all 128 positions (1, 128, 50257); 2 warm-up,
//     median of 10.
//   generate: greedy, 64 new tokens with a KV cache after a 128-token prompt: the prefill runs the prompt
//     once and takes the last position's logits (token 1), then 63 one-token decode steps (tokens 2…64);
//     1 warm-up, median of 3: total ms, tokens/s = 64/total, prefill ms, decode ms/token. Untimed check:
//     a cache-free forward over prompt + generated tokens predicts the same 64 tokens.
// Each forward and each generation runs inside one wnn.tidy and one noGrad call, as the project's own
// generation does (activations in wasm memory, freed at the end of the call; so the wasm
// backend keeps the weights in its memory for that call: MatmulParams.constantB).
//
// The model is src/models/gpt2/model.ts's GPT, whose GELU is the tanh form (GPT-2's own; the peers use
// the exact erf form) and whose q, k, v are three Linears instead of one fused c_attn: same parameter
// count, same FLOPs. The KV cache grows by one `cat` per step (the peers' PyTorch preallocates it).

import * as wnn from "../src/index-node.js";
import { GPT, gptConfig, KVCache } from "../src/models/gpt2/model.js";
import { median } from "./timing.js";

export const W3_CONFIG = gptConfig("gpt2");
export const W3_CTX = 128;
export const W3_NEW = 64;

export interface W3Result {
  params_total: number;
  forward: { median_ms: number; min_ms: number; runs: number };
  generate: {
    median_ms: number;
    tokens_per_s_total_at_median: number;
    prefill_median_ms: number;
    decode_median_ms_per_token: number;
    decode_tokens_per_s_at_median: number;
    runs: number;
  };
  kv_cache_matches_full_forward: boolean;
  peak_rss_mib: number;
}

export interface W3Options {
  fwdWarmup?: number;
  fwdRuns?: number;
  genWarmup?: number;
  genRuns?: number;
}

/** The index of the largest of n values of a row (first on ties). */
function argmax(x: ArrayLike<number>, offset: number, n: number): number {
  let best = 0;
  for (let j = 1; j < n; j++) if (x[offset + j]! > x[offset + best]!) best = j;
  return best;
}

const tokens = (ids: number[]): wnn.Tensor => new wnn.Tensor(Int32Array.from(ids), [1, ids.length]);

/** Greedy generation with the KV cache: the tokens, prefill and decode seconds (ms). */
export function greedy(
  model: GPT,
  prompt: number[],
  nNew: number,
): { toks: number[]; prefillMs: number; decodeMs: number; decodeCpuMs: number } {
  return wnn.tidy("w3 generate", () =>
    wnn.noGrad(() => {
      const V = model.config.vocabSize;
      const t0 = performance.now();
      const cache = new KVCache(model.config.nLayer);
      // prefill: the prompt once, logits for its last position only
      let h = model.hidden(tokens(prompt), cache); // (1, T0, C)
      let logits = model.lmHead.forward(h.narrow(1, prompt.length - 1, 1)); // (1, 1, V)
      const toks = [argmax(logits.storage, 0, V)];
      const t1 = performance.now();
      const c1 = process.cpuUsage(); // the process's CPU time (all threads) of the decode steps
      for (let i = 0; i < nNew - 1; i++) {
        h = model.hidden(tokens([toks[toks.length - 1]!]), cache); // (1, 1, C)
        logits = model.lmHead.forward(h); // (1, 1, V)
        toks.push(argmax(logits.storage, 0, V));
      }
      const c = process.cpuUsage(c1);
      return { toks, prefillMs: t1 - t0, decodeMs: performance.now() - t1, decodeCpuMs: (c.user + c.system) / 1000 };
    }),
  );
}

export function runW3(log: (line: string) => void, o: W3Options = {}): W3Result {
  const { fwdWarmup = 2, fwdRuns = 10, genWarmup = 1, genRuns = 3 } = o;
  wnn.manualSeed(0);
  const model = new GPT(W3_CONFIG);
  model.eval();
  const g = new wnn.Generator(7);
  const prompt = Array.from({ length: W3_CTX }, () => Math.floor(g.random() * W3_CONFIG.vocabSize));
  const x = tokens(prompt);

  const times: number[] = [];
  for (let i = 0; i < fwdWarmup + fwdRuns; i++) {
    const t0 = performance.now();
    wnn.tidy("w3 forward", () => {
      wnn.noGrad(() => model.forward(x).logits);
    }); // (1, 128, 50257), freed at once
    if (i >= fwdWarmup) times.push(performance.now() - t0);
  }
  const fwd = { median_ms: median(times), min_ms: Math.min(...times), runs: fwdRuns };
  log(
    `  w3 GPT-2-small forward (1x${W3_CTX}, all-position logits): median ${fwd.median_ms.toFixed(1)} ms (best ${fwd.min_ms.toFixed(1)}, runs=${fwdRuns})`,
  );

  for (let i = 0; i < genWarmup; i++) greedy(model, prompt, W3_NEW);
  const totals: number[] = [],
    prefills: number[] = [],
    decodes: number[] = [];
  let toks: number[] = [];
  for (let i = 0; i < genRuns; i++) {
    const r = greedy(model, prompt, W3_NEW);
    toks = r.toks;
    totals.push(r.prefillMs + r.decodeMs);
    prefills.push(r.prefillMs);
    decodes.push(r.decodeMs);
  }
  // untimed: a cache-free forward over prompt + generated[:-1] predicts the same tokens
  const full = wnn.noGrad(() => model.forward(tokens([...prompt, ...toks.slice(0, -1)])).logits); // (1, 191, V)
  const V = W3_CONFIG.vocabSize;
  const check = toks.every((t, i) => argmax(full.storage, (W3_CTX - 1 + i) * V, V) === t);
  const total = median(totals),
    decode = median(decodes);
  const gen = {
    median_ms: total,
    tokens_per_s_total_at_median: W3_NEW / (total * 1e-3),
    prefill_median_ms: median(prefills),
    decode_median_ms_per_token: decode / (W3_NEW - 1),
    decode_tokens_per_s_at_median: (W3_NEW - 1) / (decode * 1e-3),
    runs: genRuns,
  };
  log(
    `  w3 generate ${W3_NEW} tokens (prefill ${W3_CTX}): median total ${total.toFixed(0)} ms = ${gen.tokens_per_s_total_at_median.toFixed(2)} tok/s; prefill ${gen.prefill_median_ms.toFixed(0)} ms, decode ${gen.decode_median_ms_per_token.toFixed(1)} ms/tok; kv-check ${check}`,
  );
  return {
    params_total: model.numParameters(),
    forward: fwd,
    generate: gen,
    kv_cache_matches_full_forward: check,
    peak_rss_mib: process.resourceUsage().maxRSS / 1024,
  };
}
