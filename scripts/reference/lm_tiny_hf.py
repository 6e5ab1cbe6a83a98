"""Writes tiny random Hugging Face-layout checkpoints (Llama and Qwen2 families) and their logits.

Run with Debian's PyTorch:  /usr/bin/python3 scripts/reference/lm_tiny_hf.py
Output: test/fixtures/reference/lm/{llama-tiny,qwen2-tiny}/  (config.json, *.safetensors,
tokenizer.json, tokenizer_config.json) and expected.json in each: token ids of a few strings under
the byte-level BPE, logits of a sequence, and a greedy continuation computed by full recomputation.

The forward pass is written here from the Hugging Face modeling code's definitions (RMSNorm in
float32, rotate_half rotary embedding, repeat_kv for grouped KV heads, SwiGLU MLP), independently
of the TypeScript implementation it checks. No transformers/safetensors/tokenizers packages are
needed: the safetensors format and the byte-level BPE are written out by hand below.
"""

import json
import os
import re
import struct

import torch

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "reference", "lm")


# ---------------------------------------------------------------- byte-level BPE (GPT-2 style)
def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


B2U = bytes_to_unicode()
MERGES = [("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("i", "n"), ("Ġ", "a"), ("e", "r"), ("Ġ", "1"), ("o", "n"), ("Ġa", "n"), ("Ġan", "d")]
# ASCII-equivalent of GPT-2's pre-tokenisation pattern (the test strings are ASCII).
SPLIT = re.compile(r"'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+")


def build_vocab():
    vocab = {}
    for b in range(256):
        vocab[B2U[b]] = len(vocab)
    for a, b in MERGES:
        vocab[a + b] = len(vocab)
    return vocab


def bpe_encode(text, vocab):
    ids = []
    ranks = {m: i for i, m in enumerate(MERGES)}
    for piece in SPLIT.findall(text):
        word = [B2U[b] for b in piece.encode("utf-8")]
        while len(word) > 1:
            pairs = [(ranks.get((word[i], word[i + 1]), 1e9), i) for i in range(len(word) - 1)]
            rank, i = min(pairs)
            if rank == 1e9:
                break
            word = word[:i] + [word[i] + word[i + 1]] + word[i + 2 :]
        ids += [vocab[w] for w in word]
    return ids


def tokenizer_json(vocab, specials):
    added = [
        {"id": i, "content": c, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}
        for c, i in specials.items()
    ]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": False,
            "byte_fallback": False,
            "vocab": vocab,
            "merges": [f"{a} {b}" for a, b in MERGES],
        },
    }


# ---------------------------------------------------------------- safetensors writer
DTYPE_NAME = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16"}


