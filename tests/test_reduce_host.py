"""The host's path for sums over rows of a few contiguous columns (spinla_c/host/
reduce_host.inc, run by host/run_reduce.c and its split-sum partial pass: the bias gradients)
against arm_reduce_q15 (the -DSPL_PORTABLE build of the same runner), bit for bit: outputs,
int64 partials and saturation counts, for 1..33 columns, tiles that cover the whole row or
part of it, every op (the others take the kernel), both rounding modes, and full-scale sums
long enough to need more than one int32 chunk.  Native build (AVX-512 where the CPU has it)
and the AVX2 build (-march=x86-64-v3)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cbuild

# The host builds run OpenMP teams of this many threads (the portable one a single thread):
# the outputs must not depend on how the tiles are shared out.
THREADS = 4
SOURCES = ("host/run_reduce.c", "reduce_q15.c", "requant_q15.c", "rng_q15.c",
           "host/simd_path.c")
CDEF = """
uint64_t spl_run_reduce(int32_t op, const int16_t *x, int16_t *y, int32_t outer, int32_t n,
                        int32_t inner, int32_t shift, int32_t mode, uint32_t seed,
                        const int32_t *tiles, int32_t ntiles, int32_t nthreads);
void spl_run_reduce_part(const int16_t *x, int64_t *part, int32_t outer, int32_t n,
                         int32_t inner, const int32_t *tiles, int32_t ntiles, int32_t nthreads);
const char *spl_simd_path(void);
"""


@pytest.fixture(scope="module", params=["native", "avx2"])
def libs(request, tmp_path_factory):
    """(portable, host) builds of the reduction runner."""
    return cbuild.portable_and_host(tmp_path_factory, request.param, "reduce", SOURCES, CDEF)


_p = cbuild.ptr


def _reduce(lib_ffi, op, x, tiles, shift, mode, seed):
    ffi, lib = lib_ffi
    outer, n, inner = x.shape
    y = np.full(outer * inner + 1, 777, np.int16)
    t = np.array(tiles, np.int32)
    sat = lib.spl_run_reduce(op, _p(ffi, x, "int16_t *"), _p(ffi, y, "int16_t *"), outer, n,
                             inner, shift, mode, seed, _p(ffi, t, "int32_t *"), len(t) // 4,
                             THREADS)
    return y, int(sat)


def _part(lib_ffi, x, tiles, nparts):
    ffi, lib = lib_ffi
    outer, n, inner = x.shape
    part = np.full(nparts * outer * inner + 1, 777, np.int64)
    t = np.array(tiles, np.int32)
    lib.spl_run_reduce_part(_p(ffi, x, "int16_t *"), _p(ffi, part, "int64_t *"), outer, n, inner,
                            _p(ffi, t, "int32_t *"), len(t) // 7, THREADS)
    return part


@settings(max_examples=150, deadline=None)
@given(op=st.integers(0, 5), outer=st.integers(1, 3), n=st.integers(1, 300),
       inner=st.sampled_from([1, 2, 3, 6, 10, 16, 32, 33]), split_cols=st.booleans(),
       nparts=st.integers(1, 4), shift=st.integers(0, 20), mode=st.sampled_from([0, 1]),
       seed=st.integers(0, 2**32 - 1))
def test_reduce_host_matches_kernel(libs, op, outer, n, inner, split_cols, nparts, shift, mode,
                                    seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(-32768, 32768, (outer, n, inner)).astype(np.int16)
    cols = [0, inner // 2, inner] if split_cols and inner > 1 else [0, inner]
    tiles = [v for o in range(outer) for a, b in zip(cols, cols[1:]) for v in (o, o + 1, a, b)]
    (y0, s0), (y1, s1) = (_reduce(lib, op, x, tiles, shift + 46 * (op == 1), mode, seed)
                          for lib in libs)
    assert np.array_equal(y0, y1) and s0 == s1
    ks = sorted(set([0, n] + rng.integers(0, n + 1, nparts - 1).tolist()))
    tiles = [v for s, (k0, k1) in enumerate(zip(ks, ks[1:])) for a, b in zip(cols, cols[1:])
             for v in (s, 0, outer, a, b, k0, k1)]
    p0, p1 = (_part(lib, x, tiles, nparts) for lib in libs)
    assert np.array_equal(p0, p1)


@pytest.mark.parametrize("inner", [1, 6, 16])
def test_reduce_host_long_full_scale_sums(libs, inner):
    # More rows than one int32 lane may add (65535 at full scale): chunked, still exact,
    # and the rounded sums saturate, counted.
    n = 70000
    x = np.full((1, n, inner), -32768, np.int16)
    x[0, ::1000] = 32767                     # the sum is below -2^31: int32 would wrap
    (y0, s0), (y1, s1) = (_reduce(lib, 0, x, [0, 1, 0, inner], 4, 0, 0) for lib in libs)
    assert np.array_equal(y0, y1) and s0 == s1 == inner
    p0, p1 = (_part(lib, x, [0, 0, 1, 0, inner, 0, n], 1) for lib in libs)
    exact = x.astype(np.int64).sum(axis=1).ravel()
    assert np.array_equal(p0[:inner], exact) and np.array_equal(p1[:inner], exact)
