"""Reference spectrum of a trained 784-8-10 MLP's loss Hessian, for the default tolerances of
Tiller's Hessian tools (power iteration, Lanczos, Hutchinson, SLQ in src/landscape/hessian.ts).

Why this exists: on such a network `tiller landscape hessian --top-k 3` (power iteration with its
default tolerance) printed 18.78, 21.39, 7.96 — unsorted, the first 12 % below the top
eigenvalue — while claiming convergence (issue 23, defect 14). The defaults must be checked
against a source that is not our code: PyTorch builds the explicit Hessian in float64
(torch.autograd.functional.hessian) and diagonalises it with torch.linalg.eigvalsh.

The network is Tiller's "mlp" with hidden [8]: fc0.weight [8, 784], fc0.bias, fc1.weight [10, 8],
fc1.bias (6,378 parameters, y = x W^T + b, ReLU), trained here with Adam (lr 1e-3, batch 64,
3 epochs on the first 2,000 Fashion-MNIST training images, seed 0). The loss is the mean softmax
cross-entropy over the first 128 test images, standardised as Tiller does ((p/255 − 0.286)/0.353).

Run with:  ${TILLER_PYTHON:-/usr/bin/python3} scripts/reference/hessian_defaults.py
Needs the Debian package dataset-fashion-mnist. Writes
test/fixtures/reference/landscape/hessian-mlp-784-8-10.json (deterministic on one machine).
"""

import base64
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from idx import load_fashion_mnist  # noqa: E402

torch.set_num_threads(2)
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "test", "fixtures", "reference", "landscape")
SIZES = [784, 8, 10]
TRAIN, TEST = 2000, 128
MEAN, STD = 0.286, 0.353


def standardize(pixels):
    x = torch.tensor(pixels.reshape(len(pixels), -1), dtype=torch.float32)
    return ((x / 255 - MEAN) / STD).to(torch.float64)


def forward(flat, shapes, x):
    parts = torch.split(flat, [int(np.prod(s)) for s in shapes])
    h = x
    for i in range(len(SIZES) - 1):
        h = h @ parts[2 * i].reshape(shapes[2 * i]).T + parts[2 * i + 1]
        if i < len(SIZES) - 2:
            h = torch.relu(h)
    return h


def main():
    torch.manual_seed(0)
    train_x, train_y, test_x, test_y = load_fashion_mnist()
    names, shapes = [], []
    for i in range(len(SIZES) - 1):
        names += [f"fc{i}.weight", f"fc{i}.bias"]
        shapes += [(SIZES[i + 1], SIZES[i]), (SIZES[i + 1],)]
    layers = [torch.nn.Linear(SIZES[i], SIZES[i + 1]) for i in range(len(SIZES) - 1)]
    flat = torch.cat([t.detach().reshape(-1) for l in layers for t in (l.weight, l.bias)]).to(torch.float32)
    flat.requires_grad_(True)
    opt = torch.optim.Adam([flat], lr=1e-3)
    x = standardize(train_x[:TRAIN]).to(torch.float32)
    y = torch.tensor(train_y[:TRAIN], dtype=torch.int64)
    g = torch.Generator().manual_seed(0)
    for _ in range(3):
        order = torch.randperm(TRAIN, generator=g)
        for s in range(0, TRAIN, 64):
            idx = order[s : s + 64]
            opt.zero_grad()
            F.cross_entropy(forward(flat, shapes, x[idx]), y[idx]).backward()
            opt.step()
    # The weights as float32 (what Tiller holds), then everything in float64.
    w = flat.detach().to(torch.float32).to(torch.float64)
    xt = standardize(test_x[:TEST])
    yt = torch.tensor(test_y[:TEST], dtype=torch.int64)
    loss = lambda p: F.cross_entropy(forward(p, shapes, xt), yt)
    H = torch.autograd.functional.hessian(loss, w, vectorize=True)
    H = (H + H.T) / 2
    eig = torch.linalg.eigvalsh(H)  # ascending
    sizes = [int(np.prod(s)) for s in shapes]
    parts = torch.split(w, sizes)
    out = {
        "doc": __doc__.split("\n\n")[0],
        "config": {"hidden": SIZES[1:-1], "classes": 10, "activation": "relu", "mean": MEAN, "std": STD},
        "params": {
            n: {"shape": list(s), "float32_base64": base64.b64encode(p.to(torch.float32).numpy().tobytes()).decode()}
            for n, s, p in zip(names, shapes, parts)
        },
        "pixels_base64": base64.b64encode(np.ascontiguousarray(test_x[:TEST]).tobytes()).decode(),
        "y": yt.tolist(),
        "loss": float(loss(w)),
        "dim": int(w.numel()),
        "top_eigenvalues": eig.flip(0)[:8].tolist(),
        "bottom_eigenvalues": eig[:4].tolist(),
        "trace": float(torch.trace(H)),
    }
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "hessian-mlp-784-8-10.json")
    with open(path, "w") as f:
        json.dump(out, f)
    print(f"wrote {path}: dim {out['dim']}, top {out['top_eigenvalues'][:4]}, trace {out['trace']:.6f}")


if __name__ == "__main__":
    main()
