"""Writes the reference fixtures under test/fixtures/reference/.

Why this exists: Tiller's unit tests need an independent source of truth for layer
forward passes, gradients, activations, the shared data-order rule, the safetensors format
and the Fashion-MNIST files. Everything here is computed with PyTorch / numpy (float64
where possible) and stored as plain JSON, so the TypeScript tests only read numbers.

Run with:  ${TILLER_PYTHON:-/usr/bin/python3} scripts/reference/make_fixtures.py
(the output is deterministic; rerunning rewrites identical files).

Tensor encoding in every JSON file: {"shape": [...], "data": [row-major flat list]};
a scalar has shape [] and a one-element data list.
"""

import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from data_order import epoch_permutation, mulberry32  # noqa: E402
from idx import load_fashion_mnist  # noqa: E402

torch.set_num_threads(2)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "test", "fixtures", "reference")

GRAD_DOC = (
    "Each case: inputs and params are the differentiable tensors, consts the non-differentiable "
    "ones; output = f(inputs, params, consts); grads[name] = d sum(output * cotangent) / d name "
    "for every name in inputs and params. All values float64 unless stated. Linear-style weights "
    "use the PyTorch layout [out, in] with y = x @ W^T + b."
)


def enc(t):
    """Tensor -> {"shape", "data"} (row-major)."""
    if isinstance(t, torch.Tensor):
        t = t.detach().cpu().numpy()
    a = np.asarray(t)
    return {"shape": list(a.shape), "data": a.reshape(-1).tolist()}


class Rand:
    """Deterministic float64 sample source (numpy PCG64, fixed seed)."""

    def __init__(self, seed):
        self.g = np.random.default_rng(seed)

    def normal(self, *shape, scale=1.0):
        return torch.tensor(self.g.standard_normal(shape) * scale, dtype=torch.float64)

    def uniform(self, lo, hi, *shape):
        return torch.tensor(self.g.uniform(lo, hi, shape), dtype=torch.float64)

    def ints(self, hi, *shape):
        return torch.tensor(self.g.integers(0, hi, shape), dtype=torch.int64)


def make_case(doc, fn, inputs, params=None, consts=None, config=None, rand=None, extra=None):
    """Evaluates fn(**inputs, **params, **consts), draws a cotangent, and collects grads.

    fn returns either the output tensor or (output, {name: extra tensor}).
    """
    params = params or {}
    consts = consts or {}
    leaves = {k: v.clone().requires_grad_(True) for k, v in {**inputs, **params}.items()}
    result = fn(**leaves, **consts)
    side = {}
    if isinstance(result, tuple):
        result, side = result
    if result.dim() == 0:
        cot = torch.ones((), dtype=torch.float64)
    else:
        cot = rand.normal(*result.shape)
    grads = torch.autograd.grad((result * cot).sum(), list(leaves.values()))
    case = {"doc": doc}
    if config:
        case["config"] = config
    case["inputs"] = {k: enc(v) for k, v in inputs.items()}
    case["params"] = {k: enc(v) for k, v in params.items()}
    case["consts"] = {k: enc(v) for k, v in consts.items()}
    case["output"] = enc(result)
    case["cotangent"] = enc(cot)
    case["grads"] = {k: enc(g) for k, g in zip(leaves.keys(), grads)}
    for k, v in side.items():
        case[k] = {n: enc(t) for n, t in v.items()} if isinstance(v, dict) else enc(v)
    if extra:
        case.update(extra)
    return case


# ---------------------------------------------------------------------------------------------
# layers.json


def linear_cases(r):
    return {
        "basic": make_case(
            "y = x @ W^T + b; x [3,5], W [4,5] (out x in), b [4].",
            lambda x, W, b: F.linear(x, W, b),
            {"x": r.normal(3, 5)},
            {"W": r.normal(4, 5, scale=0.5), "b": r.normal(4)},
            rand=r,
        )
    }


