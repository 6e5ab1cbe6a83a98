"""Reference values for Singular Value Fine-tuning, computed with PyTorch as the official code does.

Run:  /usr/bin/python3 scripts/reference/svf_reference.py
Writes test/fixtures/reference/lm/svf.json with, for the llama-tiny fixture model (its MLP
matrices, as the official code's `"mlp" in k` selects them):
  - p (the trainable vectors), z = sigmoid(p) (max_mult 1);
  - W' = U diag(S*z) V^T * (sum S / sum(S*z)) from torch.svd (utils.compose_new_params);
  - the REINFORCE loss with a KL penalty on fixed tokens/mask/rewards, and its gradient w.r.t. p,
    for both KL directions.
"""

import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from lm_tiny_hf import LLAMA_TINY, ROOT, build, forward  # noqa: E402

torch.manual_seed(7)
stored, cfg, _, _ = build(**LLAMA_TINY)
base = {k: v.to(torch.float64) for k, v in stored.items()}
targets = [k for k in base if "mlp" in k]
dec = {}
for k in targets:
    U, S, V = torch.svd(base[k])
    dec[k] = (U, S, V)
p = {k: (torch.randn(dec[k][1].shape[0], dtype=torch.float64) * 0.5 + 0.1).requires_grad_(True) for k in targets}


def compose(k, z):
    U, S, V = dec[k]
    return U @ torch.diag_embed(S * z) @ V.T * (S.sum() / (S * z).sum())


# Tokens: two rows of 12 tokens, the last 5 of each "generated"; mask over next-token positions.
V = cfg["vocab_size"]
tokens = torch.randint(0, V, (2, 12))
mask = torch.zeros(2, 11, dtype=torch.float64)
mask[:, 6:] = 1
rewards = torch.tensor([1.0, -1.0], dtype=torch.float64)


def objective(kl_coef, direction):
    params = dict(base)
    for k in targets:
        params[k] = compose(k, torch.sigmoid(p[k]))
    logp = torch.log_softmax(forward(params, cfg, tokens)[:, :-1], -1)
    with torch.no_grad():
        ref = torch.log_softmax(forward(base, cfg, tokens)[:, :-1], -1)
    chosen = logp.gather(2, tokens[:, 1:, None]).squeeze(-1)
    loss = -(rewards * (chosen * mask).sum(-1)).sum() / 2
    if direction == "policy-ref":
        kl_t = (logp.exp() * (logp - ref)).sum(-1)
    else:  # what torch.nn.functional.kl_div(logp, ref, log_target=True, reduction="sum") computes
        kl_t = (ref.exp() * (ref - logp)).sum(-1)
    kl = (kl_t * mask).sum() / 2
    return loss + kl_coef * kl, kl


out = {
    "doc": "SVF on llama-tiny's MLP matrices: p, composed W', REINFORCE+KL loss and d loss/d p (float64)",
    "targets": targets,
    "p": {k: v.detach().tolist() for k, v in p.items()},
    "composed": {k: compose(k, torch.sigmoid(p[k])).detach().flatten().tolist() for k in targets[:2]},
    "tokens": tokens.tolist(),
    "mask": mask.tolist(),
    "rewards": rewards.tolist(),
    "cases": [],
}
for kl_coef, direction in [(0.0, "policy-ref"), (0.5, "policy-ref"), (0.5, "ref-policy")]:
    for v in p.values():
        v.grad = None
    loss, kl = objective(kl_coef, direction)
    loss.backward()
    out["cases"].append(
        {
            "kl_coef": kl_coef,
            "direction": direction,
            "loss": loss.item(),
            "kl": kl.item(),
            "grad": {k: v.grad.tolist() for k, v in p.items()},
        }
    )
with open(os.path.join(ROOT, "svf.json"), "w") as f:
    json.dump(out, f)
print("wrote svf.json; losses", [c["loss"] for c in out["cases"]])
