"""The PyTorch side of tools/peers/bart-init.mjs: the reference BART of tools/fixtures/bart.py at the recipe's size
(C 128, 4 heads, 2+2 layers, d_ff 512), Hugging Face's init (every Linear and Embedding weight N(0, initStd^2),
biases 0, the padding row 0), trained on the batches bart-init.mjs wrote (copy task: source = target), with
the same optimizer: AdamW (0.9, 0.999), weight decay 0.01, eps 1e-8, lr warmup 5% then cosine to lr/10, gradient
norm clipped to 1. Prints the mean training loss of every 20 steps.

  /usr/bin/python3 tools/peers/bart_init_torch.py runs/bart-init/batches.json [initStd 0.02] [lr, default the batches']

Side experiments (environment): EPS=1e-14 sets Adam's eps; ONLY=emb gives initStd to the embeddings only (the
Linears 0.02), ONLY=lin to the Linears only (the embeddings 0.02).
"""
import json
import math
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
import bart as ref  # noqa: E402

torch.set_num_threads(1)
d = json.load(open(sys.argv[1]))
std = float(sys.argv[2]) if len(sys.argv) > 2 else 0.02
V, PAD, EOS = d["vocab"], d["pad"], d["eos"]
lr = float(sys.argv[3]) if len(sys.argv) > 3 else d["lr"]
EPS, ONLY = float(os.environ.get("EPS", "1e-8")), os.environ.get("ONLY", "")
c = dict(vocab_size=V, max_positions=max(d["chunk"], 40) + 2, n_encoder_layer=2, n_decoder_layer=2, n_head=4, d_model=128, d_ff=512,
         pad_id=PAD, decoder_start_id=EOS, layer_norm_eps=1e-5)
torch.manual_seed(1)
model = ref.Bart(c)
with torch.no_grad():
    for m in model.modules():
        if isinstance(m, nn.Linear):
            m.weight.normal_(0, 0.02 if ONLY == "emb" else std)
            m.bias.zero_()
        elif isinstance(m, nn.Embedding):
            m.weight.normal_(0, 0.02 if ONLY == "lin" else std)
            if m.padding_idx is not None:
                m.weight[m.padding_idx].zero_()
opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.999), weight_decay=0.01, eps=EPS)
steps = len(d["batches"])
warm = max(1, round(0.05 * steps))


def schedule(it):  # src/optim/schedulers.ts cosineWithWarmup
    if it < warm:
        return lr * (it + 1) / (warm + 1)
    return lr / 10 + 0.5 * (1 + math.cos(math.pi * (it - warm) / (steps - warm))) * (lr - lr / 10)


means, total = [], 0.0
for i, batch in enumerate(d["batches"]):
    for group in opt.param_groups:
        group["lr"] = schedule(i)
    src = torch.tensor([p + [EOS] for p in batch])
    _, _, loss = model(src, torch.ones_like(src), ref.shift_tokens_right(src, PAD, EOS), src)
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    total += loss.item()
    if (i + 1) % 20 == 0:
        means.append(f"{i + 1}:{total / 20:.3f}")
        total = 0.0
print(f"PyTorch reference, BART copy task, initStd {std}, lr {lr}, eps {EPS}, {ONLY or 'all'}: " + " ".join(means))