def conv_cases(r):
    x = r.normal(2, 3, 6, 6)
    w = r.normal(4, 3, 3, 3, scale=0.3)
    b = r.normal(4)
    cases = {}
    for name, stride, pad, label in [
        ("same", 1, 1, "stride 1, padding 1 on every side (= 'SAME' for stride 1)"),
        ("valid", 1, 0, "stride 1, padding 0 ('VALID')"),
        (
            "stride2_pad1",
            2,
            1,
            "stride 2, explicit symmetric padding 1 on every side (PyTorch style; NOT the "
            "asymmetric padding that 'SAME' with stride 2 would give in JAX/TF)",
        ),
    ]:
        cases[name] = make_case(
            "Cross-correlation (no kernel flip), NCHW input, OIHW weight, per-output-channel "
            "bias: y[n,o,i,j] = b[o] + sum_{c,kh,kw} w[o,c,kh,kw] * xpad[n,c,i*s+kh,j*s+kw]; "
            + label + ".",
            lambda x, w, b, s=stride, p=pad: F.conv2d(x, w, b, stride=s, padding=p),
            {"x": x},
            {"w": w, "b": b},
            config={"stride": [stride, stride], "padding": [[pad, pad], [pad, pad]]},
            rand=r,
        )
    return cases


def pool_cases(r):
    x = r.normal(2, 3, 6, 6)
    return {
        "max_2x2_s2": make_case(
            "max_pool2d, window 2x2, stride 2, no padding, NCHW. Inputs are continuous random "
            "values so there are no ties; the gradient flows to the max of each window only.",
            lambda x: F.max_pool2d(x, 2, 2),
            {"x": x},
            config={"window": [2, 2], "stride": [2, 2]},
            rand=r,
        ),
        "avg_2x2_s2": make_case(
            "avg_pool2d, window 2x2, stride 2, no padding, NCHW: mean of each window.",
            lambda x: F.avg_pool2d(x, 2, 2),
            {"x": x},
            config={"window": [2, 2], "stride": [2, 2]},
            rand=r,
        ),
    }


def layer_norm_cases(r):
    eps = 1e-5
    return {
        "last_dim": make_case(
            "layer_norm over the last dim: mu = mean(x, -1), var = mean((x - mu)^2, -1) "
            "(biased), y = (x - mu) / sqrt(var + eps) * weight + bias; eps = 1e-5.",
            lambda x, weight, bias: F.layer_norm(x, (8,), weight, bias, eps),
            {"x": r.normal(3, 8, scale=2.0) + 0.5},
            {"weight": 1.0 + r.normal(8, scale=0.3), "bias": r.normal(8, scale=0.3)},
            config={"eps": eps, "normalized_shape": [8]},
            rand=r,
        )
    }


def group_norm_cases(r):
    eps = 1e-5
    cases = {}
    for tag, (shape, groups) in {"g2": ((2, 4, 3, 3), 2), "g1": ((2, 3, 2, 2), 1)}.items():
        c = shape[1]
        cases[tag] = make_case(
            f"group_norm, {groups} group(s) of the channel axis 1 of NCHW: per example and group, "
            "mu = mean, var = biased variance over the group's channels and all positions, "
            "y = (x - mu) / sqrt(var + eps) * weight[c] + bias[c]; eps = 1e-5.",
            lambda x, weight, bias, g=groups: F.group_norm(x, g, weight, bias, eps),
            {"x": r.normal(*shape, scale=1.5) + 0.4},
            {"weight": 1.0 + r.normal(c, scale=0.3), "bias": r.normal(c, scale=0.3)},
            config={"eps": eps, "groups": groups},
            rand=r,
        )
    return cases


