"""Writes the optimiser reference trajectories under test/fixtures/reference/optim/.

Why this exists: every optimiser in src/optim/ is checked step by step against an independent
implementation. For SGD (momentum, dampening, Nesterov, weight decay, maximize), AdaGrad, RMSProp
(plain, centred, momentum), Adam, AdamW and AMSGrad that is torch.optim itself (PyTorch 1.13); for
Lion, Sophia (H and G), AdaFactor, LAMB and LARS it is the small PyTorch optimisers below, written
from the published rules as issue 3 states them (not from Tiller's code). Clipping and schedules
are checked against torch.nn.utils / torch.optim.lr_scheduler (clip by global norm is written out:
Tiller uses optax's min(1, c/||g||), PyTorch's clip_grad_norm_ adds 1e-6 to the norm).

Two problems, each run in float32 and in float64 from the same starting values:
  mlp.json         a fixed MLP 10-16-4 (tanh, mean softmax cross-entropy) on one fixed batch of 32,
                   200 steps; losses at every step, params after steps 1, 10 and 200.
  rosenbrock.json  f(x, y) = (1 - x)^2 + 100 (y - x^2)^2 from (-1.5, 2), 200 steps; every point.
Sophia's randomness is part of the fixture: the Rademacher probes u (SophiaH) and the labels
sampled from the model's softmax (SophiaG) for each curvature step, so both sides see the same ones.

Run with:  ${TILLER_PYTHON:-/usr/bin/python3} scripts/reference/optim_reference.py
(the output is deterministic; rerunning rewrites identical files).
Tensor encoding: {"shape": [...], "data": [row-major flat list]}.
"""

import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "test", "fixtures", "reference", "optim")
STEPS = 200
SNAPSHOTS = [1, 10, 200]


def enc(t, dtype):
    a = t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
    digits = "%.9g" if dtype == torch.float32 else "%.17g"
    return {"shape": list(a.shape), "data": [float(digits % v) for v in a.reshape(-1).tolist()]}


def enc_int(a):
    a = np.asarray(a)
    return {"shape": list(a.shape), "data": [int(v) for v in a.reshape(-1).tolist()]}


# ---------------------------------------------------------------------------------------------
# Optimisers written from the published rules (issue 3), independent of Tiller's code.


class Lion(torch.optim.Optimizer):
    """Chen et al. 2023: u = sign(b1 m + (1-b1) g); w <- w - lr (u + wd w); m <- b2 m + (1-b2) g."""

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                state = self.state[p]
                if not state:
                    state["m"] = torch.zeros_like(p)
                m = state["m"]
                u = torch.sign(b1 * m + (1 - b1) * p.grad)
                p.sub_(group["lr"] * (u + group["weight_decay"] * p))
                m.mul_(b2).add_((1 - b2) * p.grad)


class Sophia(torch.optim.Optimizer):
    """Liu et al. 2023, Algorithm 1. m <- b1 m + (1-b1) g; on curvature steps h <- b2 h + (1-b2) h_hat;
    w <- w - lr wd w; w <- w - lr sign(m) min(|m| / max(rho h, eps), 1). h_hat is given per step."""

    def __init__(self, params, lr=1e-4, betas=(0.965, 0.99), rho=0.04, weight_decay=0.1, eps=1e-15):
        super().__init__(params, dict(lr=lr, betas=betas, rho=rho, weight_decay=weight_decay, eps=eps))

    @torch.no_grad()
    def step(self, h_hat=None):
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for i, p in enumerate(group["params"]):
                state = self.state[p]
                if not state:
                    state["m"] = torch.zeros_like(p)
                    state["h"] = torch.zeros_like(p)
                m, h = state["m"], state["h"]
                m.mul_(b1).add_((1 - b1) * p.grad)
                if h_hat is not None:
                    h.mul_(b2).add_((1 - b2) * h_hat[i])
                lr = group["lr"]
                p.mul_(1 - lr * group["weight_decay"])
                denom = torch.clamp(group["rho"] * h, min=group["eps"])
                ratio = torch.clamp(m.abs() / denom, max=1.0)
                p.sub_(lr * torch.sign(m) * ratio)


