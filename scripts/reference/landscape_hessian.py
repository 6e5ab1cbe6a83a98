"""Reference Hessian of a small MLP's loss, for Tiller's Hessian tools (src/landscape/hessian.ts).

Why this exists: the acceptance test for the top-k eigenvalues, the trace and the Hessian-vector
product needs a source of truth that is not our own code. PyTorch builds the explicit Hessian with
torch.autograd.functional.hessian in float64 and diagonalises it with torch.linalg.eigvalsh.

The network is Tiller's "mlp" model with input shape [1, 4, 4] (16 features), hidden [48, 24],
ReLU, 10 classes: 2242 parameters, named and laid out like Tiller's param tree (fcN.weight is
[out, in], y = x W^T + b). Loss: mean softmax cross-entropy over 64 random examples.

Run with:  ${TILLER_PYTHON:-/usr/bin/python3} scripts/reference/landscape_hessian.py
Writes test/fixtures/reference/landscape/hessian-mlp.json (deterministic).
"""

import json
import os

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(2)
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "test", "fixtures", "reference", "landscape")

SIZES = [16, 48, 24, 10]
N = 64


def main():
    g = np.random.default_rng(20240404)
    names, shapes, values = [], [], []
    for i in range(len(SIZES) - 1):
        fan_in = SIZES[i]
        bound = 1 / np.sqrt(fan_in)
        for kind, shape in (("weight", (SIZES[i + 1], fan_in)), ("bias", (SIZES[i + 1],))):
            names.append(f"fc{i}.{kind}")
            shapes.append(list(shape))
            values.append(g.uniform(-bound, bound, shape) * 2.0)  # a bit larger than default: a livelier spectrum
    x = torch.tensor(g.standard_normal((N, 1, 4, 4)), dtype=torch.float64)
    y = torch.tensor(g.integers(0, 10, N), dtype=torch.int64)
    sizes = [int(np.prod(s)) for s in shapes]
    flat0 = torch.tensor(np.concatenate([v.reshape(-1) for v in values]), dtype=torch.float64)

    def loss(flat):
        parts = torch.split(flat, sizes)
        h = x.reshape(N, -1)
        layers = len(SIZES) - 1
        for i in range(layers):
            w = parts[2 * i].reshape(shapes[2 * i])
            b = parts[2 * i + 1]
            h = h @ w.T + b
            if i < layers - 1:
                h = torch.relu(h)
        return F.cross_entropy(h, y)

    H = torch.autograd.functional.hessian(loss, flat0)
    H = (H + H.T) / 2
    eig = torch.linalg.eigvalsh(H)  # ascending
    v = torch.tensor(g.standard_normal(flat0.numel()), dtype=torch.float64)
    hv = H @ v
    os.makedirs(OUT, exist_ok=True)
    out = {
        "doc": __doc__.split("\n\n")[0],
        "config": {"inputShape": [1, 4, 4], "hidden": SIZES[1:-1], "classes": 10, "activation": "relu"},
        "params": {n: {"shape": s, "data": val.reshape(-1).tolist()} for n, s, val in zip(names, shapes, values)},
        "x": {"shape": list(x.shape), "data": x.reshape(-1).tolist()},
        "y": y.tolist(),
        "loss": float(loss(flat0)),
        "dim": int(flat0.numel()),
        "top_eigenvalues": eig.flip(0)[:8].tolist(),
        "bottom_eigenvalues": eig[:4].tolist(),
        "trace": float(torch.trace(H)),
        "frobenius": float(torch.linalg.norm(H)),
        "probe": {"v": v.tolist(), "hv": hv.tolist()},
    }
    path = os.path.join(OUT, "hessian-mlp.json")
    with open(path, "w") as f:
        json.dump(out, f)
    print(f"wrote {path}: dim {out['dim']}, top {out['top_eigenvalues'][:4]}, trace {out['trace']:.6f}")


if __name__ == "__main__":
    main()
