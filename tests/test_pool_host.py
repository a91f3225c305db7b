"""The host's average-pooling paths (spinla_c/host/pool_host.inc, run by host/run_pool.c)
against the kernels of pool_q15.c (the -DSPL_PORTABLE build of the same runner), bit for bit:
outputs and saturation counts of the forward pass and the gradient, for any geometry (windows
that overlap, leave gaps or leave edge columns and rows uncovered), power-of-two and other
window sizes (mult 1 or the reciprocal's), both rounding modes, tiles of a few rows whose
input starts at the first row they need, and values that saturate.  Native build (AVX-512
where the CPU has it) and the AVX2 build (-march=x86-64-v3)."""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import cbuild

# The host builds run OpenMP teams of this many threads (the portable one a single thread):
# the outputs must not depend on how the tiles are shared out.
THREADS = 4
SOURCES = ("host/run_pool.c", "pool_q15.c", "requant_q15.c", "rng_q15.c", "host/simd_path.c")
CDEF = """
uint64_t spl_run_avg_pool2d(const int16_t *x, int16_t *y, const int32_t *geom,
                            const int32_t *tiles, int32_t ntiles, int32_t mult, int32_t shift,
                            int32_t mode, uint32_t seed, int32_t *scratch, int32_t per,
                            int32_t nthreads);
uint64_t spl_run_avg_pool2d_grad(const int16_t *d, int16_t *dx, const int32_t *geom,
                                 const int32_t *tiles, int32_t ntiles, int32_t mult,
                                 int32_t shift, int32_t mode, uint32_t seed, int32_t *scratch,
                                 int32_t per, int32_t nthreads);
const char *spl_simd_path(void);
"""


@pytest.fixture(scope="module", params=["native", "avx2"])
def libs(request, tmp_path_factory):
    """(portable, host) builds of the pooling runner."""
    return cbuild.portable_and_host(tmp_path_factory, request.param, "pool", SOURCES, CDEF)


_p = cbuild.ptr


def _forward(lib_ffi, x, geom, rows_per_tile, mult, shift, mode, seed):
    ffi, lib = lib_ffi
    n, h, w, c, oh, ow, kh, kw, sy, sx = geom
    y = np.full((n * oh + 1) * ow * c, 777, np.int16)        # one row past the end: untouched
    tiles = []
    for r0 in range(0, n * oh, rows_per_tile):
        i, oy = divmod(r0, oh)
        tiles += [r0, min(r0 + rows_per_tile, n * oh), i * h + oy * sy]  # input from row needed
    tiles = np.array(tiles, np.int32)
    per = ow * c
    scratch = np.zeros(THREADS * per, np.int32)
    sat = lib.spl_run_avg_pool2d(_p(ffi, x, "int16_t *"), _p(ffi, y, "int16_t *"),
                                 _p(ffi, np.array(geom, np.int32), "int32_t *"),
                                 _p(ffi, tiles, "int32_t *"), len(tiles) // 3, mult, shift, mode,
                                 seed, _p(ffi, scratch, "int32_t *"), per, THREADS)
    return y, int(sat)