class Adafactor(torch.optim.Optimizer):
    """Shazeer & Stern 2018 (Algorithms 4-5) with the options of issue 3: factored second moment for
    tensors with >= 2 dims (row/column EMAs over the last two dims), beta2_t = 1 - t^decay_rate,
    update clipping d, relative step size and parameter scaling, optional momentum, decoupled
    weight decay scaled by the step size."""

    def __init__(self, params, lr=None, eps1=1e-30, eps2=1e-3, clip_threshold=1.0, decay_rate=-0.8,
                 beta1=0.0, weight_decay=0.0, relative_step=False, scale_parameter=False, warmup_init=False):
        super().__init__(params, dict(lr=lr, eps1=eps1, eps2=eps2, d=clip_threshold, c=decay_rate, beta1=beta1,
                                      wd=weight_decay, rel=relative_step, scale=scale_parameter, warm=warmup_init))

    @staticmethod
    def rms(x):
        return torch.sqrt(torch.mean(x * x))

    @torch.no_grad()
    def step(self):
        for g in self.param_groups:
            for p in g["params"]:
                state = self.state[p]
                grad = p.grad
                factored = p.dim() >= 2
                if not state:
                    state["t"] = 0
                    if factored:
                        state["R"] = torch.zeros(p.shape[:-1], dtype=p.dtype)
                        state["C"] = torch.zeros(p.shape[:-2] + p.shape[-1:], dtype=p.dtype)
                    else:
                        state["V"] = torch.zeros_like(p)
                    if g["beta1"] > 0:
                        state["m"] = torch.zeros_like(p)
                state["t"] += 1
                t = state["t"]
                if g["rel"]:
                    cap = 1e-6 * t if g["warm"] else 1e-2
                    alpha = min(cap, 1.0 / math.sqrt(t))
                else:
                    alpha = g["lr"]
                if g["scale"]:
                    alpha = alpha * max(g["eps2"], self.rms(p).item())
                beta2 = 1.0 - t ** g["c"]
                g2 = grad * grad + g["eps1"]
                if factored:
                    R, C = state["R"], state["C"]
                    R.mul_(beta2).add_((1 - beta2) * g2.mean(dim=-1))
                    C.mul_(beta2).add_((1 - beta2) * g2.mean(dim=-2))
                    v_hat = (R / R.mean(dim=-1, keepdim=True)).unsqueeze(-1) * C.unsqueeze(-2)
                else:
                    V = state["V"]
                    V.mul_(beta2).add_((1 - beta2) * g2)
                    v_hat = V
                u = grad / torch.sqrt(v_hat)
                u = u / max(1.0, (self.rms(u) / g["d"]).item())
                u = alpha * u
                if g["beta1"] > 0:
                    m = state["m"]
                    m.mul_(g["beta1"]).add_((1 - g["beta1"]) * u)
                    u = m
                p.sub_(alpha * g["wd"] * p + u)


