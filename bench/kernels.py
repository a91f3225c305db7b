"""Emulator kernel throughput against NumPy float32 on the same shapes, in one run.

    python bench/kernels.py [--repeat N] [--data nn|wide|both]

matmul: 256x784x300 (MLP-1's first layer at batch 256) and 1024x1024x1024.
conv2d: LeNet-5's C1 (64x32x32x1 -> 6 maps, 5x5) and C3 (64x14x14x6 -> 16 maps, 5x5), NumPy
doing im2col + matmul.  Throughput counts 2 operations per multiply-accumulate for both sides.
The emulator runs the SpiNNaker kernels on the host: these are host speeds, not SpiNNaker
speeds (see the cost model for those).

Data: 'nn' uses magnitudes like MNIST training (activations in [0, 2), weights N(0, 0.05));
'wide' uses N(0, 1) values in q3.12 for both operands, the worst case for the int32 chunk bound
of gemm_q15.c.  Target (issue): the emulator reaches >= 0.5x NumPy float32 throughput.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

import spinla  # noqa: E402


def operands(kind, rng, a_shape, b_shape):
    if kind == "nn":
        a = np.maximum(rng.normal(0.3, 0.5, a_shape), 0).clip(0, 1.99)
        b = rng.normal(0, 0.05, b_shape)
        return a, b, 14, 13, 10
    wide = [rng.normal(0, 1, s).clip(-7.9, 7.9) for s in (a_shape, b_shape)]
    return wide[0], wide[1], 12, 12, 7          # q8.7 output: sums of N(0,1) products fit


def im2col_conv(x, w):
    """NumPy float32 valid convolution, NHWC x HWIO, via im2col + matmul."""
    kh, kw, cin, cout = w.shape
    win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))
    n, oh, ow = win.shape[:3]
    cols = win.transpose(0, 1, 2, 4, 5, 3).reshape(n * oh * ow, kh * kw * cin)
    return (cols @ w.reshape(-1, cout)).reshape(n, oh, ow, cout)


def bench_case(name, macs, f_emul, f_np, repeat):
    # Blocks of runs of one side, alternating sides between blocks so that a noisy stretch of
    # the host hits both; the first run of each block is a warm-up (OpenBLAS's and OpenMP's
    # worker threads keep spinning for a while after a call and would slow the other side's
    # first run).  Each side keeps its best run.
    te, tn = [], []
    for _ in range(3):
        te.append(_common.best_time(f_emul, repeat, warmup=1))
        tn.append(_common.best_time(f_np, repeat, warmup=1))
    t_e, t_n = min(te), min(tn)
    g_e, g_n = 2 * macs / t_e / 1e9, 2 * macs / t_n / 1e9
    row = dict(case=name, macs=macs, emulator_s=t_e, numpy_f32_s=t_n,
               emulator_gops=g_e, numpy_f32_gops=g_n, ratio=g_e / g_n)
    print(f"{name:<34s} emulator {g_e:7.1f} GOP/s   numpy f32 {g_n:7.1f} GOP/s   "
          f"ratio {g_e / g_n:5.2f}", flush=True)
    return row


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--data", choices=["nn", "wide", "both"], default="both")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    rows = []
    kinds = ["nn", "wide"] if args.data == "both" else [args.data]
    print(f"threads: {spinla.kernels.threads()}  (SPINLA_THREADS; NumPy uses its BLAS threads)")
    for kind in kinds:
        for (m, k, n) in [(256, 784, 300), (1024, 1024, 1024)]:
            a, b, fa, fb, fo = operands(kind, rng, (m, k), (k, n))
            A, B = spinla.asarray(a, fmt=fa), spinla.asarray(b, fmt=fb)
            a32, b32 = a.astype(np.float32), b.astype(np.float32)
            rows.append(bench_case(f"matmul {m}x{k}x{n} [{kind}]", m * k * n,
                                   lambda: spinla.matmul(A, B, fmt=fo), lambda: a32 @ b32,
                                   args.repeat))
        if not hasattr(spinla, "conv2d"):
            print("conv2d: not available in this build")
            continue
        for (label, xs, ws) in [("conv2d LeNet-5 C1 b64", (64, 32, 32, 1), (5, 5, 1, 6)),
                                ("conv2d LeNet-5 C3 b64", (64, 14, 14, 6), (5, 5, 6, 16))]:
            x, w, fx, fw, fo = operands(kind, rng, xs, ws)
            X, W = spinla.asarray(x, fmt=fx), spinla.asarray(w, fmt=fw)
            x32, w32 = x.astype(np.float32), w.astype(np.float32)
            oh, ow = xs[1] - ws[0] + 1, xs[2] - ws[1] + 1
            macs = xs[0] * oh * ow * ws[3] * ws[0] * ws[1] * ws[2]
            rows.append(bench_case(f"{label} [{kind}]", macs,
                                   lambda: spinla.conv2d(X, W, fmt=fo),
                                   lambda: im2col_conv(x32, w32), args.repeat))
    worst = min(r["ratio"] for r in rows)
    print(f"lowest ratio: {worst:.2f} (target >= 0.5)")
    path = _common.save("kernels", {"threads": spinla.kernels.threads(), "rows": rows,
                                    "target_ratio": 0.5, "lowest_ratio": worst})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
