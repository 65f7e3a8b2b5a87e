"""The PyTorch peer of `wnn train gpt`: the same GPT, hyper-parameters, schedule, iterations and loss
estimates, trained on the same tokens (the stream tools/peers/export-moby.mjs writes from our
loadMobyDick + CharTokenizer + trainValSplit). Plain torch (1.13), written from the papers:

  Radford et al. 2019, "Language Models are Unsupervised Multitask Learners" (GPT-2: pre-LN blocks, a
    final LayerNorm, residual projections initialised with std 0.02/sqrt(2*n_layer));
  Vaswani et al. 2017, "Attention Is All You Need" (masked multi-head scaled dot-product attention);
  Press & Wolf 2017 (the output head tied to the token embedding);
  Loshchilov & Hutter 2019 (AdamW, decoupled weight decay).

The recipe is the one of src/models/gpt2/train.ts (CPU_TRAIN):
  batch 12 x 64 tokens; AdamW betas (0.9, 0.99), eps 1e-8, weight decay 0.1 on >= 2-D parameters only;
  lr(it) = 1e-3*(it+1)/101 for it < 100, then cosine from 1e-3 to 1e-4 at it = 2000; the global gradient
  norm clipped to 1.0; 2,000 steps; train and val loss estimated (eval mode, no grad) on 20 random
  batches of each split at steps 0, 250, ..., 2000.

Two modes:
  default       torch's own initial weights (torch.manual_seed) and its own random batches
                (torch.Generator seeded with the seed): an independent replication;
  --ours DIR    start from OUR initial weights (DIR/ours-init.safetensors) and take OUR batches (the
                window offsets in DIR/ours-stream.json, both written by export-moby.mjs): the same
                weights and the same data in the same order as `wnn train gpt`, so only the arithmetic
                differs. It first checks that the torch model gives our loss on the first batch.

Run (2 threads, OpenBLAS built with OpenMP; see /work/shared/peers/README.md; OMP_WAIT_POLICY=PASSIVE
because on a loaded machine OpenMP's spinning threads make a step ~10x slower):

  node tools/peers/export-moby.mjs runs/moby-tokens
  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 OMP_WAIT_POLICY=PASSIVE \\
    /usr/bin/python3 tools/peers/gpt_moby_torch.py --data runs/moby-tokens --out runs/gpt-moby-torch/result.json [--ours runs/moby-tokens]
"""

import argparse
import hashlib
import json
import math
import os
import platform
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


# ------------------------------------------------------------------------------------------------
# The model


class SelfAttention(nn.Module):
    """Masked multi-head self-attention with separate q, k, v projections (as our model.ts)."""

    def __init__(self, n_embd, n_head, bias):
        super().__init__()
        self.n_head = n_head
        self.q = nn.Linear(n_embd, n_embd, bias=bias)
        self.k = nn.Linear(n_embd, n_embd, bias=bias)
        self.v = nn.Linear(n_embd, n_embd, bias=bias)
        self.out = nn.Linear(n_embd, n_embd, bias=bias)  # writes into the residual stream

    def forward(self, x):
        B, T, C = x.shape
        hs = C // self.n_head

        def heads(t):  # (B, T, C) -> (B, nh, T, hs)
            return t.view(B, T, self.n_head, hs).transpose(1, 2)

        q, k, v = heads(self.q(x)), heads(self.k(x)), heads(self.v(x))
        # softmax(q k^T / sqrt(hs) + M) v, M = -inf above the diagonal (a token sees itself and its past)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(hs)  # (B, nh, T, T)
        future = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)
        att = scores.masked_fill(future, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)  # heads side by side again
        return self.out(y)


class FeedForward(nn.Module):
    """Linear(C, 4C) -> GELU (tanh approximation, as GPT-2 and our model.ts) -> Linear(4C, C)."""

    def __init__(self, n_embd, bias):
        super().__init__()
        self.up = nn.Linear(n_embd, 4 * n_embd, bias=bias)
        self.down = nn.Linear(4 * n_embd, n_embd, bias=bias)  # writes into the residual stream

    def forward(self, x):
        return self.down(F.gelu(self.up(x), approximate="tanh"))


