"""Reference values for the Curvature Tuning Unit (test/fixtures/reference/ct/ctu.json).

CTU_{beta,c}(x) = c * sigmoid(beta * x / (1 - beta)) * x + (1 - c) * softplus(x / (1 - beta)) * (1 - beta)
(Hu, Gamba & Balestriero 2025). Two independent sources, which must agree before anything is written:
  - mpmath at 50 significant digits: the formula itself, and its derivatives w.r.t. x, beta and c
    by mpmath.diff (high-precision finite differences);
  - PyTorch float64 autograd of the same formula (softplus as logaddexp(z, 0), no threshold).
Each case follows the fixture format of make_fixtures.py: inputs {x}, params {beta, c} (scalars),
output, cotangent, grads[name] = d sum(output * cotangent) / d name.

Run with:  ${TILLER_PYTHON:-/usr/bin/python3} scripts/reference/ct_ctu.py   (deterministic)
"""

import json
import os

import mpmath as mp
import numpy as np
import torch

mp.mp.dps = 50
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "test", "fixtures", "reference", "ct")

XS = [-1e4, -100.0, -30.0, -10.0, -3.0, -1.0, -0.3, -0.05, -0.01, 0.0, 0.01, 0.05, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 1e4]
CASES = [(0.0, 0.5), (0.5, 0.5), (0.9, 0.5), (0.99, 0.5), (0.9, 0.2), (0.7, 0.8)]


def ctu_mp(x, beta, c):
    x, beta, c = mp.mpf(x), mp.mpf(beta), mp.mpf(c)
    z = x / (1 - beta)
    sig = 1 / (1 + mp.exp(-beta * z))
    softplus = mp.log1p(mp.exp(z)) if z < 0 else z + mp.log1p(mp.exp(-z))
    return c * sig * x + (1 - c) * softplus * (1 - beta)


def ctu_torch(x, beta, c):
    z = x / (1 - beta)
    softplus = torch.logaddexp(z, torch.zeros_like(z))
    return c * torch.sigmoid(beta * z) * x + (1 - c) * softplus * (1 - beta)


def enc(values, shape=None):
    a = np.asarray(values, dtype=np.float64)
    return {"shape": list(a.shape) if shape is None else shape, "data": a.reshape(-1).tolist()}


def case(beta, c, rng):
    cot = rng.standard_normal(len(XS))
    out = [ctu_mp(x, beta, c) for x in XS]
    # d/dx, d/dbeta, d/dc by high-precision differences (mpmath picks the step from its precision).
    dx = [mp.diff(lambda t: ctu_mp(t, beta, c), x) for x in XS]
    dbeta = [mp.diff(lambda b: ctu_mp(x, b, c), beta) if beta > 0 else mp.diff(lambda b: ctu_mp(x, b, c), beta, direction=1) for x in XS]
    dc = [mp.diff(lambda k: ctu_mp(x, beta, k), c) for x in XS]
    g_x = [float(d) * w for d, w in zip(dx, cot)]
    g_beta = float(sum(mp.mpf(w) * d for w, d in zip(cot, dbeta)))
    g_c = float(sum(mp.mpf(w) * d for w, d in zip(cot, dc)))

    # Cross-check with PyTorch float64 autograd.
    xt = torch.tensor(XS, dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(beta, dtype=torch.float64, requires_grad=True)
    ct = torch.tensor(c, dtype=torch.float64, requires_grad=True)
    yt = ctu_torch(xt, bt, ct)
    (yt * torch.tensor(cot)).sum().backward()
    rel = lambda a, b: abs(float(a) - float(b)) / max(1.0, abs(float(b)))
    assert max(rel(a, b) for a, b in zip(yt.detach().numpy(), out)) < 1e-12
    assert max(rel(a, b) for a, b in zip(xt.grad.numpy(), g_x)) < 1e-9
    assert rel(bt.grad, g_beta) < 1e-9, (bt.grad, g_beta)
    assert rel(ct.grad, g_c) < 1e-9

    return {
        "doc": f"CTU with beta={beta}, c={c}; values by mpmath (50 digits), gradients by mpmath.diff, "
        "checked against PyTorch float64 autograd",
        "config": {"beta": beta, "c": c},
        "inputs": {"x": enc([float(v) for v in XS])},
        "params": {"beta": enc(beta, []), "c": enc(c, [])},
        "consts": {},
        "output": enc([float(v) for v in out]),
        "cotangent": enc(cot),
        "grads": {"x": enc(g_x), "beta": enc(g_beta, []), "c": enc(g_c, [])},
    }


def main():
    rng = np.random.default_rng(9)
    cases = {f"beta{b}_c{c}": case(b, c, rng) for b, c in CASES}
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "ctu.json"), "w") as f:
        json.dump({"ctu": cases}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