def batch_norm_cases(r):
    eps, momentum = 1e-5, 0.1
    cases = {}
    for tag, shape in [("2d", (6, 4)), ("4d", (2, 3, 4, 4))]:
        c = shape[1]
        x = r.normal(*shape, scale=1.5) + 0.7
        weight = 1.0 + r.normal(c, scale=0.3)
        bias = r.normal(c, scale=0.3)
        rm = r.normal(c, scale=0.5)
        rv = r.uniform(0.5, 2.0, c)
        n = x.numel() // c

        def train_fn(x, weight, bias, running_mean, running_var):
            rm2, rv2 = running_mean.clone(), running_var.clone()
            y = F.batch_norm(x, rm2, rv2, weight, bias, True, momentum, eps)
            return y, {"state_out": {"running_mean": rm2, "running_var": rv2}}

        cases["train_" + tag] = make_case(
            "batch_norm, training mode, channel axis 1, statistics over all other axes "
            f"(n = {n} values per channel): mean = mean(x), var_b = biased variance "
            "(divide by n); y = (x - mean) / sqrt(var_b + eps) * weight + bias. Running stats "
            "(PyTorch rule, momentum 0.1): running_mean' = (1 - m) * running_mean + m * mean, "
            "running_var' = (1 - m) * running_var + m * var_b * n / (n - 1) (UNBIASED variance). "
            "consts hold the running stats before the step, state_out after. Gradients flow "
            "through the batch statistics.",
            train_fn,
            {"x": x},
            {"weight": weight, "bias": bias},
            consts={"running_mean": rm, "running_var": rv},
            config={"eps": eps, "momentum": momentum, "training": True, "n_per_channel": n},
            rand=r,
        )

        def eval_fn(x, weight, bias, running_mean, running_var):
            return F.batch_norm(x, running_mean.clone(), running_var.clone(), weight, bias,
                                False, momentum, eps)

        cases["eval_" + tag] = make_case(
            "batch_norm, eval mode, channel axis 1: y = (x - running_mean) / "
            "sqrt(running_var + eps) * weight + bias (running stats broadcast along axis 1); "
            "running stats are unchanged.",
            eval_fn,
            {"x": x},
            {"weight": weight, "bias": bias},
            consts={"running_mean": rm, "running_var": rv},
            config={"eps": eps, "momentum": momentum, "training": False},
            rand=r,
        )
    return cases


ATTENTION_DOC = (
    "Multi-head self-attention, x [B=2, T=4, E=8], H=2 heads, d_head = E/H = 4. "
    "Q = x @ W_q^T + b_q, K = x @ W_k^T + b_k, V = x @ W_v^T + b_v (W [8,8] as [out,in]); "
    "split the feature axis into heads: head h uses features h*d_head .. (h+1)*d_head-1, i.e. "
    "reshape [B,T,E] -> [B,T,H,d_head] -> transpose to [B,H,T,d_head]. "
    "S = Q @ K^T / sqrt(d_head) ([B,H,T,T], query index i = row, key index j = column); "
    "causal case: S[..., i, j] = -inf for j > i; P = softmax(S, axis=-1) (stored as "
    "attention_weights); O = P @ V -> transpose/reshape back to [B,T,E] (heads concatenated "
    "in order); y = O @ W_o^T + b_o. No dropout."
)


def attention_cases(r):
    B, T, E, H = 2, 4, 8, 2
    dh = E // H
    x = r.normal(B, T, E)
    params = {}
    for name in "qkvo":
        params["W_" + name] = r.normal(E, E, scale=1.0 / math.sqrt(E))
        params["b_" + name] = r.normal(E, scale=0.1)

    def attn(causal):
        def fn(x, W_q, b_q, W_k, b_k, W_v, b_v, W_o, b_o):
            def heads(t):
                return t.reshape(B, T, H, dh).transpose(1, 2)

            q = heads(x @ W_q.T + b_q)
            k = heads(x @ W_k.T + b_k)
            v = heads(x @ W_v.T + b_v)
            s = q @ k.transpose(-1, -2) / math.sqrt(dh)
            if causal:
                mask = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
                s = s.masked_fill(mask, float("-inf"))
            p = torch.softmax(s, dim=-1)
            o = (p @ v).transpose(1, 2).reshape(B, T, E)
            return o @ W_o.T + b_o, {"attention_weights": p}

        return fn

    cfg = {"batch": B, "seq": T, "embed": E, "heads": H, "d_head": dh}
    return {
        "self": make_case(ATTENTION_DOC + " This case: no mask.", attn(False), {"x": x},
                          params, config={**cfg, "causal": False}, rand=r),
        "causal": make_case(ATTENTION_DOC + " This case: causal mask.", attn(True), {"x": x},
                            params, config={**cfg, "causal": True}, rand=r),
    }