class Block(nn.Module):
    """Pre-LN: x = x + attn(LN1(x)); x = x + mlp(LN2(x))."""

    def __init__(self, n_embd, n_head, bias):
        super().__init__()
        self.ln1 = nn.LayerNorm(n_embd, elementwise_affine=True)  # eps 1e-5, weight and bias
        self.attn = SelfAttention(n_embd, n_head, bias)
        self.ln2 = nn.LayerNorm(n_embd, elementwise_affine=True)
        self.mlp = FeedForward(n_embd, bias)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    def __init__(self, vocab_size, block_size, n_layer, n_head, n_embd, bias=True):
        super().__init__()
        assert bias, "the tiny preset has biases (LayerNorm without bias needs torch >= 2.1)"
        self.tok = nn.Embedding(vocab_size, n_embd)
        self.pos = nn.Embedding(block_size, n_embd)
        self.blocks = nn.ModuleList([Block(n_embd, n_head, bias) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd)
        # GPT-2 init: weights and embeddings N(0, 0.02), biases 0, LayerNorm 1/0 (its default), the two
        # residual-stream projections N(0, 0.02/sqrt(2L))
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, 0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Embedding):
                nn.init.normal_(m.weight, 0.0, 0.02)
        for b in self.blocks:
            nn.init.normal_(b.attn.out.weight, 0.0, 0.02 / math.sqrt(2 * n_layer))
            nn.init.normal_(b.mlp.down.weight, 0.0, 0.02 / math.sqrt(2 * n_layer))

    def forward(self, idx, targets=None):
        B, T = idx.shape
        x = self.tok(idx) + self.pos(torch.arange(T, device=idx.device))  # (B, T, C)
        for b in self.blocks:
            x = b(x)
        logits = self.ln_f(x) @ self.tok.weight.t()  # the head tied to the token embedding: (B, T, V)
        loss = None if targets is None else F.cross_entropy(logits.view(B * T, -1), targets.view(B * T))
        return logits, loss


def count_formula(V, T, L, C):
    """Parameters from the equations (tied head once), as countParameters in model.ts."""
    norm = 2 * C
    attn = 4 * (C * C + C)
    mlp = C * 4 * C + 4 * C + 4 * C * C + C
    return V * C + T * C + L * (2 * norm + attn + mlp) + norm


# ------------------------------------------------------------------------------------------------
# The recipe


def lr_at(it, lr, min_lr, warmup, decay_iters):
    """nanoGPT's get_lr, as cosineWithWarmup in src/optim/schedulers.ts."""
    if it < warmup:
        return lr * (it + 1) / (warmup + 1)
    if it > decay_iters or decay_iters == warmup:
        return min_lr
    ratio = (it - warmup) / (decay_iters - warmup)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (lr - min_lr)


def get_batch(data, block_size, batch_size, generator):
    """Random windows: x = data[i:i+T], y = data[i+1:i+1+T], i uniform in [0, len - T)."""
    ix = torch.randint(len(data) - block_size, (batch_size,), generator=generator)
    x = torch.stack([data[i : i + block_size] for i in ix.tolist()])
    y = torch.stack([data[i + 1 : i + 1 + block_size] for i in ix.tolist()])
    return x, y


def windows(data, offsets, block_size):
    """The batch whose rows start at these offsets (our getBatch's draw, replayed)."""
    x = torch.stack([data[i : i + block_size] for i in offsets])
    y = torch.stack([data[i + 1 : i + 1 + block_size] for i in offsets])
    return x, y


def read_safetensors(path):
    """A safetensors file (float32 tensors only): u64 little-endian header length, JSON header, data."""
    with open(path, "rb") as f:
        raw = f.read()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        assert e["dtype"] == "F32", (name, e["dtype"])
        a, b = e["data_offsets"]
        out[name] = torch.frombuffer(bytearray(raw[8 + n + a : 8 + n + b]), dtype=torch.float32).view(e["shape"])
    return out


def ours_to_torch(name):
    """Our parameter names (src/models/gpt2/model.ts) -> this file's."""
    for a, b in (("tokEmb.", "tok."), ("posEmb.", "pos."), ("normF.", "ln_f."), (".norm1.", ".ln1."), (".norm2.", ".ln2."),
                 (".attn.wq.", ".attn.q."), (".attn.wk.", ".attn.k."), (".attn.wv.", ".attn.v."), (".attn.wo.", ".attn.out.")):
        name = name.replace(a, b)
    return name