def _grad(lib_ffi, d, geom, rows_per_tile, mult, shift, mode, seed):
    ffi, lib = lib_ffi
    n, h, w, c, oh, ow, kh, kw, sy, sx = geom
    dx = np.full((n * h + 1) * w * c, 777, np.int16)
    tiles = []
    for r0 in range(0, n * h, rows_per_tile):
        tiles += [r0, min(r0 + rows_per_tile, n * h), (r0 // h) * oh]  # d from the image's row 0
    tiles = np.array(tiles, np.int32)
    per = rows_per_tile * w * c
    scratch = np.zeros(THREADS * per, np.int32)
    sat = lib.spl_run_avg_pool2d_grad(_p(ffi, d, "int16_t *"), _p(ffi, dx, "int16_t *"),
                                      _p(ffi, np.array(geom, np.int32), "int32_t *"),
                                      _p(ffi, tiles, "int32_t *"), len(tiles) // 3, mult, shift,
                                      mode, seed, _p(ffi, scratch, "int32_t *"), per, THREADS)
    return dx, int(sat)


@settings(max_examples=150, deadline=None)
@given(n=st.integers(1, 3), h=st.integers(1, 12), w=st.integers(1, 12),
       c=st.sampled_from([1, 3, 6, 16, 17]), kh=st.integers(1, 4), kw=st.integers(1, 4),
       sy=st.integers(1, 5), sx=st.integers(1, 5), rows=st.integers(1, 5),
       recip=st.booleans(), shift=st.integers(1, 40), mode=st.sampled_from([0, 1]),
       scale=st.sampled_from([100, 32767]), seed=st.integers(0, 2**32 - 1))
def test_avg_pool_host_matches_kernels(libs, n, h, w, c, kh, kw, sy, sx, rows, recip, shift,
                                       mode, scale, seed):
    assume(h >= kh and w >= kw)
    oh, ow = (h - kh) // sy + 1, (w - kw) // sx + 1
    geom = (n, h, w, c, oh, ow, kh, kw, sy, sx)
    rng = np.random.default_rng(seed)
    # mult 1 with a small shift saturates at full scale; the reciprocal's (2^30, 2^31) too
    mult = int(rng.integers(1 << 30, 1 << 31)) if recip else 1
    x = rng.integers(-scale, scale + 1, (n, h, w, c)).astype(np.int16)
    d = rng.integers(-scale, scale + 1, (n, oh, ow, c)).astype(np.int16)
    (y0, s0), (y1, s1) = (_forward(lib, x, geom, rows, mult, shift, mode, seed) for lib in libs)
    assert np.array_equal(y0, y1) and s0 == s1
    (g0, t0), (g1, t1) = (_grad(lib, d, geom, rows, mult, shift, mode, seed) for lib in libs)
    assert np.array_equal(g0, g1) and t0 == t1


def test_avg_pool_host_counts_saturation(libs):
    # LeNet's 2 x 2 window at shift 1 (a format that narrows): every full-scale sum saturates.
    geom = (2, 4, 4, 6, 2, 2, 2, 2, 2, 2)
    x = np.full((2, 4, 4, 6), 30000, np.int16)
    x[1] = -30000
    for lib in libs:
        y, sat = _forward(lib, x, geom, 1, 1, 1, 0, 0)
        assert sat == 2 * 2 * 2 * 6
        assert np.all(y[:24] == 32767) and np.all(y[24:48] == -32768) and y[48] == 777


@pytest.mark.parametrize("mode", [0, 1])
@pytest.mark.parametrize("shift", list(range(1, 33)))
def test_avg_pool_host_lenet_windows_every_shift(libs, shift, mode):
    # LeNet-5's 2 x 2 pools (mult 1: the int32 rounding lanes) at every shift, with ties.
    rng = np.random.default_rng(shift)
    geoms = [(2, 28, 28, 6, 14, 14, 2, 2, 2, 2), (3, 10, 10, 16, 5, 5, 2, 2, 2, 2)]
    if shift == 2:      # a whole batch: work for several threads
        geoms.append((64, 28, 28, 6, 14, 14, 2, 2, 2, 2))
    for geom in geoms:
        n, h, w, c, oh, ow = geom[:6]
        x = rng.integers(-32768, 32768, (n, h, w, c)).astype(np.int16)
        x[0, :2] = 1 << min(shift, 14)                   # exact halves and multiples
        d = rng.integers(-32768, 32768, (n, oh, ow, c)).astype(np.int16)
        (y0, s0), (y1, s1) = (_forward(lib, x, geom, 3, 1, shift, mode, 9) for lib in libs)
        assert np.array_equal(y0, y1) and s0 == s1
        (g0, t0), (g1, t1) = (_grad(lib, d, geom, 4, 1, shift, mode, 9) for lib in libs)
        assert np.array_equal(g0, g1) and t0 == t1
