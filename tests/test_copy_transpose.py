"""The emulator's 2-D transposing copy (spinla_c/host/run_copy.c: an AVX-512 build moves 8 x 16
blocks through registers) against NumPy: every destination value the source value its strides
name, edges, tiles that split the rows anywhere, padded, reversed and broadcast sources."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import spinla
from spinla.kernels import lib, ptr


@settings(max_examples=40, deadline=None)
@given(n0=st.integers(1, 70), n1=st.integers(1, 70), pad=st.integers(0, 9),
       kind=st.sampled_from(["plain", "reversed", "broadcast"]), ntiles=st.integers(1, 6),
       nthreads=st.integers(1, 3), seed=st.integers(0, 2**32 - 1))
def test_runner_transpose_matches_numpy(n0, n1, pad, kind, ntiles, nthreads, seed):
    rng = np.random.default_rng(seed)
    ls = n0 + pad                                    # source: n1 rows of ls values
    base = rng.integers(-32768, 32768, (n1, ls)).astype(np.int16)
    want = base[:, :n0].T
    src, sstride = ptr(base), ls
    if kind == "reversed":                           # read the rows last to first
        want = base[::-1, :n0].T
        src, sstride = ptr(base) + (n1 - 1) * ls, -ls
    elif kind == "broadcast":                        # every destination column row 0
        want = np.repeat(base[:1, :n0].T, n1, 1)
        sstride = 0
    ld = n1 + int(rng.integers(0, 5))
    dst = np.full((n0, ld), 999, np.int16)
    cuts = np.sort(rng.integers(0, n0 + 1, ntiles - 1))
    e = np.concatenate([[0], cuts, [n0]])
    tiles = np.stack([e[:-1], e[1:]], 1).astype(np.int32)
    ss = np.array([1, sstride], np.int32)
    ds = np.array([ld, 1], np.int32)
    shape = np.array([n0, n1], np.int32)
    lib.spl_run_copy(src, ptr(ss, "int32_t *"), ptr(dst), ptr(ds, "int32_t *"),
                     ptr(shape, "int32_t *"), 2, ptr(tiles, "int32_t *"), len(tiles), nthreads)
    np.testing.assert_array_equal(dst[:, :n1], want)
    assert (dst[:, n1:] == 999).all()


@settings(max_examples=15, deadline=None)
@given(m=st.integers(1, 300), n=st.integers(1, 300), seed=st.integers(0, 2**32 - 1))
def test_permute_dims_matches_numpy(m, n, seed):
    raw = np.random.default_rng(seed).integers(-32768, 32768, (m, n)).astype(np.int16)
    x = spinla.asarray(raw.astype(np.float64) / 2**12, fmt=12)
    np.testing.assert_array_equal(spinla.permute_dims(x, (1, 0)).raw, raw.T)
