"""Reference numbers for Tiller's initialisers and weight diagnostics (issue 10).

Why this exists: the initialiser tests need PyTorch's own answer for the same shapes and gains,
and the diagnostics tests need an SVD from LAPACK. Everything is computed here with PyTorch 1.13
and numpy and written as JSON under test/fixtures/reference/init/, so `npm test` needs neither.

  torch_init.json   fans and gains from torch.nn.init, and for each initialiser × shape the
                    empirical std (and max |w| for uniform ones) of torch's own initialiser over
                    >= 1e6 draws; the book's two extras (scaled orthogonal, L-Momentum) are built
                    from torch.nn.init pieces exactly as the issue defines them.
  diagnostics.json  a few matrices with numpy's singular values, condition number, effective rank.

Run with:  /usr/bin/python3 scripts/reference/init_torch.py   (deterministic: seeded)
"""

import json
import math
import os

import numpy as np
import torch

torch.set_num_threads(2)
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "reference", "init")
SAMPLES = 1_000_000

SHAPES = [[256, 128], [10, 784], [512, 64], [32, 1, 3, 3], [64, 32, 3, 3], [16, 8, 5, 5]]


def fans(shape):
    return torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


def l_momentum_(w, alpha):
    fan_in, _ = torch.nn.init._calculate_fan_in_and_fan_out(w)
    bound = math.sqrt(6.0 / fan_in)
    torch.nn.init.uniform_(w, -bound, bound)
    with torch.no_grad():
        w.mul_(math.sqrt(alpha / w.pow(2).mean().item()))
    return w


def scaled_orthogonal_(w):
    fan_in, _ = torch.nn.init._calculate_fan_in_and_fan_out(w)
    return torch.nn.init.orthogonal_(w, gain=math.sqrt(2.0 / fan_in))


# name, options (as Tiller's factory takes them), torch initialiser, uniform?
CASES = [
    ("torchDefault", {}, lambda w: torch.nn.init.kaiming_uniform_(w, a=math.sqrt(5)), True),
    ("lecunNormal", {}, lambda w: torch.nn.init.kaiming_normal_(w, nonlinearity="linear"), False),
    ("xavierNormal", {}, lambda w: torch.nn.init.xavier_normal_(w), False),
    ("xavierNormal", {"gain": 5 / 3}, lambda w: torch.nn.init.xavier_normal_(w, gain=5 / 3), False),
    ("xavierUniform", {}, lambda w: torch.nn.init.xavier_uniform_(w), True),
    ("kaimingNormal", {}, lambda w: torch.nn.init.kaiming_normal_(w), False),
    (
        "kaimingNormal",
        {"mode": "fan_out", "nonlinearity": "relu"},
        lambda w: torch.nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu"),
        False,
    ),
    (
        "kaimingNormal",
        {"nonlinearity": "leaky_relu", "a": 0.25},
        lambda w: torch.nn.init.kaiming_normal_(w, a=0.25, nonlinearity="leaky_relu"),
        False,
    ),
    ("kaimingUniform", {}, lambda w: torch.nn.init.kaiming_uniform_(w), True),
    (
        "kaimingUniform",
        {"mode": "fan_out", "nonlinearity": "tanh"},
        lambda w: torch.nn.init.kaiming_uniform_(w, mode="fan_out", nonlinearity="tanh"),
        True,
    ),
    ("orthogonal", {}, lambda w: torch.nn.init.orthogonal_(w), False),
    ("orthogonal", {"gain": 2.0}, lambda w: torch.nn.init.orthogonal_(w, gain=2.0), False),
    ("scaledOrthogonal", {}, scaled_orthogonal_, False),
    ("lMomentum", {}, lambda w: l_momentum_(w, 0.81), True),
    ("lMomentum", {"alpha": 0.25}, lambda w: l_momentum_(w, 0.25), True),
]


def torch_init():
    torch.manual_seed(0)
    out = {"fans": [], "gains": [], "inits": []}
    for s in SHAPES:
        fi, fo = fans(s)
        out["fans"].append({"shape": s, "fanIn": fi, "fanOut": fo})
    for nl, param in [
        ("linear", None),
        ("conv", None),
        ("sigmoid", None),
        ("tanh", None),
        ("relu", None),
        ("leaky_relu", None),
        ("leaky_relu", 0.25),
        ("leaky_relu", 0),
        ("selu", None),
    ]:
        torch_name = "conv2d" if nl == "conv" else nl
        out["gains"].append({"nonlinearity": nl, "param": param, "gain": torch.nn.init.calculate_gain(torch_name, param)})
    for name, opts, fn, uniform in CASES:
        for s in SHAPES:
            w = torch.empty(s, dtype=torch.float64)
            n = w.numel()
            reps = max(1, math.ceil(SAMPLES / n))
            if name in ("orthogonal", "scaledOrthogonal"):
                reps = min(reps, 40)  # QR per draw; 40 draws is plenty for a second moment
            sq, total, count, biggest = 0.0, 0.0, 0, 0.0
            for _ in range(reps):
                fn(w)
                sq += w.pow(2).sum().item()
                total += w.sum().item()
                count += n
                biggest = max(biggest, w.abs().max().item())
            case = {"init": name, "options": opts, "shape": s, "draws": count, "std": math.sqrt(sq / count)}
            case["mean"] = total / count
            if uniform and name != "lMomentum":
                case["maxAbs"] = biggest
            out["inits"].append(case)
    return out


def diag(m):
    m = np.asarray(m, dtype=np.float64)
    s = np.linalg.svd(m, compute_uv=False)
    p = s / s.sum()
    p = p[p > 0]
    erank = float(np.exp(-(p * np.log(p)).sum()))
    return {
        "shape": list(m.shape),
        "data": m.reshape(-1).tolist(),
        "singularValues": s.tolist(),
        "conditionNumber": float(s[0] / s[-1]),
        "effectiveRank": erank,
        "mean": float(m.mean()),
        "std": float(m.std()),
    }


def diagnostics():
    rng = np.random.default_rng(10)
    cases = {}
    cases["gaussian tall 20x12"] = diag(rng.standard_normal((20, 12)))
    cases["gaussian wide 12x20, scaled 3, shifted 0.5"] = diag(3 * rng.standard_normal((12, 20)) + 0.5)
    u, _ = np.linalg.qr(rng.standard_normal((16, 16)))
    v, _ = np.linalg.qr(rng.standard_normal((16, 16)))
    cases["condition 1e4 16x16"] = diag(u @ np.diag(np.logspace(0, -4, 16)) @ v.T)
    cases["gaussian 64x48"] = diag(rng.standard_normal((64, 48)) / 8)
    return cases


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "torch_init.json"), "w") as f:
        json.dump(torch_init(), f, indent=1)
    with open(os.path.join(OUT, "diagnostics.json"), "w") as f:
        json.dump(diagnostics(), f)
    print("wrote", OUT)
