"""Reads Fashion-MNIST's gzipped IDX files with numpy only.

Why this exists: the fixtures (make_fixtures.py) and the PyTorch twin (twin.py) must read the
exact same bytes Tiller reads, without torchvision or any download.
"""

import gzip
import os
import struct

import numpy as np

DATA_DIR = os.environ.get("TILLER_FASHION_MNIST", "/usr/share/datasets/fashion-mnist")


def read_idx(path):
    """Reads a gzipped IDX file (big-endian header: magic 0x0000 08 ndim, then ndim uint32 dims)."""
    with gzip.open(path, "rb") as f:
        buf = f.read()
    magic = struct.unpack(">I", buf[:4])[0]
    ndim = magic & 0xFF
    assert magic >> 8 == 0x08, "expected unsigned byte data"
    dims = struct.unpack(">" + "I" * ndim, buf[4:4 + 4 * ndim])
    return np.frombuffer(buf, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_fashion_mnist(data_dir=DATA_DIR):
    """Returns (train_images, train_labels, test_images, test_labels) as uint8 arrays."""
    p = lambda name: os.path.join(data_dir, name)
    return (
        read_idx(p("train-images-idx3-ubyte.gz")),
        read_idx(p("train-labels-idx1-ubyte.gz")),
        read_idx(p("t10k-images-idx3-ubyte.gz")),
        read_idx(p("t10k-labels-idx1-ubyte.gz")),
    )
