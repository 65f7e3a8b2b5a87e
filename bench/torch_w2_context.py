# PyTorch's W2 step at another context T and batch B, for bench/context-scaling.ts: the peers' own W2
# (../shared/peers/torch_bench.py: the model, AdamW, the timing) with its W2_CFG block size and W2_BATCH
# set before it runs. Prints one JSON line per (T, B): {"T", "B", "median_ms", "tokens_per_s_at_median"}.
#
#   /usr/bin/python3 bench/torch_w2_context.py PEERS_DIR THREADS WARMUP RUNS T:B [T:B ...]
import io
import json
import sys
from contextlib import redirect_stdout

peers, threads, warmup, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
sys.path.insert(0, peers)
import torch  # noqa: E402
import torch_bench  # noqa: E402

torch.set_num_threads(threads)
for spec in sys.argv[5:]:
    T, B = (int(v) for v in spec.split(":"))
    torch_bench.W2_CFG["block_size"] = T
    torch_bench.W2_BATCH = B
    with redirect_stdout(io.StringIO()):
        r = torch_bench.run_w2(warmup, runs)
    print(json.dumps({"T": T, "B": B, "median_ms": r["median_ms"], "tokens_per_s_at_median": r["tokens_per_s_at_median"]}), flush=True)
