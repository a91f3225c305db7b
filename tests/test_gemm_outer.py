"""The emulator's outer-product gemm path (spinla_c/host/gemm_outer_avx512.inc: lanes along the
output columns, Bt packed once per call) against the portable C path, bit for bit.

spl_run_gemm takes that path on an AVX-512 VNNI build for n >= 64 and either k <= 48 (the weight
gradients of small batches; int32 segments if need be) or, at any k, tiles whose sums fit int32
over all of k (rounded straight from the lanes); elsewhere the same tests check the kernel path.  Shapes are wider than
test_gemm_simd's so that the 4 x 64 register blocks, their row and column edges, odd k, several
batches and tiles that start mid-block all occur; data kinds reach the segmented sums (rows
whose |a| sums exceed the one-segment bound) and the tiles the path declines (-32768 pairs)."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from spinla.kernels import gemm
from test_gemm_simd import (KINDS, MODES, _data, _extension_runner, _grid, _portable_runner,
                            portable)  # noqa: F401  (portable: the fixture)


@settings(max_examples=40, deadline=None)
@given(batch=st.integers(1, 3), m=st.integers(1, 150), n=st.integers(1, 260),
       k=st.one_of(st.integers(1, 64), st.sampled_from([16, 31, 32, 33, 47, 48, 49, 63, 64, 65,
                                                          127, 300, 784])),
       ka=st.sampled_from(KINDS), kb=st.sampled_from(KINDS), shift=st.integers(-2, 40),
       mode=st.sampled_from(list(MODES)), host=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_short_k_matches_portable(portable, batch, m, n, k, ka, kb, shift, mode, host, seed):
    rng = np.random.default_rng(seed)
    a = _data(rng, (batch, m, k), ka)
    bt = _data(rng, (batch, n, k), kb)
    if host:
        tiles = [tuple(int(v) for v in t) for t in gemm.host_tiles(batch, m, n, 2)]
    else:
        tiles = _grid(batch, m, n, int(rng.integers(1, m + 1)), int(rng.integers(1, n + 1)))
    want, wsat = _portable_runner(portable, a, bt, m, n, k, tiles, shift, MODES[mode], seed)
    got, gsat = _extension_runner(a, bt, m, n, k, tiles, shift, MODES[mode], seed)
    assert np.array_equal(got, want)
    assert gsat == wsat


def test_segmented_and_declined_tiles(portable):
    """Rows of large |a| force int32 segments; a tile with -32768 on both sides is declined
    (one k-pair could wrap a lane) and must still come out right through the kernel."""
    rng = np.random.default_rng(1)
    for fill in (20000, -32768):
        a = rng.integers(-300, 301, (1, 70, 47)).astype(np.int16)
        bt = rng.integers(-300, 301, (1, 90, 47)).astype(np.int16)
        a[0, 5, :] = fill
        bt[0, 7, :] = fill
        tiles = [tuple(int(v) for v in t) for t in gemm.host_tiles(1, 70, 90, 2)]
        want, wsat = _portable_runner(portable, a, bt, 70, 90, 47, tiles, 20, 0, 3)
        got, gsat = _extension_runner(a, bt, 70, 90, 47, tiles, 20, 0, 3)
        assert np.array_equal(got, want) and gsat == wsat
        assert wsat > 0 or fill == 20000


@settings(max_examples=30, deadline=None)
@given(batch=st.integers(1, 2), m=st.integers(1, 80), n=st.integers(64, 200),
       k=st.integers(49, 900), amp_a=st.sampled_from([7, 300, 4096]),
       amp_b=st.sampled_from([7, 300, 4096]), shift=st.integers(1, 31),
       mode=st.sampled_from(list(MODES)), seed=st.integers(0, 2**32 - 1))
def test_long_k_one_int32_sum_matches_portable(portable, batch, m, n, k, amp_a, amp_b, shift,
                                               mode, seed):
    """k past the segmented range: small operands whose every sum fits int32 take the path
    (the rounding straight from the lanes), larger ones are declined tile by tile or for the
    whole call (no pack); the bits and the count are the portable path's either way."""
    rng = np.random.default_rng(seed)
    a = rng.integers(-amp_a, amp_a + 1, (batch, m, k)).astype(np.int16)
    bt = rng.integers(-amp_b, amp_b + 1, (batch, n, k)).astype(np.int16)
    tiles = [tuple(int(v) for v in t) for t in gemm.host_tiles(batch, m, n, 2)]
    want, wsat = _portable_runner(portable, a, bt, m, n, k, tiles, shift, MODES[mode], seed)
    got, gsat = _extension_runner(a, bt, m, n, k, tiles, shift, MODES[mode], seed)
    assert np.array_equal(got, want)
    assert gsat == wsat


def test_cauchy_schwarz_edge(portable):
    """Rows of one constant c at k = 64 (n >= 64): every sum is 64 c^2 and the Cauchy-Schwarz
    bound is exact, so c = 5792 (sums just under 2^31) takes the one-int32-sum path and
    c = 6208 (sums past 2^31, which an int32 lane would wrap) must not; the row-sum bound
    admits neither."""
    for c in (5792, 6208):
        for sign in (1, -1):
            a = np.full((1, 9, 64), c, np.int16)
            bt = np.full((1, 70, 64), sign * c, np.int16)
            tiles = [tuple(int(v) for v in t) for t in gemm.host_tiles(1, 9, 70, 2)]
            for shift, mode in ((16, 0), (31, 0), (31, 1)):
                want, wsat = _portable_runner(portable, a, bt, 9, 70, 64, tiles, shift, mode, 5)
                got, gsat = _extension_runner(a, bt, 9, 70, 64, tiles, shift, mode, 5)
                assert np.array_equal(got, want) and gsat == wsat


def test_batches_pass_and_fail_apart(portable):
    """k past the segmented range, two batches: small values in one (its tiles take the path),
    full-range values in the other (its Bt scan stops early and its tiles take the kernel)."""
    rng = np.random.default_rng(7)
    a = np.stack([rng.integers(-50, 51, (40, 100)), rng.integers(-32768, 32768, (40, 100))])
    bt = np.stack([rng.integers(-50, 51, (90, 100)), rng.integers(-32768, 32768, (90, 100))])
    a, bt = a.astype(np.int16), bt.astype(np.int16)
    tiles = [tuple(int(v) for v in t) for t in gemm.host_tiles(2, 40, 90, 2)]
    for order in ((0, 1), (1, 0)):
        aa, bb = np.ascontiguousarray(a[list(order)]), np.ascontiguousarray(bt[list(order)])
        for shift, mode in ((20, 0), (25, 1)):
            want, wsat = _portable_runner(portable, aa, bb, 40, 90, 100, tiles, shift, mode, 9)
            got, gsat = _extension_runner(aa, bb, 40, 90, 100, tiles, shift, mode, 9)
            assert np.array_equal(got, want) and gsat == wsat