class Lamb(torch.optim.Optimizer):
    """You et al. 2020, Algorithm 2: Adam direction r = m_hat / (sqrt(v_hat) + eps), u = r + wd w,
    w <- w - lr phi(||w||) / ||u|| u per tensor, phi(z) = min(max(z, lo), hi); ratio 1 if a norm is 0."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.0, lo=0.0, hi=10.0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, lo=lo, hi=hi))

    @torch.no_grad()
    def step(self):
        for g in self.param_groups:
            b1, b2 = g["betas"]
            for p in g["params"]:
                state = self.state[p]
                if not state:
                    state["t"], state["m"], state["v"] = 0, torch.zeros_like(p), torch.zeros_like(p)
                state["t"] += 1
                t = state["t"]
                m, v = state["m"], state["v"]
                m.mul_(b1).add_((1 - b1) * p.grad)
                v.mul_(b2).add_((1 - b2) * p.grad * p.grad)
                r = (m / (1 - b1 ** t)) / (torch.sqrt(v / (1 - b2 ** t)) + g["eps"])
                u = r + g["weight_decay"] * p
                w_norm = min(max(torch.linalg.norm(p).item(), g["lo"]), g["hi"])
                u_norm = torch.linalg.norm(u).item()
                ratio = w_norm / u_norm if w_norm > 0 and u_norm > 0 else 1.0
                p.sub_(g["lr"] * ratio * u)


class Lars(torch.optim.Optimizer):
    """You, Gitman & Ginsburg 2017, Algorithm 1: local lr = eta ||w|| / (||g|| + wd ||w||) (1 if a norm
    is 0); v <- mu v + lr local (g + wd w); w <- w - v. Tensors with < 2 dims (biases) are excluded:
    v <- mu v + lr g."""

    def __init__(self, params, lr=1.0, momentum=0.9, weight_decay=0.0, eta=1e-3):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay, eta=eta))

    @torch.no_grad()
    def step(self):
        for g in self.param_groups:
            for p in g["params"]:
                state = self.state[p]
                if not state:
                    state["v"] = torch.zeros_like(p)
                grad = p.grad
                if p.dim() < 2:
                    d = grad
                else:
                    wn, gn = torch.linalg.norm(p).item(), torch.linalg.norm(grad).item()
                    denom = gn + g["weight_decay"] * wn
                    local = g["eta"] * wn / denom if wn > 0 and gn > 0 else 1.0
                    d = local * (grad + g["weight_decay"] * p)
                v = state["v"]
                v.mul_(g["momentum"]).add_(g["lr"] * d)
                p.sub_(v)


def clip_global_norm(params, max_norm):
    norm = math.sqrt(sum(float((p.grad.double() ** 2).sum()) for p in params))
    if norm > max_norm:
        for p in params:
            p.grad.mul_(max_norm / norm)


# ---------------------------------------------------------------------------------------------
# Cases: Tiller optimizer config (as `optimizerConfig(name, params)` takes it) + PyTorch twin.

CASES = {
    # torch.optim
    "sgd": ({"name": "sgd", "lr": 0.1}, lambda ps: torch.optim.SGD(ps, lr=0.1)),
    "sgd_momentum": ({"name": "sgd", "lr": 0.1, "momentum": 0.9}, lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9)),
    "sgd_nesterov": (
        {"name": "sgd", "lr": 0.05, "momentum": 0.9, "nesterov": True},
        lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
    ),
    "sgd_dampening_ema": (
        {"name": "sgd", "lr": 0.1, "momentum": 0.9, "dampening": 0.9},
        lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.9),
    ),
    "sgd_weight_decay": (
        {"name": "sgd", "lr": 0.1, "momentum": 0.9, "weightDecay": 0.01},
        lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
    ),
    "sgd_maximize": (
        {"name": "sgd", "lr": 0.01, "momentum": 0.5, "weightDecay": 0.01, "maximize": True},
        lambda ps: torch.optim.SGD(ps, lr=0.01, momentum=0.5, weight_decay=0.01, maximize=True),
    ),
    "adagrad": (
        {"name": "adagrad", "lr": 0.05, "lrDecay": 0.01, "weightDecay": 0.001, "initialAccumulator": 0.1},
        lambda ps: torch.optim.Adagrad(ps, lr=0.05, lr_decay=0.01, weight_decay=0.001, initial_accumulator_value=0.1),
    ),
    "rmsprop": ({"name": "rmsprop", "lr": 0.001}, lambda ps: torch.optim.RMSprop(ps, lr=0.001)),
    "rmsprop_centered": (
        {"name": "rmsprop", "lr": 0.001, "centered": True},
        lambda ps: torch.optim.RMSprop(ps, lr=0.001, centered=True),
    ),
    "rmsprop_momentum": (
        {"name": "rmsprop", "lr": 0.001, "momentum": 0.9, "weightDecay": 0.01},
        lambda ps: torch.optim.RMSprop(ps, lr=0.001, momentum=0.9, weight_decay=0.01),
    ),
    # With one fixed batch the gradient barely varies, so centred RMSProp's v - m^2 is a difference of
    # nearly equal numbers; alpha 0.9 with momentum made that chaotic (PyTorch float32 vs float64:
    # 3.6e-4 apart after 200 steps). alpha 0.99 keeps it well conditioned.
    "rmsprop_centered_momentum": (
        {"name": "rmsprop", "lr": 0.001, "momentum": 0.5, "centered": True},
        lambda ps: torch.optim.RMSprop(ps, lr=0.001, momentum=0.5, centered=True),
    ),
    "adam": ({"name": "adam", "lr": 0.01}, lambda ps: torch.optim.Adam(ps, lr=0.01)),
    "adam_l2": (
        {"name": "adam", "lr": 0.01, "weightDecay": 0.01},
        lambda ps: torch.optim.Adam(ps, lr=0.01, weight_decay=0.01),
    ),
    "adamw": (
        {"name": "adamw", "lr": 0.01, "weightDecay": 0.1},
        lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=0.1),
    ),
    "amsgrad": (
        {"name": "adam", "lr": 0.01, "amsgrad": True, "b2": 0.99},
        lambda ps: torch.optim.Adam(ps, lr=0.01, amsgrad=True, betas=(0.9, 0.99)),
    ),
    "adamw_amsgrad": (
        {"name": "adamw", "lr": 0.01, "weightDecay": 0.1, "amsgrad": True},
        lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=0.1, amsgrad=True),
    ),
    # written from the published rules
    "lion": ({"name": "lion", "lr": 1e-3, "weightDecay": 0.1}, lambda ps: Lion(ps, lr=1e-3, weight_decay=0.1)),
    "sophiah": (
        {"name": "sophiah", "lr": 2e-3, "every": 10},
        lambda ps: Sophia(ps, lr=2e-3),
    ),
    "sophiag": (
        {"name": "sophiag", "lr": 2e-3, "every": 10, "rho": 0.05},
        lambda ps: Sophia(ps, lr=2e-3, rho=0.05),
    ),
    "adafactor": ({"name": "adafactor", "lr": 0.01}, lambda ps: Adafactor(ps, lr=0.01)),
    "adafactor_paper": (
        {"name": "adafactor", "lr": 0.01, "relativeStep": True, "scaleParameter": True, "b1": 0.9, "weightDecay": 0.01},
        lambda ps: Adafactor(ps, relative_step=True, scale_parameter=True, beta1=0.9, weight_decay=0.01),
    ),
    "adafactor_warmup": (
        {"name": "adafactor", "lr": 0.01, "relativeStep": True, "warmupInit": True, "scaleParameter": True},
        lambda ps: Adafactor(ps, relative_step=True, warmup_init=True, scale_parameter=True),
    ),
    "lamb": ({"name": "lamb", "lr": 0.01, "weightDecay": 0.01}, lambda ps: Lamb(ps, lr=0.01, weight_decay=0.01)),
    # phi clips the small tensors' norms up to 0.5 and the first weight's down to 2 (bounds that no
    # norm crosses during the run: a crossing is a kink that float32 noise can move by a step).
    "lamb_clipped": (
        {"name": "lamb", "lr": 0.01, "trustMin": 0.5, "trustMax": 2.0},
        lambda ps: Lamb(ps, lr=0.01, lo=0.5, hi=2.0),
    ),
    "lars": (
        {"name": "lars", "lr": 1.0, "momentum": 0.9, "weightDecay": 1e-4},
        lambda ps: Lars(ps, lr=1.0, momentum=0.9, weight_decay=1e-4),
    ),
    # transformations
    "sgd_step_lr": (
        {"name": "sgd", "lr": 0.1, "momentum": 0.9, "schedule": {"kind": "step", "every": 50, "gamma": 0.5}},
        lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9),
        lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=50, gamma=0.5),
    ),
    "adam_cosine": (
        {"name": "adam", "lr": 0.01, "schedule": {"kind": "cosine", "steps": 150, "alpha": 0.1}},
        lambda ps: torch.optim.Adam(ps, lr=0.01),
        lambda opt: torch.optim.lr_scheduler.LambdaLR(
            opt, lambda t: 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(t, 150) / 150))
        ),
    ),
    "adam_exponential": (
        {"name": "adam", "lr": 0.01, "schedule": {"kind": "exponential", "gamma": 0.99}},
        lambda ps: torch.optim.Adam(ps, lr=0.01),
        lambda opt: torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.99),
    ),
    "adamw_warmup_cosine": (
        {"name": "adamw", "lr": 0.01, "schedule": {"kind": "warmup-cosine", "warmup": 20, "steps": 200}},
        lambda ps: torch.optim.AdamW(ps, lr=0.01),
        lambda opt: torch.optim.lr_scheduler.LambdaLR(
            opt, lambda t: t / 20 if t < 20 else 0.5 * (1 + math.cos(math.pi * min(t - 20, 180) / 180))
        ),
    ),
    "sgd_clip_norm": (
        {"name": "sgd", "lr": 0.1, "momentum": 0.9, "clipNorm": 0.5},
        lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9),
        None,
        lambda ps: clip_global_norm(ps, 0.5),
    ),
    "adam_clip_value": (
        {"name": "adam", "lr": 0.01, "clipValue": 0.05},
        lambda ps: torch.optim.Adam(ps, lr=0.01),
        None,
        lambda ps: torch.nn.utils.clip_grad_value_(ps, 0.05),
    ),
}

EVERY = 10  # Sophia's k in these cases


def unpack(case):
    config, make = case[0], case[1]
    schedule = case[2] if len(case) > 2 else None
    clip = case[3] if len(case) > 3 else None
    return config, make, schedule, clip


# ---------------------------------------------------------------------------------------------
# The MLP problem


def mlp_problem():
    g = np.random.default_rng(20240531)
    sizes = [10, 16, 4]
    params = {}
    for i in range(len(sizes) - 1):
        bound = 1 / math.sqrt(sizes[i])
        params[f"fc{i}.weight"] = g.uniform(-bound, bound, (sizes[i + 1], sizes[i]))
        params[f"fc{i}.bias"] = g.uniform(-bound, bound, (sizes[i + 1],))
    x = g.standard_normal((32, 10))
    y = g.integers(0, 4, (32,))
    probes = [{k: g.choice([-1, 1], size=v.shape) for k, v in params.items()} for _ in range(STEPS // EVERY)]
    return params, x, y, probes


def mlp_forward(ps, x):
    h = torch.tanh(F.linear(x, ps[0], ps[1]))
    return F.linear(h, ps[2], ps[3])


def run_mlp(case, init, x_np, y_np, probes, labels, dtype):
    """One trajectory. SophiaG draws its labels from the model's softmax when `labels` is None
    (and returns them), otherwise replays the given ones."""
    config, make, schedule_fn, clip = unpack(case)
    names = list(init.keys())
    ps = [torch.tensor(init[k], dtype=dtype, requires_grad=True) for k in names]
    x = torch.tensor(x_np, dtype=dtype)
    y = torch.tensor(y_np, dtype=torch.int64)
    opt = make(ps)
    sched = schedule_fn(opt) if schedule_fn else None
    losses, snaps = [], {}
    sample_rng = np.random.default_rng(7)
    drawn = []
    estimator = {"sophiah": "hutchinson", "sophiag": "gnb"}.get(config["name"])
    for t in range(STEPS):
        loss = F.cross_entropy(mlp_forward(ps, x), y)
        h_hat = None
        if estimator and t % config["every"] == 0:
            if estimator == "hutchinson":
                grads = torch.autograd.grad(loss, ps, create_graph=True)
                u = [torch.tensor(probes[t // EVERY][k], dtype=dtype) for k in names]
                hu = torch.autograd.grad(grads, ps, grad_outputs=u, retain_graph=True)
                h_hat = [ui * hui for ui, hui in zip(u, hu)]
            else:
                logits = mlp_forward(ps, x)
                if labels is None:
                    probs = torch.softmax(logits.detach().double(), -1).numpy()
                    sampled = np.array([sample_rng.choice(4, p=q / q.sum()) for q in probs])
                    drawn.append(sampled)
                else:
                    sampled = labels[t // EVERY]
                ls = F.cross_entropy(logits, torch.tensor(sampled, dtype=torch.int64))
                gs = torch.autograd.grad(ls, ps)
                h_hat = [x.shape[0] * gi * gi for gi in gs]
        losses.append(loss.item())
        for p in ps:
            p.grad = None
        loss.backward()
        if clip:
            clip(ps)
        with torch.no_grad():
            opt.step(h_hat) if estimator else opt.step()
        if sched:
            sched.step()
        if t + 1 in SNAPSHOTS:
            snaps[str(t + 1)] = {k: enc(p, dtype) for k, p in zip(names, ps)}
    digits = "%.9g" if dtype == torch.float32 else "%.17g"
    return {"loss": [float(digits % v) for v in losses], "params": snaps}, drawn


def rel_diff(a, b):
    """max |a - b| / max |b|: how far a float32 run ends from the float64 run of the same code."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.abs(a - b).max() / np.abs(b).max())