def load_tokens(data_dir):
    with open(os.path.join(data_dir, "meta.json")) as f:
        meta = json.load(f)
    out = {}
    for split in ("train", "val"):
        with open(os.path.join(data_dir, f"{split}.bin"), "rb") as f:
            raw = f.read()
        digest = hashlib.sha256(raw).hexdigest()
        if digest != meta[split]["sha256"]:
            sys.exit(f"{split}.bin: sha256 {digest} differs from meta.json's {meta[split]['sha256']}")
        t = torch.frombuffer(bytearray(raw), dtype=torch.int32).long()
        assert t.numel() == meta[split]["tokens"]
        assert int(t.min()) >= 0 and int(t.max()) < meta["vocabSize"]
        out[split] = t
    return out, meta


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default="runs/moby-tokens")
    p.add_argument("--out", default="runs/gpt-moby-torch/result.json")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--n_layer", type=int, default=4)
    p.add_argument("--n_head", type=int, default=4)
    p.add_argument("--n_embd", type=int, default=128)
    p.add_argument("--block_size", type=int, default=64)
    p.add_argument("--batch_size", type=int, default=12)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--min_lr", type=float, default=1e-4)
    p.add_argument("--warmup_iters", type=int, default=100)
    p.add_argument("--lr_decay_iters", type=int, default=None, help="default: max(iters, warmup_iters)")
    p.add_argument("--iters", type=int, default=2000)
    p.add_argument("--eval_interval", type=int, default=250)
    p.add_argument("--eval_iters", type=int, default=20)
    p.add_argument("--weight_decay", type=float, default=0.1)
    p.add_argument("--beta1", type=float, default=0.9)
    p.add_argument("--beta2", type=float, default=0.99)
    p.add_argument("--grad_clip", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--log_interval", type=int, default=100)
    p.add_argument("--ours", metavar="DIR", help="start from our initial weights and replay our batches (export-moby.mjs's DIR)")
    a = p.parse_args()
    decay_iters = a.lr_decay_iters if a.lr_decay_iters is not None else max(a.iters, a.warmup_iters)

    wall0 = time.perf_counter()
    load_before = loadavg()
    torch.set_num_threads(a.threads)
    data, meta = load_tokens(a.data)
    V = meta["vocabSize"]

    torch.manual_seed(a.seed)  # the initial weights (torch's default generator)
    batch_gen = torch.Generator().manual_seed(a.seed)  # the training batches (ours: the same generator, after the weights)
    model = GPT(V, a.block_size, a.n_layer, a.n_head, a.n_embd)
    n_params = sum(t.numel() for t in model.parameters())  # .parameters() lists the tied weight once
    expected = count_formula(V, a.block_size, a.n_layer, a.n_embd)
    assert n_params == expected, (n_params, expected)

    stream = None
    if a.ours:
        with open(os.path.join(a.ours, "ours-stream.json")) as f:
            stream = json.load(f)
        mc, tc = stream["config"]["model"], stream["config"]["train"]
        mine = {"vocabSize": V, "blockSize": a.block_size, "nLayer": a.n_layer, "nHead": a.n_head, "nEmbd": a.n_embd,
                "batchSize": a.batch_size, "evalIters": a.eval_iters, "seed": a.seed}
        theirs = {**mc, **tc}
        bad = {k: (v, theirs[k]) for k, v in mine.items() if theirs[k] != v}
        if bad:
            sys.exit(f"--ours: the exported stream was made for another config (ours, exported): {bad}")
        ours = read_safetensors(os.path.join(a.ours, stream["initFile"]))
        state = {ours_to_torch(k): v for k, v in ours.items() if k != "lmHead.weight"}
        model.load_state_dict(state, strict=True)  # every name and shape must match
        x, y = windows(data["train"], stream["train"][0], a.block_size)
        with torch.no_grad():
            init_loss = model(x, y)[1].item()
        print(f"--ours: loaded {len(state)} tensors of our initial weights; loss on our first batch: torch {init_loss:.6f}, ours {stream['initLoss']:.6f} "
              f"(difference {abs(init_loss - stream['initLoss']):.2e})", flush=True)
        assert abs(init_loss - stream["initLoss"]) < 1e-4, "the torch model does not compute our model's loss"
        evals_by_step = {e["step"]: e for e in stream["evals"]}
        needed = [s for s in range(a.iters + 1) if s % a.eval_interval == 0 or s == a.iters]
        if a.iters > len(stream["train"]) or any(s not in evals_by_step for s in needed):
            sys.exit(f"--ours: the exported stream has {len(stream['train'])} training batches and estimates at {sorted(evals_by_step)}; "
                     f"this run needs {a.iters} and estimates at {needed}")

    decay = [t for t in model.parameters() if t.dim() >= 2]
    no_decay = [t for t in model.parameters() if t.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": a.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=a.lr, betas=(a.beta1, a.beta2), eps=1e-8,
    )

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, LD_LIBRARY_PATH={os.environ.get('LD_LIBRARY_PATH', '')}, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}, OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}, "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}")
    print(f"GPT: {a.n_layer} layers, {a.n_head} heads, {a.n_embd} channels, context {a.block_size}, {n_params:,} parameters")
    print(f"data: {a.data}, vocabulary {V}; {len(data['train']):,} train tokens, {len(data['val']):,} val tokens")
    print(f"training: {a.iters} steps of batch {a.batch_size}, AdamW lr {a.lr} (warmup {a.warmup_iters}, cosine to {a.min_lr} at {decay_iters}), "
          f"betas {a.beta1}/{a.beta2}, weight decay {a.weight_decay}, clip {a.grad_clip}, seed {a.seed}")
    print(f"load average before: {load_before}", flush=True)

    @torch.no_grad()
    def estimate(step):
        # the batches of the estimate at step s come from their own generator, seeded with (seed, s),
        # as GPTTrainer.evalGenerator (the values differ: torch's generator is not ours)
        g = torch.Generator().manual_seed(a.seed * 1_000_003 + step + 1)
        model.eval()
        out = {}
        for split in ("train", "val"):
            if stream is not None:  # our batches of the estimate at this step
                batches = [windows(data[split], offs, a.block_size) for offs in evals_by_step[step][split]]
            else:
                batches = [get_batch(data[split], a.block_size, a.batch_size, g) for _ in range(a.eval_iters)]
            losses = [model(x, y)[1].item() for x, y in batches]
            out[split] = sum(losses) / len(losses)
        model.train()
        return out

    evals, step_ms, eval_ms, train_log = [], [], 0.0, []
    step = 0
    while True:
        if step % a.eval_interval == 0 or step == a.iters:
            t0 = time.perf_counter()
            r = estimate(step)
            ms = (time.perf_counter() - t0) * 1000
            eval_ms += ms
            evals.append({"step": step, "train": r["train"], "val": r["val"], "ms": round(ms)})
            print(f"step {step}: train loss {r['train']:.4f}, val loss {r['val']:.4f} ({ms / 1000:.1f} s)", flush=True)
        if step >= a.iters:
            break
        lr = lr_at(step, a.lr, a.min_lr, a.warmup_iters, decay_iters)
        for group in opt.param_groups:
            group["lr"] = lr
        t0 = time.perf_counter()
        if stream is not None:
            x, y = windows(data["train"], stream["train"][step], a.block_size)
        else:
            x, y = get_batch(data["train"], a.block_size, a.batch_size, batch_gen)
        _, loss = model(x, y)
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), a.grad_clip).item() if a.grad_clip > 0 else float("nan")
        opt.step()
        opt.zero_grad(set_to_none=True)
        loss_value = loss.item()
        step_ms.append((time.perf_counter() - t0) * 1000)
        step += 1
        train_log.append([step, round(loss_value, 5), lr, round(grad_norm, 5)])
        if step % a.log_interval == 0:
            print(f"  step {step}: loss {loss_value:.4f}, lr {lr:.2e}, grad norm {grad_norm:.3f}, "
                  f"median {statistics.median(step_ms):.1f} ms/step so far", flush=True)

    wall = time.perf_counter() - wall0
    load_after = loadavg()
    med = statistics.median(step_ms)
    mean = sum(step_ms) / len(step_ms)
    print(f"done: {a.iters} steps in {wall:.1f} s wall ({med:.1f} ms/step median, {mean:.1f} mean, {eval_ms / 1000:.1f} s estimating losses)")
    print(f"final: train loss {evals[-1]['train']:.4f}, val loss {evals[-1]['val']:.4f}")
    print(f"load average after: {load_after}")

    result = {
        "peer": "pytorch", "mode": "ours (our initial weights and batches)" if stream is not None else "own (torch's initial weights and random batches)",
        "init_loss_check": None if stream is None else {"torch": init_loss, "ours": stream["initLoss"]}, "torch": torch.__version__, "python": platform.python_version(),
        "threads": torch.get_num_threads(), "ld_library_path": os.environ.get("LD_LIBRARY_PATH"),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"), "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "data": {"dir": a.data, "vocab_size": V, "train_tokens": len(data["train"]), "val_tokens": len(data["val"]),
                 "train_sha256": meta["train"]["sha256"], "val_sha256": meta["val"]["sha256"]},
        "config": {**vars(a), "lr_decay_iters": decay_iters},
        "parameters": n_params,
        "evals": evals,
        "ms_per_step_median": med, "ms_per_step_mean": mean, "ms_per_step_min": min(step_ms), "ms_per_step_max": max(step_ms),
        "eval_seconds": eval_ms / 1000, "wall_seconds": wall,
        "loadavg_before": load_before, "loadavg_after": load_after,
        "train_log": train_log,  # [step, batch loss, lr used, grad norm before clipping]
    }
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(result, f, indent=1)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
