"""The emulator's strided copy runner (spinla_c/host/run_copy.c: inner dimensions of size 1
dropped and contiguous ones merged before the kernel runs, the AVX-512 / AVX2 transpose) against the
-DSPL_PORTABLE build of the same runner (native and AVX2 builds) and against NumPy: boxes of 1..5 dimensions with
size-1 dimensions anywhere, padded, permuted, reversed and broadcast sources, padded
destinations, and tiles that cut the first dimension anywhere."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cbuild

# The host builds run OpenMP teams of this many threads (the portable one a single thread):
# the outputs must not depend on how the tiles are shared out.
THREADS = 4
SOURCES = ("host/run_copy.c", "copy_q15.c", "requant_q15.c", "rng_q15.c", "host/simd_path.c")
CDEF = """
void spl_run_copy(const int16_t *src, const int32_t *src_strides, int16_t *dst,
                  const int32_t *dst_strides, const int32_t *shape, int32_t ndim,
                  const int32_t *tiles, int32_t ntiles, int32_t nthreads);
"""


@pytest.fixture(scope="module", params=["native", "avx2"])
def libs(request, tmp_path_factory):
    """The portable build and one host build: native (the AVX-512 transpose where the CPU
    has it) or x86-64-v3 (the same transpose in AVX2)."""
    return cbuild.portable_and_host(tmp_path_factory, request.param, "copy", SOURCES, CDEF)


def _copy(lib_ffi, src, soff, ss, dst_len, doff, ds, shape, tiles):
    ffi, lib = lib_ffi
    dst = np.full(dst_len, 999, np.int16)
    i32 = lambda v: np.array(v, np.int32)
    keep = [i32(ss), i32(ds), i32(shape), i32(tiles)]
    p = lambda a, t: ffi.cast(t, a.ctypes.data)
    lib.spl_run_copy(p(src, "int16_t *") + soff, p(keep[0], "int32_t *"),
                     p(dst, "int16_t *") + doff, p(keep[1], "int32_t *"),
                     p(keep[2], "int32_t *"), len(shape), p(keep[3], "int32_t *"),
                     len(tiles) // 2, THREADS)
    return dst


@settings(max_examples=200, deadline=None)
@given(shape=st.lists(st.sampled_from([1, 1, 2, 3, 5, 16, 17, 28]), min_size=1, max_size=5),
       data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_copy_runner_matches_portable_and_numpy(libs, shape, data, seed):
    rng = np.random.default_rng(seed)
    nd = len(shape)
    # source: a padded C-order block read in a permuted order, some dimensions reversed or
    # broadcast (stride 0)
    perm = data.draw(st.permutations(range(nd)))
    pads = [data.draw(st.integers(0, 3)) for _ in range(nd)]
    block = [shape[p] + pads[p] for p in perm]
    bst = np.cumprod([1] + block[::-1])[:-1][::-1]          # C strides of the block
    ss = [0] * nd
    for j, p in enumerate(perm):
        ss[p] = int(bst[j])
    soff = 0
    for i in range(nd):
        kind = data.draw(st.sampled_from(["fwd", "fwd", "rev", "bcast"]))
        if kind == "rev":
            soff += (shape[i] - 1) * ss[i]
            ss[i] = -ss[i]
        elif kind == "bcast":
            ss[i] = 0
    src = rng.integers(-32768, 32768, int(np.prod(block))).astype(np.int16)
    # destination: C order with padded rows
    dpads = [data.draw(st.integers(0, 4)) for _ in range(nd)]
    dshape = [s + p for s, p in zip(shape, dpads)]
    ds = [int(v) for v in np.cumprod([1] + dshape[::-1])[:-1][::-1]]
    dlen = int(np.prod(dshape))
    cuts = sorted(set([0, shape[0]] + rng.integers(0, shape[0] + 1, 2).tolist()))
    tiles = [v for a, b in zip(cuts, cuts[1:]) for v in (a, b)]
    got = [_copy(lib, src, soff, ss, dlen, 0, ds, shape, tiles) for lib in libs]
    assert np.array_equal(got[0], got[1])
    idx = np.indices(shape).reshape(nd, -1)
    want = np.full(dlen, 999, np.int16)
    want[(np.array(ds)[:, None] * idx).sum(0)] = src[soff + (np.array(ss)[:, None] * idx).sum(0)]
    assert np.array_equal(got[1], want)


def test_copy_runner_lenet_input_pad(libs):
    # LeNet-5's input: (n, 28, 28, 1) into the middle of (n, 32, 32, 1).
    rng = np.random.default_rng(1)
    src = rng.integers(-32768, 32768, 4 * 28 * 28).astype(np.int16)
    ss, ds = [784, 28, 1, 1], [1024, 32, 1, 1]
    got = [_copy(lib, src, 0, ss, 4 * 1024, 2 * 32 + 2, ds, [4, 28, 28, 1], [0, 1, 1, 4])
           for lib in libs]
    want = np.full((4, 32, 32), 999, np.int16)
    want[:, 2:30, 2:30] = src.reshape(4, 28, 28)
    assert np.array_equal(got[0], want.ravel()) and np.array_equal(got[1], want.ravel())


@pytest.mark.parametrize("n0,n1,pad", [(16, 8, 0), (17, 9, 3), (48, 40, 1), (70, 23, 5)])
def test_transposes_match_portable_and_numpy(libs, n0, n1, pad):
    """2-D transposes (the host path's 16 x 8 register blocks and their edges): destination
    rows of n1 values, the source n1 rows of n0 + pad values read down its columns."""
    rng = np.random.default_rng(n0 * 100 + n1)
    ls = n0 + pad
    src = rng.integers(-32768, 32768, n1 * ls).astype(np.int16)
    tiles = [0, n0 // 3, n0 // 3, n0]
    got = [_copy(lib, src, 0, [1, ls], n0 * n1, 0, [n1, 1], [n0, n1], tiles) for lib in libs]
    want = src.reshape(n1, ls)[:, :n0].T.reshape(-1)
    assert np.array_equal(got[0], want) and np.array_equal(got[1], want)