def make_mlp():
    init, x, y, probes = mlp_problem()
    out = {
        "doc": "MLP 10-16-4 (Linear, tanh, Linear; weights [out, in]), mean softmax cross-entropy on one "
        "fixed batch (x [32,10], y [32]); 200 optimiser steps from `init`. Each case: the Tiller optimizer "
        "config, and per dtype the loss before every step and the params after steps 1, 10, 200. "
        "`float32_vs_float64`: how far PyTorch's own float32 run ends from its float64 run (max |a-b| / max |b| "
        "over the final params): the problem's float32 sensitivity, a floor for any float32 comparison. "
        "Sophia: curvature steps t = 0, 10, ..., 190 (before the update); `probes.hutchinson[i]` is the "
        "Rademacher u of the i-th curvature step, `probes.labels[i]` the labels sampled from the model's "
        "softmax (drawn from the float64 model, used by both dtypes).",
        "steps": STEPS,
        "init": {k: enc(v, torch.float64) for k, v in init.items()},
        "x": enc(x, torch.float64),
        "y": enc_int(y),
        "probes": {"hutchinson": [{k: enc_int(v) for k, v in p.items()} for p in probes]},
        "cases": {},
    }
    for name, case in CASES.items():
        config = case[0]
        entry = {"config": config}
        # SophiaG's labels are drawn once, from the float64 model, and replayed everywhere else.
        r64, labels = run_mlp(case, init, x, y, probes, None, torch.float64)
        if config["name"] == "sophiag":
            out["probes"]["labels"] = [enc_int(l) for l in labels]
        r32, _ = run_mlp(case, init, x, y, probes, labels, torch.float32)
        entry["float64"], entry["float32"] = r64, r32
        entry["float32_vs_float64"] = float("%.3g" % max(
            rel_diff(r32["params"]["200"][k]["data"], r64["params"]["200"][k]["data"]) for k in init
        ))
        out["cases"][name] = entry
        print(f"mlp {name}: loss {r64['loss'][0]:.4f} -> {r64['loss'][-1]:.4f}")
    return out


