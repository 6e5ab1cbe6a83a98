"""PyTorch CUDA timings of the training steps that bench/gpu.ts times in Tiller on WebGPU.

Why this exists: to say how fast Tiller's GPU path is, the same steps run on the same machine in
PyTorch on CUDA. Models (twin.py's MLP 784-512-64-10 and CNN, and ViT below, which mirrors
src/nn/models/vit.ts), batch sizes, optimisers (MLP SGD lr 0.01, CNN and ViT Adam lr 1e-3) and
random float32 data as in bench/gpu.ts. TF32 is off for matmuls and convolutions, so both sides
compute in float32.

Each case is timed two ways: "pipelined" (steps queued back to back, one cuda.synchronize at the
end) and "synced" (loss.item() after every step). Median of 3 runs after 3 warm-up steps.
Prints ONE JSON line with the device name.
"""

import argparse
import json
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from twin import build_model  # noqa: E402


def attention(q, k, v):
    if hasattr(F, "scaled_dot_product_attention"):  # torch >= 2.0
        return F.scaled_dot_product_attention(q, k, v)
    return torch.softmax(q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5, -1) @ v


def synchronize(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize()


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_dim):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim)
        self.q, self.k, self.v, self.o = (nn.Linear(dim, dim) for _ in range(4))
        self.norm2 = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, mlp_dim)
        self.fc2 = nn.Linear(mlp_dim, dim)

    def forward(self, h):
        b, t, d = h.shape
        x = self.norm1(h)
        split = lambda y: y.reshape(b, t, self.heads, d // self.heads).transpose(1, 2)  # noqa: E731
        a = attention(split(self.q(x)), split(self.k(x)), split(self.v(x)))
        h = h + self.o(a.transpose(1, 2).reshape(b, t, d))
        return h + self.fc2(F.gelu(self.fc1(self.norm2(h))))


class ViT(nn.Module):
    """src/nn/models/vit.ts defaults: 7x7 patches, dim 64, depth 2, 4 heads, MLP 128, mean pooling."""

    def __init__(self, patch=7, dim=64, depth=2, heads=4, mlp_dim=128, classes=10):
        super().__init__()
        self.patch = patch
        tokens = (28 // patch) ** 2
        self.embed = nn.Linear(patch * patch, dim)
        self.pos = nn.Parameter(torch.randn(tokens, dim) * 0.02)
        self.blocks = nn.ModuleList(Block(dim, heads, mlp_dim) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        b, p = x.shape[0], self.patch
        g = 28 // p
        patches = x.reshape(b, 1, g, p, g, p).permute(0, 2, 4, 1, 3, 5).reshape(b, g * g, p * p)
        h = self.embed(patches) + self.pos
        for blk in self.blocks:
            h = blk(h)
        return self.head(self.norm(h.mean(1)))


def make(name, dev):
    model = ViT() if name == "vit" else build_model(name, [512, 64])
    model = model.to(dev)
    opt = (
        torch.optim.SGD(model.parameters(), lr=0.01)
        if name == "mlp"
        else torch.optim.Adam(model.parameters(), lr=1e-3)
    )
    return model, opt


def time_case(name, batch, steps, dev):
    model, opt = make(name, dev)
    x = torch.randn(batch, 1, 28, 28, device=dev)
    y = torch.randint(0, 10, (batch,), device=dev)

    def step():
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    def run(n, sync):
        synchronize(dev)
        t0 = time.perf_counter()
        for _ in range(n):
            loss = step()
            if sync:
                loss.item()
        synchronize(dev)
        return (time.perf_counter() - t0) / n * 1000.0

    run(3, True)
    pipelined = [run(steps, False) for _ in range(3)]
    synced = [run(steps, True) for _ in range(3)]
    return {"pipelined_ms": statistics.median(pipelined), "synced_ms": statistics.median(synced)}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cases", default="mlp:256,mlp:4096,cnn:256,cnn:1024,vit:256,vit:4096")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--device", default="cuda", help="cuda; cpu only to check the script")
    args = p.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    torch.manual_seed(0)
    dev = torch.device(args.device)
    steps = {}
    for case in args.cases.split(","):
        name, b = case.split(":")
        steps[f"{name}_b{b}"] = time_case(name, int(b), args.steps, dev)
        print(f"  torch {name} B={b}: {steps[f'{name}_b{b}']}", file=sys.stderr)
    print(json.dumps({
        "device_name": torch.cuda.get_device_name(0) if dev.type == "cuda" else "cpu",
        "torch_version": torch.__version__,
        "cuda_version": torch.version.cuda,
        "steps": steps,
    }))


if __name__ == "__main__":
    main()