def cross_entropy_cases(r):
    return {
        "mean": make_case(
            "Softmax cross-entropy, mean reduction: loss = mean_n(logsumexp(z[n]) - "
            "z[n, label[n]]); output is a scalar, cotangent 1, so grads.logits = "
            "(softmax(z) - onehot(label)) / N.",
            lambda logits, labels: F.cross_entropy(logits, labels, reduction="mean"),
            {"logits": r.normal(5, 10, scale=2.0)},
            consts={"labels": r.ints(10, 5)},
            rand=r,
        )
    }


def write_layers():
    r = Rand(20240601)
    out = {
        "doc": GRAD_DOC,
        "linear": linear_cases(r),
        "conv2d": conv_cases(r),
        "pool2d": pool_cases(r),
        "layer_norm": layer_norm_cases(r),
        "batch_norm": batch_norm_cases(r),
        "attention": attention_cases(r),
        "cross_entropy": cross_entropy_cases(r),
        # Its own sample source, so adding it left every case above unchanged.
        "group_norm": group_norm_cases(Rand(20261207)),
    }
    dump("layers.json", out)


# ---------------------------------------------------------------------------------------------
# activations.json


def write_activations():
    xs = np.concatenate([np.linspace(-6.0, 6.0, 41), [-50.0, 50.0]])
    x0 = torch.tensor(xs, dtype=torch.float64)

    fns = {
        "relu": ("max(x, 0); derivative at x = 0 is 0 (PyTorch: x > 0).", F.relu),
        "leaky_relu": (
            "x if x > 0 else 0.01 * x; derivative at x = 0 is 0.01 (PyTorch: x > 0 ? 1 : slope).",
            lambda x: F.leaky_relu(x, 0.01),
        ),
        "prelu": (
            "x if x > 0 else a * x with a single a = 0.25; derivative at x = 0 is 0.25.",
            lambda x: F.prelu(x, torch.tensor([0.25], dtype=torch.float64)),
        ),
        "tanh": ("tanh(x); derivative 1 - tanh(x)^2.", torch.tanh),
        "sigmoid": ("1 / (1 + exp(-x)); derivative s * (1 - s).", torch.sigmoid),
        "gelu_erf": (
            "Exact GELU: 0.5 * x * (1 + erf(x / sqrt(2))) (PyTorch approximate='none').",
            lambda x: F.gelu(x, approximate="none"),
        ),
        "gelu_tanh": (
            "Tanh-approximated GELU: 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3))) "
            "(PyTorch approximate='tanh'; jax.nn.gelu's default approximate=True).",
            lambda x: F.gelu(x, approximate="tanh"),
        ),
        "silu": ("x * sigmoid(x) (swish).", F.silu),
        "softplus": (
            "softplus with beta 1, threshold 20 (PyTorch): x if x * beta > 20 else "
            "log(1 + exp(beta * x)) / beta; derivative 1 where x * beta > 20 else sigmoid(beta*x).",
            lambda x: F.softplus(x, beta=1, threshold=20),
        ),
    }
    out = {
        "doc": "Elementwise activations in float64 at the points x; derivative = d f(x) / dx "
               "(autograd with cotangent 1 per element).",
        "x": xs.tolist(),
        "functions": {},
    }
    for name, (doc, fn) in fns.items():
        x = x0.clone().requires_grad_(True)
        y = fn(x)
        (g,) = torch.autograd.grad(y.sum(), [x])
        out["functions"][name] = {"doc": doc, "value": y.detach().tolist(), "derivative": g.tolist()}
    dump("activations.json", out)


# ---------------------------------------------------------------------------------------------
# shuffle.json


def write_shuffle():
    rng = mulberry32(12345)
    out = {
        "doc": "Tiller's data-order rule (see scripts/reference/data_order.py and "
               "src/data/order.ts): mulberry32 PRNG over uint32 state, epochPermutation(n, seed, "
               "epoch) = Fisher-Yates from i = n-1 down to 1 with j = floor(rng() * (i + 1)), "
               "rng = mulberry32((imul(seed, 0x9E3779B1) + epoch) >>> 0).",
        "mulberry32_12345_first5": [rng() for _ in range(5)],
        "permutations": [
            {"n": 20, "seed": 0, "epoch": 0, "perm": epoch_permutation(20, 0, 0)},
            {"n": 20, "seed": 7, "epoch": 3, "perm": epoch_permutation(20, 7, 3)},
            {"n": 60000, "seed": 42, "epoch": 1, "first16": epoch_permutation(60000, 42, 1)[:16]},
        ],
    }
    dump("shuffle.json", out)