# ---------------------------------------------------------------------------------------------
# Rosenbrock paths

# Learning rates keep each path out of the chaotic regime (PyTorch's float32 and float64 paths agree
# to ~1e-6, see `float32_vs_float64`); Sophia's sign-like clipped steps stay sensitive.
PATH_CASES = {
    "sgd": ({"name": "sgd", "lr": 5e-4}, lambda ps: torch.optim.SGD(ps, lr=5e-4)),
    "momentum": ({"name": "sgd", "lr": 1e-4, "momentum": 0.9}, lambda ps: torch.optim.SGD(ps, lr=1e-4, momentum=0.9)),
    "nesterov": (
        {"name": "sgd", "lr": 1e-4, "momentum": 0.9, "nesterov": True},
        lambda ps: torch.optim.SGD(ps, lr=1e-4, momentum=0.9, nesterov=True),
    ),
    "sgd_dampening_wd": (
        {"name": "sgd", "lr": 2e-4, "momentum": 0.8, "dampening": 0.5, "weightDecay": 0.1},
        lambda ps: torch.optim.SGD(ps, lr=2e-4, momentum=0.8, dampening=0.5, weight_decay=0.1),
    ),
    "adagrad": ({"name": "adagrad", "lr": 0.5}, lambda ps: torch.optim.Adagrad(ps, lr=0.5)),
    "rmsprop": ({"name": "rmsprop", "lr": 3e-3}, lambda ps: torch.optim.RMSprop(ps, lr=3e-3)),
    "rmsprop_centered_momentum": (
        {"name": "rmsprop", "lr": 0.002, "centered": True, "momentum": 0.9},
        lambda ps: torch.optim.RMSprop(ps, lr=0.002, centered=True, momentum=0.9),
    ),
    "adam": ({"name": "adam", "lr": 0.05}, lambda ps: torch.optim.Adam(ps, lr=0.05)),
    "adamw": ({"name": "adamw", "lr": 0.05, "weightDecay": 0.1}, lambda ps: torch.optim.AdamW(ps, lr=0.05, weight_decay=0.1)),
    "amsgrad": ({"name": "adam", "lr": 0.05, "amsgrad": True}, lambda ps: torch.optim.Adam(ps, lr=0.05, amsgrad=True)),
    "lion": ({"name": "lion", "lr": 0.01}, lambda ps: Lion(ps, lr=0.01)),
    "sophiah": ({"name": "sophiah", "lr": 0.05, "every": 5, "weightDecay": 0}, lambda ps: Sophia(ps, lr=0.05, weight_decay=0)),
    "adafactor": ({"name": "adafactor", "lr": 0.05}, lambda ps: Adafactor(ps, lr=0.05)),
    "lamb": ({"name": "lamb", "lr": 0.01}, lambda ps: Lamb(ps, lr=0.01)),
    "lars": ({"name": "lars", "lr": 0.5, "momentum": 0.9}, lambda ps: Lars(ps, lr=0.5, momentum=0.9)),
}
PATH_EVERY = 5


