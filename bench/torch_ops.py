# The op table of bench/ops.ts on PyTorch, on the same (12, 64, 1024) float32 tensor with the same
# timing: per op, 3 warm-up calls, then calls until >= 10 and >= 200 ms of wall time (at most 200);
# the median wall time per call (the process CPU time too: it counts the autograd engine's thread); forward on a leaf that requires grad, backward = (forward + backward into
# the leaf) - forward; the copy is dst.copy_(src) of the same number of bytes. One JSON object per line.
#
#   /usr/bin/python3 bench/torch_ops.py THREADS        (run by bench/run.ts with --workloads=ops)

import json
import sys
import time

import torch
import torch.nn.functional as F

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
torch.set_num_threads(threads)
torch.manual_seed(1)
B, T, C = 12, 64, 1024


def measure(fn):
    for _ in range(3):
        fn()
    walls, total = [], 0.0
    c0 = time.process_time()
    while len(walls) < 10 or (total < 0.2 and len(walls) < 200):
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        walls.append(dt)
        total += dt
    cpu = (time.process_time() - c0) / len(walls)
    walls.sort()
    return {"cpu_ms": cpu * 1e3, "wall_ms": walls[len(walls) // 2] * 1e3}


src = torch.sin(torch.arange(B * T * C, dtype=torch.float32)).reshape(B, T, C)
dst = torch.empty_like(src)
copy = measure(lambda: [dst.copy_(src) for _ in range(20)])
copy = {k: v / 20 for k, v in copy.items()}
print(json.dumps({"copy": copy, "threads": threads, "torch": torch.__version__}), flush=True)

CASES = [
    ("unary", "neg", lambda x, o: -x, None, False),
    ("unary", "abs", lambda x, o: x.abs(), None, False),
    ("unary", "relu", lambda x, o: torch.relu(x), None, False),
    ("unary", "exp", lambda x, o: x.exp(), None, False),
    ("unary", "log", lambda x, o: x.log(), None, True),
    ("unary", "sqrt", lambda x, o: x.sqrt(), None, True),
    ("unary", "tanh", lambda x, o: x.tanh(), None, False),
    ("unary", "sigmoid", lambda x, o: x.sigmoid(), None, False),
    ("unary", "silu", lambda x, o: F.silu(x), None, False),
    ("unary", "gelu (erf)", lambda x, o: F.gelu(x), None, False),
    ("unary", "gelu (tanh)", lambda x, o: F.gelu(x, approximate="tanh"), None, False),
    ("unary", "mul by a scalar", lambda x, o: x * 0.5, None, False),
    ("binary", "add (same shape)", lambda x, o: x + o, (B, T, C), False),
    ("binary", "sub (same shape)", lambda x, o: x - o, (B, T, C), False),
    ("binary", "mul (same shape)", lambda x, o: x * o, (B, T, C), False),
    ("binary", "div (same shape)", lambda x, o: x / o, (B, T, C), True),
    ("binary", "add a bias (C)", lambda x, o: x + o, (C,), False),
    ("binary", "mul by a column (B, T, 1)", lambda x, o: x * o, (B, T, 1), False),
    ("reduce", "sum over C", lambda x, o: x.sum(-1), None, False),
    ("reduce", "mean over C", lambda x, o: x.mean(-1), None, False),
    ("reduce", "max over C", lambda x, o: x.max(-1).values, None, False),
    ("reduce", "sum over B", lambda x, o: x.sum(0), None, False),
    # layout rows materialise the result, as ours do (our tensors are always contiguous)
    ("layout", "permute (0, 2, 1)", lambda x, o: x.permute(0, 2, 1).contiguous(), None, False),
    ("layout", "transpose (-2, -1), heads", lambda x, o: x.reshape(B, T, 16, 64).transpose(1, 2).contiguous(), None, False),
    ("layout", "narrow C to half", lambda x, o: x.narrow(2, 256, 512).contiguous(), None, False),
    ("layout", "reshape of a permuted view", lambda x, o: x.permute(1, 0, 2).reshape(T, B * C), None, False),
    ("layout", "cat of two halves on C", lambda x, o: torch.cat([x.narrow(2, 0, 512), x.narrow(2, 512, 512)], 2), None, False),
]


def make(shape, positive):
    t = torch.rand(shape) + 0.5 if positive else torch.randn(shape)
    return t.requires_grad_()


for family, name, fn, other, positive in CASES:
    x = make((B, T, C), positive)
    o = make(other, positive) if other else x
    dy = torch.randn(fn(x, o).shape)

    def both():
        fn(x, o).backward(dy)
        x.grad = None
        o.grad = None

    fwd = measure(lambda: fn(x, o))
    tot = measure(both)
    bwd = {k: max(0.0, tot[k] - fwd[k]) for k in fwd}
    print(json.dumps({"family": family, "name": name, "forward": fwd, "backward": bwd}), flush=True)
