"""PyTorch twin of Tiller's Fashion-MNIST training, used by the parity script.

Why this exists: Tiller claims to train as well as PyTorch. This script trains the same model
on the same data in the same order (the shared rule in data_order.py) with the same loss and
optimizer, so the two runs' per-epoch curves can be compared. Only the weight initialisation
and floating-point details differ.

The specification both sides follow:
  data       IDX gz files read with numpy; pixels float32 / 255; --normalize standardize
             (default) = (x - 0.2860) / 0.3530, scale = x in [0, 1]. --limit N = the first N
             training images; the test set is always the full 10,000.
  order      epoch e (0-based) visits training examples in epoch_permutation(n_train, seed, e)
             order, in batches of B consecutive entries; the last partial batch is kept.
  models     mlp = Linear(784,h1) ReLU ... Linear(h_last,10)  (--hidden, default 512,64)
             cnn = Conv2d(1,32,3,p=1) ReLU MaxPool2d(2) Conv2d(32,64,3,p=1) ReLU MaxPool2d(2)
                   Flatten Linear(3136,256) ReLU Linear(256,10)
             PyTorch default init after torch.manual_seed(seed).
  loss       mean softmax cross-entropy over the batch.
  optimizer  Adam (PyTorch defaults: betas 0.9/0.999, eps 1e-8, no weight decay) or plain SGD.
  metrics    train_loss_per_epoch = mean per-example training loss over the epoch, measured on
             each batch before its update (sum of batch_mean * batch_size / n_train);
             after each epoch, in eval mode and batches of 1000: test_loss = mean per-example
             cross-entropy over the 10,000 test images, test_accuracy = fraction correct.

Prints per-epoch progress on stderr and ONE JSON line on stdout at the end.
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from data_order import epoch_permutation  # noqa: E402
from idx import load_fashion_mnist  # noqa: E402

MEAN, STD = 0.2860, 0.3530


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", choices=["mlp", "cnn"], default="mlp")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, default=None, help="use the first N training images")
    p.add_argument("--optimizer", choices=["adam", "sgd"], default="adam")
    p.add_argument("--hidden", default="512,64", help="mlp hidden sizes, comma separated")
    p.add_argument("--normalize", choices=["standardize", "scale"], default="standardize")
    p.add_argument("--threads", type=int, default=2)
    return p.parse_args(argv)


def prepare(images, normalize):
    """uint8 [N,28,28] -> float32 tensor [N,1,28,28]."""
    x = images.astype(np.float32) / np.float32(255.0)
    if normalize == "standardize":
        x = (x - np.float32(MEAN)) / np.float32(STD)
    return torch.from_numpy(np.ascontiguousarray(x)).reshape(-1, 1, 28, 28)


def build_model(kind, hidden):
    if kind == "mlp":
        layers, width = [nn.Flatten()], 784
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, 10))
        return nn.Sequential(*layers)
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 256), nn.ReLU(), nn.Linear(256, 10),
    )


@torch.no_grad()
def evaluate(model, x, y, batch=1000):
    model.eval()
    loss_sum, correct = 0.0, 0
    for i in range(0, x.shape[0], batch):
        logits = model(x[i:i + batch])
        loss_sum += F.cross_entropy(logits, y[i:i + batch], reduction="sum").item()
        correct += (logits.argmax(1) == y[i:i + batch]).sum().item()
    model.train()
    return correct / x.shape[0], loss_sum / x.shape[0]


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    hidden = [int(h) for h in args.hidden.split(",") if h]

    xtr, ytr, xte, yte = load_fashion_mnist()
    if args.limit is not None:
        xtr, ytr = xtr[:args.limit], ytr[:args.limit]
    x_train, x_test = prepare(xtr, args.normalize), prepare(xte, args.normalize)
    y_train = torch.from_numpy(ytr.astype(np.int64))
    y_test = torch.from_numpy(yte.astype(np.int64))
    n = x_train.shape[0]

    torch.manual_seed(args.seed)
    model = build_model(args.model, hidden)
    if args.optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=args.lr)

    acc_hist, test_loss_hist, train_loss_hist = [], [], []
    start = time.perf_counter()
    model.train()
    for epoch in range(args.epochs):
        t0 = time.perf_counter()
        perm = torch.tensor(epoch_permutation(n, args.seed, epoch), dtype=torch.int64)
        loss_sum = 0.0
        for i in range(0, n, args.batch_size):
            idx = perm[i:i + args.batch_size]
            loss = F.cross_entropy(model(x_train[idx]), y_train[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * idx.shape[0]
        train_loss_hist.append(loss_sum / n)
        acc, test_loss = evaluate(model, x_test, y_test)
        acc_hist.append(acc)
        test_loss_hist.append(test_loss)
        print(f"epoch {epoch + 1}/{args.epochs}: train_loss {loss_sum / n:.4f} "
              f"test_loss {test_loss:.4f} test_acc {acc:.4f} ({time.perf_counter() - t0:.1f}s)",
              file=sys.stderr, flush=True)

    print(json.dumps({
        "model": args.model,
        "seed": args.seed,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "optimizer": args.optimizer,
        "hidden": hidden if args.model == "mlp" else None,
        "normalize": args.normalize,
        "n_train": n,
        "test_accuracy_per_epoch": acc_hist,
        "test_loss_per_epoch": test_loss_hist,
        "train_loss_per_epoch": train_loss_hist,
        "seconds": time.perf_counter() - start,
        "threads": torch.get_num_threads(),
        "torch_version": torch.__version__,
    }))


if __name__ == "__main__":
    main()
