"""The data-order rule shared bit for bit with Tiller's `src/data/order.ts`.

Why this exists: the PyTorch twin (twin.py) must visit training examples in exactly the
same order as Tiller, so parity runs compare models, not shuffles. The rule uses only
32-bit integer arithmetic, so it is easy to reproduce in any language:

    mulberry32(a):  a = (a + 0x6D2B79F5) | 0
                    t = imul(a ^ (a >>> 15), 1 | a)
                    t = (t + imul(t ^ (t >>> 7), 61 | t)) ^ t
                    return ((t ^ (t >>> 14)) >>> 0) / 2**32
    epochPermutation(n, seed, epoch):
                    rng = mulberry32((imul(seed, 0x9E3779B1) + epoch) >>> 0)
                    perm = [0..n-1]; for i = n-1 .. 1: j = floor(rng() * (i+1)); swap perm[i], perm[j]

Here every value is kept as an unsigned 32-bit pattern (masked with 0xFFFFFFFF); the
JavaScript int32/uint32 distinction only changes how the same bits are read, and all the
operations used (add, multiply, xor, or, logical shift) give the same low 32 bits either way.
"""

MASK = 0xFFFFFFFF


def imul(a, b):
    """Math.imul: the low 32 bits of a * b (returned as an unsigned bit pattern)."""
    return ((a & MASK) * (b & MASK)) & MASK


def mulberry32(state):
    """Returns a function giving floats in [0, 1), exactly as the JavaScript mulberry32."""
    a = state & MASK

    def rng():
        nonlocal a
        a = (a + 0x6D2B79F5) & MASK
        t = imul(a ^ (a >> 15), 1 | a)
        t = ((t + imul(t ^ (t >> 7), 61 | t)) & MASK) ^ t
        return ((t ^ (t >> 14)) & MASK) / 4294967296.0

    return rng


def epoch_seed(seed, epoch):
    """(Math.imul(seed, 0x9E3779B1) + epoch) >>> 0"""
    return (imul(seed, 0x9E3779B1) + epoch) & MASK


def epoch_permutation(n, seed, epoch):
    """Fisher-Yates shuffle of 0..n-1 driven by mulberry32(epoch_seed(seed, epoch))."""
    rng = mulberry32(epoch_seed(seed, epoch))
    perm = list(range(n))
    for i in range(n - 1, 0, -1):
        j = int(rng() * (i + 1))  # floor: the product is non-negative
        perm[i], perm[j] = perm[j], perm[i]
    return perm


if __name__ == "__main__":
    print(epoch_permutation(20, 0, 0))
