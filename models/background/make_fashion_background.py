#!/usr/bin/python3
"""Makes models/background/fashion-vgg.npy: the background set GradientSHAP (expected gradients) draws its
baselines from for the embedded fashion-vgg model.

32 images of the Fashion-MNIST *training* set (the samples under models/samples come from the test set),
chosen with a seeded generator so that every class appears (stratified: 3 or 4 per class, numpy's
default_rng(2021)). Stored as uint8 [32, 28, 28], the raw pixels; the daemon normalises them with the
model's mean and std. Needs Debian's python3-numpy and dataset-fashion-mnist (or --data DIR).

    /usr/bin/python3 models/background/make_fashion_background.py [--data /usr/share/datasets/fashion-mnist]
"""
import argparse
import gzip
import os

import numpy as np


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--count", type=int, default=32)
    args = parser.parse_args()
    images = read_idx(os.path.join(args.data, "train-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(args.data, "train-labels-idx1-ubyte.gz"))
    rng = np.random.default_rng(2021)
    picked = []
    for k in range(args.count):
        cls = k % 10
        candidates = np.flatnonzero(labels == cls)
        picked.append(int(rng.choice(candidates)))
    background = images[picked].astype(np.uint8)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fashion-vgg.npy")
    np.save(out, background)
    print(f"wrote {out}: {background.shape} uint8, training indices {picked}")


if __name__ == "__main__":
    main()