# ---------------------------------------------------------------------------------------------
# safetensors/python-written.{safetensors,json}

DTYPES = {"F64": ("<f8", 8), "F32": ("<f4", 4), "I32": ("<i4", 4)}


def write_safetensors(path, tensors, metadata):
    """Minimal safetensors writer using only struct/json (tensors: list of (name, dtype, array)).

    Layout: uint64 LE header length N, N bytes of JSON header (space-padded to a multiple of
    8), then the raw little-endian data; data_offsets are relative to the start of the data.
    Tensors are laid out in the given order (widest dtype first keeps every tensor aligned).
    """
    header = {"__metadata__": metadata}
    blobs, offset = [], 0
    for name, dtype, arr in tensors:
        raw = np.asarray(arr, dtype=DTYPES[dtype][0]).tobytes(order="C")
        header[name] = {"dtype": dtype, "shape": list(np.shape(arr)),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    hbytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hbytes += b" " * (-len(hbytes) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hbytes)))
        f.write(hbytes)
        for raw in blobs:
            f.write(raw)
    return hbytes


def write_safetensors_fixture():
    weight = (np.arange(12, dtype=np.float64).reshape(3, 4) - 5.5) * 0.1  # 0.1 steps: not exact in F32
    tensors = [
        ("scale", "F64", np.array([0.1, -2.5e-300])),
        ("layer0.weight", "F32", weight.astype(np.float32)),
        ("layer0.bias", "F32", np.array([1.0, -0.5, 3.25], dtype=np.float32)),
        ("steps", "I32", np.array(1500, dtype=np.int32)),
    ]
    os.makedirs(os.path.join(OUT, "safetensors"), exist_ok=True)
    path = os.path.join(OUT, "safetensors", "python-written.safetensors")
    hbytes = write_safetensors(path, tensors, {"format": "pt"})
    expected = {
        "doc": "Expected contents of python-written.safetensors (written by make_fixtures.py with "
               "struct/json only). F32 values are given as the exact doubles of the stored float32 "
               "numbers, so Float32Array -> number comparisons can be exact.",
        "header_length": len(hbytes),
        "file_size": os.path.getsize(path),
        "metadata": {"format": "pt"},
        "tensors": {
            name: {"dtype": dtype, "shape": list(np.shape(arr)),
                   "data": np.asarray(arr).reshape(-1).astype(np.float64 if dtype != "I32" else np.int64).tolist()}
            for name, dtype, arr in tensors
        },
    }
    dump("safetensors/python-written.json", expected)


# ---------------------------------------------------------------------------------------------
# data.json


def write_data():
    xtr, ytr, xte, yte = load_fashion_mnist()
    scaled = xtr.astype(np.float64) / 255.0
    out = {
        "doc": "Fashion-MNIST statistics computed with numpy from the gz IDX files. "
               "pixel_mean / pixel_std: over every pixel of the training set after /255, "
               "std is the population std (ddof 0). pixel sums are over the raw uint8 values.",
        "train_count": int(xtr.shape[0]),
        "test_count": int(xte.shape[0]),
        "image_shape": list(xtr.shape[1:]),
        "pixel_mean": float(scaled.mean()),
        "pixel_std": float(scaled.std()),
        "train_labels_first10": ytr[:10].tolist(),
        "test_labels_first10": yte[:10].tolist(),
        "train_image0_pixel_sum": int(xtr[0].astype(np.int64).sum()),
        "test_image0_pixel_sum": int(xte[0].astype(np.int64).sum()),
    }
    dump("data.json", out)


# ---------------------------------------------------------------------------------------------


def dump(rel, obj):
    path = os.path.join(OUT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, allow_nan=False)
        f.write("\n")
    print(f"wrote {os.path.relpath(path, ROOT)} ({os.path.getsize(path)} bytes)")


def main():
    write_layers()
    write_activations()
    write_shuffle()
    write_safetensors_fixture()
    write_data()


if __name__ == "__main__":
    main()
