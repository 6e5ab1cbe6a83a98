"""Reference adversarial examples for Tiller's attacks (test/fixtures/reference/ct/attacks.json).

A tiny MLP 16-8-3 (input 1x4x4, pixels in [0, 1]) in float64, with ReLU and with every ReLU replaced
by CTU(beta=0.8, c=0.5); loss = summed softmax cross-entropy; no random start.
  FGSM:    x' = clip(x + eps * sign(grad), 0, 1)
  PGD-Linf: `steps` times x <- clip(clip(x + a * sign(grad), x0 - eps, x0 + eps), 0, 1), a = 2.5 eps / steps
  PGD-L2:   `steps` times g <- grad / ||grad||_2 (per example); d = x + a g - x0;
            d <- d * min(1, eps / ||d||_2); x <- clip(x0 + d, 0, 1), a = 2.5 eps / steps

Run with:  ${TILLER_PYTHON:-/usr/bin/python3} scripts/reference/ct_attacks.py   (deterministic)
"""

import json
import os

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "test", "fixtures", "reference", "ct")


def enc(t):
    a = t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
    return {"shape": list(a.shape), "data": a.reshape(-1).tolist()}


def ctu(x, beta, c):
    z = x / (1 - beta)
    return c * torch.sigmoid(beta * z) * x + (1 - c) * F.softplus(z, threshold=20) * (1 - beta)


def forward(params, x, act):
    h = x.reshape(x.shape[0], -1)
    h = act(h @ params["fc0.weight"].T + params["fc0.bias"])
    return h @ params["fc1.weight"].T + params["fc1.bias"]


def input_grad(params, x, y, act):
    x = x.clone().requires_grad_(True)
    F.cross_entropy(forward(params, x, act), y, reduction="sum").backward()
    return x.grad


def norm(v):
    return v.reshape(v.shape[0], -1).norm(dim=1).clamp_min(1e-12).reshape(-1, 1, 1, 1)


def attack(params, x0, y, act, kind, eps, steps):
    if kind == "fgsm":
        return (x0 + eps * input_grad(params, x0, y, act).sign()).clamp(0, 1)
    a = 2.5 * eps / steps
    x = x0.clone()
    for _ in range(steps):
        g = input_grad(params, x, y, act)
        if kind == "pgd-linf":
            x = torch.min(torch.max(x + a * g.sign(), x0 - eps), x0 + eps).clamp(0, 1)
        else:
            d = x + a * g / norm(g) - x0
            x = (x0 + d * torch.clamp(eps / norm(d), max=1)).clamp(0, 1)
    return x


def main():
    g = np.random.default_rng(19)
    params = {
        "fc0.weight": torch.tensor(g.normal(0, 0.6, (8, 16))),
        "fc0.bias": torch.tensor(g.normal(0, 0.1, (8,))),
        "fc1.weight": torch.tensor(g.normal(0, 0.6, (3, 8))),
        "fc1.bias": torch.tensor(g.normal(0, 0.1, (3,))),
    }
    x = torch.tensor(g.uniform(0, 1, (6, 1, 4, 4)))
    y = torch.tensor(g.integers(0, 3, (6,)))
    cases = {}
    for act_name, act, beta in [("relu", torch.relu, 1.0), ("ctu", lambda h: ctu(h, 0.8, 0.5), 0.8)]:
        for kind, eps, steps in [("fgsm", 0.1, 1), ("pgd-linf", 0.1, 5), ("pgd-l2", 0.5, 5)]:
            adv = attack(params, x, y, act, kind, eps, steps)
            cases[f"{act_name}_{kind}"] = {
                "activation": act_name,
                "beta": beta,
                "kind": kind,
                "eps": eps,
                "steps": steps,
                "adversarial": enc(adv),
                "logits": enc(forward(params, adv, act)),
            }
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "attacks.json"), "w") as f:
        json.dump({"params": {k: enc(v) for k, v in params.items()}, "x": enc(x), "y": enc(y), "cases": cases}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
