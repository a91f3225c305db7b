"""A product over a batch, x^T @ d (a dense layer's weight gradient), split along k into exact
int64 partials over ranges of the rows and one combining call (spinla/ops/linalg.py), is bit
for bit the one GEMM, in either rounding mode, saturated or not, with the same saturation
count; each partial tile reads only its own rows."""
import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import spinla as sp
from spinla.ops import linalg
from spinla.place import reads


def _product(xr, dr, fx, fd, fo, mode, split, seed, jit=False):
    """(x^T @ d raw, saturations, kernels of the Program) with the k-split forced on or off."""
    x = sp.asarray(xr * 2.0 ** -fx, fmt=sp.q(fx))
    d = sp.asarray(dr * 2.0 ** -fd, fmt=sp.q(fd))
    assert np.array_equal(x.raw, xr) and np.array_equal(d.raw, dr)
    linalg.K_SPLIT = split
    try:
        f = lambda a, b: sp.matmul(sp.permute_dims(a, (1, 0)), b, fmt=sp.q(fo), rounding=mode)
        sp.seed(seed)
        sp.reset_stats()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sp.SaturationWarning)
            if jit:
                g = sp.jit(f, name="gw")
                y = g(x, d)
                kernels = [c.kernel for c in g.program(x, d).calls]
            else:
                y, kernels = f(x, d), None
        return y.raw, sp.stats().saturated.get("matmul", 0), kernels
    finally:
        linalg.K_SPLIT = None


@settings(max_examples=40, deadline=None)
@given(k=st.integers(1, 90), m=st.integers(1, 24), n=st.integers(1, 24),
       fx=st.integers(8, 15), fd=st.integers(8, 15), drop=st.integers(-2, 14),
       mode=st.sampled_from(["nearest", "stochastic"]), big=st.booleans(),
       seed=st.integers(0, 10_000), jit=st.booleans())
def test_k_split_is_the_gemm_bit_for_bit(k, m, n, fx, fd, drop, mode, big, seed, jit):
    rng = np.random.default_rng(seed)
    # big: extreme values of one sign, so that narrow output formats saturate
    if big:
        xr = rng.integers(20000, 32768, (k, m)) * rng.choice([-1, 1])
        dr = rng.integers(20000, 32768, (k, n))
    else:
        xr, dr = rng.integers(-32768, 32768, (k, m)), rng.integers(-32768, 32768, (k, n))
    xr, dr = xr.astype(np.int16), dr.astype(np.int16)
    fo = max(0, min(15, fx + fd - 15 - drop))
    sp.set_machine("spinn5")
    y0, s0, k0 = _product(xr, dr, fx, fd, fo, mode, False, seed, jit)
    y1, s1, k1 = _product(xr, dr, fx, fd, fo, mode, True, seed, jit)
    np.testing.assert_array_equal(y1, y0)
    assert s1 == s0
    if jit:
        assert "gemm_q15" in k0 and "gemm_q15" not in k1
        assert "conv2d_gw_q15" in k1 and "conv2d_gw_reduce_q15" in k1


def test_each_partial_reads_only_its_rows_and_the_estimate_decides():
    sp.set_machine("spinn5")
    rng = np.random.default_rng(1)
    x = sp.asarray(rng.normal(0, 0.3, (64, 40)), fmt=sp.q(13))
    d = sp.asarray(rng.normal(0, 0.3, (64, 24)), fmt=sp.q(13))
    linalg.K_SPLIT = True
    try:
        f = sp.jit(lambda a, b: sp.matmul(sp.permute_dims(a, (1, 0)), b, fmt=sp.q(10)),
                   name="gw", batch_args=2)
        prog = f.program(x, d)
    finally:
        linalg.K_SPLIT = None
    (part,) = [c for c in prog.calls if c.kernel == "conv2d_gw_q15"]
    rowb = [2 * 40, 2 * 24]
    for i in (0, 1):
        tile, s, e = reads(part, i)
        p0, p1 = part.tiles[tile, 1], part.tiles[tile, 2]    # the tile's rows (pixels)
        assert (s >= p0 * rowb[i]).all() and (e <= p1 * rowb[i]).all()
    # The estimate: MNIST's dense weight gradients stay one GEMM on a SpiNN-5.
    m = sp.machine.get("spinn5")
    assert not linalg.k_split_pays(64, 784, 300, m)
