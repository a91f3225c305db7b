"""A small workload that runs every kernel family (and the corner cases of their tilings), for
the tests of DMA plans, per-core streams and the checked emulator (test_streams.py,
test_checked.py)."""
from __future__ import annotations

import numpy as np

import spinla as sp
from spinla.nn import optimizers as opt
from spinla.nn.data import gather_rows, place_rows


class Recorder:
    """Collects every Program run while it is observed (spinla.runtime.observing)."""

    def __init__(self):
        self.programs = []

    def on_run(self, program):
        self.programs.append(program)


def run_ops(rng) -> None:
    """Eager ops covering each kernel family and its tiling variants (results unused: the
    observer keeps the Programs)."""
    a = sp.asarray(rng.uniform(-1, 1, (40, 70)), fmt="q2.13")
    b = sp.asarray(rng.uniform(-1, 1, (70, 30)), fmt="q2.13")
    big = sp.asarray(rng.uniform(-1, 1, (12, 700)), fmt="q2.13")
    row = sp.asarray(rng.uniform(-1, 1, (700,)), fmt="q2.13")
    col = sp.asarray(rng.uniform(-1, 1, (12, 1)), fmt="q2.13")
    sp.matmul(a, b)                                         # gemm
    sp.matmul(sp.asarray(rng.uniform(-1, 1, (3, 9, 20)), fmt="q2.13"),
              sp.asarray(rng.uniform(-1, 1, (3, 20, 5)), fmt="q2.13"))   # batched gemm
    sp.add(big, row)                                        # broadcast larger than a tile
    sp.multiply(big, col)
    sp.multiply(sp.asarray(rng.uniform(-1, 1, (600, 50)), fmt="q2.13"),
                sp.asarray(rng.uniform(-1, 1, (600, 1)), fmt="q2.13"))     # a long column
    sp.add(sp.asarray(rng.uniform(-1, 1, (4, 30, 100)), fmt="q2.13"),
           sp.asarray(rng.uniform(-1, 1, (4, 1, 100)), fmt="q2.13"))       # 3-d broadcast
    sp.where(sp.greater(big, 0), big, row)                  # three operands
    sp.clip(big, -0.5, 0.5)
    sp.exp(sp.multiply(big, 0.5))                           # lut
    sp.tanh(big)
    sp.astype(big, "q4.11")                                   # requant
    sp.sum(big, axis=0)                                     # reduce: column slices
    sp.sum(sp.asarray(rng.uniform(-1, 1, (6400, 16)), fmt="q2.13"), axis=0)  # split: partials
    sp.mean(big, axis=1)
    sp.argmax(big, axis=1)
    sp.max(sp.reshape(big, (12, 7, 100)), axis=1)
    sp.softmax(big, axis=-1)                                # softmax
    sp.logsumexp(big, axis=-1)
    sp.softmax(sp.asarray(rng.uniform(-1, 1, (2, 20000)), fmt="q2.13"), axis=-1)  # streamed
    sp.matrix_transpose(a)                                  # copies
    sp.flip(a, axis=1)
    sp.pad(a, ((1, 2), (3, 0)))
    sp.concatenate([a, a[:5]], axis=0)
    sp.broadcast_to(row, (3, 700)) + 0
    a[::2, 1::3] + 0
    sp.take(big, np.array([3, 1, 2, 2, 7, 8, 9]), axis=0)   # gather
    gather_rows(big, place_rows(np.array([3, 1, 2, 2, 7, 8, 9]), big.shape[0]))  # indexed
    x = sp.asarray(rng.uniform(-1, 1, (2, 10, 12, 3)), fmt="q2.13")
    w = sp.asarray(rng.uniform(-0.3, 0.3, (3, 3, 3, 4)), fmt="q2.13")
    y = sp.conv2d(x, w, stride=(1, 2), padding="same")      # pack + conv
    sp.pad(x, ((0, 0), (2, 1), (2, 2), (0, 1)))             # a 4-d padding fill
    sp.conv2d_grad_input(y, w, x.shape, stride=(1, 2), padding="same")      # flipped pack
    sp.conv2d_grad_weight(x, y, w.shape, stride=(1, 2), padding="same")     # gw + reduce
    p, idx = sp.max_pool2d(x, 2, return_indices=True)        # pools
    sp.max_pool2d_grad(p, idx, x.shape, 2)
    q = sp.avg_pool2d(x, 2)
    sp.avg_pool2d_grad(q, x.shape, 2)
    theta = sp.encode_affine(np.tile(np.eye(2), (2, 1, 1)) * 0.9, np.ones((2, 2)))
    sp.warp_affine(sp.asarray(rng.uniform(0, 1, (2, 8, 8)), fmt="q1.14"), theta)   # warp
    lr = sp.asarray(np.array([0.25]), fmt="q0.15")
    wt = sp.asarray(rng.uniform(-1, 1, (50, 9)), fmt="q2.13")
    g = sp.asarray(rng.uniform(-1, 1, (50, 9)), fmt="q2.13")
    opt.sgd_update(wt, g, lr, 4)                            # sgd
    opt.sgd_update(wt, g, lr, 4, v=sp.zeros((50, 9), fmt="q2.13"), momentum=0.9)


def train_steps(rng, nets=("mlp1", "lenet5")) -> None:
    """One short fit (two steps of batch 8) of each named MNIST network on random digits."""
    from spinla import nn
    x = rng.random((16, 28, 28))
    y = np.eye(10)[rng.integers(0, 10, 16)]
    for name in nets:
        m = getattr(nn, name)(seed=0)
        m.compile(optimizer=nn.Adam(1e-3), loss="categorical_crossentropy")
        m.fit(x, y, epochs=1, batch_size=8, shuffle=False, seed=0, verbose=0)