def raw_bytes(t):
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        b = raw_bytes(t)
        header[name] = {"dtype": DTYPE_NAME[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    header["__metadata__"] = {"format": "pt"}
    js = json.dumps(header).encode()
    js += b" " * ((8 - len(js) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(js)))
        f.write(js)
        for b in blobs:
            f.write(b)


# ---------------------------------------------------------------- the model, HF definitions
def rms_norm(x, w, eps):
    var = x.pow(2).mean(-1, keepdim=True)
    return w * (x * torch.rsqrt(var + eps))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def forward(p, cfg, ids):
    B, T = ids.shape
    D, H, KVH = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = D // H
    eps = cfg["rms_norm_eps"]
    inv_freq = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
    pos = torch.arange(T, dtype=torch.float32)
    freqs = torch.outer(pos, inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[None, None], emb.sin()[None, None]
    h = p["model.embed_tokens.weight"][ids]
    mask = torch.full((T, T), float("-inf")).triu(1)
    for i in range(cfg["num_hidden_layers"]):
        pre = f"model.layers.{i}."

        def lin(name, x):
            y = x @ p[pre + name + ".weight"].T
            b = p.get(pre + name + ".bias")
            return y + b if b is not None else y

        x = rms_norm(h, p[pre + "input_layernorm.weight"], eps)
        q = lin("self_attn.q_proj", x).view(B, T, H, hd).transpose(1, 2)
        k = lin("self_attn.k_proj", x).view(B, T, KVH, hd).transpose(1, 2)
        v = lin("self_attn.v_proj", x).view(B, T, KVH, hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k[:, :, None].expand(B, KVH, H // KVH, T, hd).reshape(B, H, T, hd)
        v = v[:, :, None].expand(B, KVH, H // KVH, T, hd).reshape(B, H, T, hd)
        att = torch.softmax(q @ k.transpose(-1, -2) / hd**0.5 + mask, dim=-1)
        a = (att @ v).transpose(1, 2).reshape(B, T, H * hd)
        h = h + lin("self_attn.o_proj", a)
        y = rms_norm(h, p[pre + "post_attention_layernorm.weight"], eps)
        g = torch.nn.functional.silu(lin("mlp.gate_proj", y)) * lin("mlp.up_proj", y)
        h = h + lin("mlp.down_proj", g)
    h = rms_norm(h, p["model.norm.weight"], eps)
    head = p["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else p["lm_head.weight"]
    return h @ head.T


def build(model_type, dtype, tie, bias, seed):
    """The random model (params rounded through `dtype`, as stored) and its HF config."""
    torch.manual_seed(seed)
    vocab = build_vocab()
    specials = {"<|bos|>": len(vocab), "<|eos|>": len(vocab) + 1}
    n_tok = len(vocab) + len(specials)
    cfg = {
        "architectures": ["LlamaForCausalLM" if model_type == "llama" else "Qwen2ForCausalLM"],
        "model_type": model_type,
        "vocab_size": n_tok + 4,  # checkpoints often pad the embedding past the tokenizer
        "hidden_size": 32,
        "intermediate_size": 88,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "rms_norm_eps": 1e-6,
        "rope_theta": 10000.0 if model_type == "llama" else 1000000.0,
        "max_position_embeddings": 128,
        "tie_word_embeddings": tie,
        "torch_dtype": {torch.bfloat16: "bfloat16", torch.float16: "float16", torch.float32: "float32"}[dtype],
        "bos_token_id": specials["<|bos|>"],
        "eos_token_id": specials["<|eos|>"],
    }
    if model_type == "llama":
        cfg["attention_bias"] = bias
    D, I, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    hd = D // cfg["num_attention_heads"]
    kv = cfg["num_key_value_heads"] * hd
    p = {"model.embed_tokens.weight": torch.randn(V, D) * 0.5}
    for i in range(cfg["num_hidden_layers"]):
        pre = f"model.layers.{i}."
        for n, shape in [
            ("self_attn.q_proj", (D, D)),
            ("self_attn.k_proj", (kv, D)),
            ("self_attn.v_proj", (kv, D)),
            ("self_attn.o_proj", (D, D)),
            ("mlp.gate_proj", (I, D)),
            ("mlp.up_proj", (I, D)),
            ("mlp.down_proj", (D, I)),
        ]:
            p[pre + n + ".weight"] = torch.randn(*shape) / shape[1] ** 0.5
            if bias and n in ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"):
                p[pre + n + ".bias"] = torch.randn(shape[0]) * 0.1
        p[pre + "input_layernorm.weight"] = 1 + 0.1 * torch.randn(D)
        p[pre + "post_attention_layernorm.weight"] = 1 + 0.1 * torch.randn(D)
    p["model.norm.weight"] = 1 + 0.1 * torch.randn(D)
    if not tie:
        p["lm_head.weight"] = torch.randn(V, D) / D**0.5
    # Store in the checkpoint dtype; the reference computes in float32 from the stored values.
    stored = {k: v.to(dtype) for k, v in p.items()}
    return stored, cfg, vocab, specials


def make(name, model_type, dtype, tie, bias, shards, seed):
    stored, cfg, vocab, specials = build(model_type, dtype, tie, bias, seed)
    p = {k: v.to(torch.float32) for k, v in stored.items()}

    out = os.path.join(ROOT, name)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    names = list(stored)
    if shards == 1:
        write_safetensors(os.path.join(out, "model.safetensors"), stored)
    else:
        weight_map = {}
        per = (len(names) + shards - 1) // shards
        for s in range(shards):
            fname = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
            part = {n: stored[n] for n in names[s * per : (s + 1) * per]}
            write_safetensors(os.path.join(out, fname), part)
            weight_map.update({n: fname for n in part})
        with open(os.path.join(out, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {}, "weight_map": weight_map}, f, indent=2)
    with open(os.path.join(out, "tokenizer.json"), "w") as f:
        json.dump(tokenizer_json(vocab, specials), f)
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump({"bos_token": "<|bos|>", "eos_token": "<|eos|>", "add_bos_token": False}, f)

    texts = ["the cat and the hat", "in 1 hour, then 12 more!", "There and then"]
    encodings = {t: bpe_encode(t, vocab) for t in texts}
    ids = torch.tensor([[specials["<|bos|>"]] + encodings[texts[0]]])
    with torch.no_grad():
        logits = forward(p, cfg, ids)
        seq = ids.clone()
        for _ in range(8):  # greedy, recomputing the whole sequence every step
            nxt = forward(p, cfg, seq)[:, -1].argmax(-1, keepdim=True)
            seq = torch.cat([seq, nxt], 1)
    expected = {
        "doc": f"{name}: byte-level BPE ids, float32 logits of `ids`, greedy continuation (8 tokens)",
        "encodings": encodings,
        "ids": ids[0].tolist(),
        "logits": {"shape": list(logits.shape), "data": [round(v, 7) for v in logits.flatten().tolist()]},
        "greedy": seq[0, ids.shape[1] :].tolist(),
    }
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f)
    print(name, "params", sum(v.numel() for v in p.values()), "ids", ids[0].tolist(), "greedy", expected["greedy"])


LLAMA_TINY = dict(model_type="llama", dtype=torch.bfloat16, tie=False, bias=False, seed=1)
QWEN2_TINY = dict(model_type="qwen2", dtype=torch.float16, tie=True, bias=True, seed=2)

if __name__ == "__main__":
    make("llama-tiny", shards=2, **LLAMA_TINY)
    make("qwen2-tiny", shards=1, **QWEN2_TINY)