def rosenbrock(p):
    x, y = p[0, 0], p[0, 1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def make_rosenbrock():
    g = np.random.default_rng(99)
    probes = [g.choice([-1, 1], size=(1, 2)) for _ in range(STEPS // PATH_EVERY)]
    out = {
        "doc": "Rosenbrock f(x, y) = (1 - x)^2 + 100 (y - x^2)^2 from (-1.5, 2), 200 steps, the point as one "
        "parameter matrix [1, 2] (so LARS, LAMB and AdaFactor treat it as a weight matrix). Per case and dtype: `points` (the start, then the point after every step) "
        "and `values` f at each point; `float32_vs_float64` the largest distance between PyTorch's float32 and "
        "float64 points relative to the point's size (max-norm). SophiaH: curvature every 5 steps (t = 0, 5, ...) with Rademacher "
        "probes `probes[i]`.",
        "start": [-1.5, 2.0],
        "steps": STEPS,
        "probes": [enc_int(p) for p in probes],
        "cases": {},
    }
    for name, (config, make) in PATH_CASES.items():
        entry = {"config": config}
        for dtype, tag in [(torch.float64, "float64"), (torch.float32, "float32")]:
            p = torch.tensor([out["start"]], dtype=dtype, requires_grad=True)
            opt = make([p])
            points, values = [p.detach().clone()], [rosenbrock(p).item()]
            for t in range(STEPS):
                f = rosenbrock(p)
                h_hat = None
                if config["name"] == "sophiah" and t % config["every"] == 0:
                    (gr,) = torch.autograd.grad(f, [p], create_graph=True)
                    u = torch.tensor(probes[t // PATH_EVERY], dtype=dtype)
                    (hu,) = torch.autograd.grad(gr, [p], grad_outputs=u, retain_graph=True)
                    h_hat = [u * hu]
                p.grad = None
                f.backward()
                opt.step(h_hat) if config["name"] == "sophiah" else opt.step()
                points.append(p.detach().clone())
                values.append(rosenbrock(p).item())
            digits = "%.9g" if dtype == torch.float32 else "%.17g"
            entry[tag] = {
                "points": [[float(digits % v) for v in q.reshape(-1).tolist()] for q in points],
                "values": [float(digits % v) for v in values],
            }
        entry["float32_vs_float64"] = float("%.3g" % max(
            rel_diff(a, b) for a, b in zip(entry["float32"]["points"], entry["float64"]["points"])
        ))
        out["cases"][name] = entry
        print(f"rosenbrock {name}: f {entry['float64']['values'][0]:.3f} -> {entry['float64']['values'][-1]:.3g}")
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    for file, data in [("mlp.json", make_mlp()), ("rosenbrock.json", make_rosenbrock())]:
        with open(os.path.join(OUT, file), "w") as f:
            json.dump(data, f, separators=(",", ":"))
            f.write("\n")
        print(f"wrote {os.path.join(OUT, file)} ({os.path.getsize(os.path.join(OUT, file)) / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()
