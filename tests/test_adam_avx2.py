"""The host's AVX2 Adam path (spinla_c/host/adam_avx2.inc, built with -march=x86-64-v3 as for a
CPU without AVX-512) against the portable C loop of optim_q15.c, bit for bit.

Both come from one test library: optim_q15.c compiled for x86-64-v3 as the emulator's AVX2
build compiles it (its arm_adam_q15 then takes the SPL_SIMD_AVX2 hook into adam_avx2.inc),
beside a wrapper that runs the portable adam_loop itself.  Every parameter range the kernel
accepts is drawn (shifts, betas, eps, the ratio clamp, learning rates, full-range int16 data,
both rounding modes, indices that wrap 2^32) with tile lengths that leave every tail length,
and lengths around the path's 256-element chunks; outputs and saturation counts must be
identical.  Parameters beyond the bounds its 32-bit forms rely on (beta1 beyond 2^30 for the
first moment's split, eps outside [2^15, 2^31] or a negative ratio_max for the ratio) must
take the portable loop.
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import adam_harness
from test_gemm_avx2 import cpu_has_avx2

HARNESS = r"""
#include "optim_q15.c"
#if !defined(SPL_SIMD_AVX2)
#error "this harness must be built for AVX2 without AVX-512 (-march=x86-64-v3)"
#endif
""" + adam_harness.PORTABLE_C + r"""
/* adam_avx2.inc's normalising shift beside the portable sqrt_u62's (n a multiple of 4). */
void test_sqrt_shifts(const uint64_t *v, int64_t *lanes, int64_t *ref, int32_t n)
{
    for (int32_t i = 0; i < n; i += 4) {
        __m256i x = _mm256_loadu_si256((const __m256i *)(v + i));
        _mm256_storeu_si256((__m256i *)(lanes + i), avx2_sqrt_shift(x));
        for (int32_t j = i; j < i + 4; j++) {
            int32_t t = (int32_t)top_bit(v[j]);
            ref[j] = 60 - t + (t & 1);
        }
    }
}
"""
CDEF = adam_harness.CDEF + """
void test_sqrt_shifts(const uint64_t *v, int64_t *lanes, int64_t *ref, int32_t n);
"""


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    return adam_harness.build(tmp_path_factory, "adam_avx2", HARNESS, CDEF, ["-march=x86-64-v3"],
                              cpu_has_avx2(), "this CPU has no AVX2 (x86-64-v3): the AVX2 "
                              "path cannot run here")


_data = adam_harness.data
_run_both = adam_harness.run_both


BETA = adam_harness.BETA


@given(n=st.integers(1, 70),
       kinds=st.tuples(*[st.sampled_from(["full", "edges", "small", "zero"])] * 4),
       beta1=BETA, beta2=BETA,
       eps=st.integers(2**15, 2**31), ratio_max=st.integers(1, 2**31 - 1),
       w_shift=st.integers(0, 47), g_shift=st.integers(0, 15),
       stochastic=st.booleans(), lr=st.integers(-32768, 32767),
       index0=st.one_of(st.integers(0, 5000), st.integers(2**32 - 80, 2**32 - 1)),
       seed=st.integers(0, 2**32 - 1))
def test_adam_avx2_matches_portable(lib, n, kinds, beta1, beta2, eps, ratio_max, w_shift,
                                    g_shift, stochastic, lr, index0, seed):
    ffi, L = lib
    rng = np.random.default_rng(seed)
    w, g, m, r = (_data(rng, n, k) for k in kinds)
    r = np.abs(r.astype(np.int32)).clip(0, 32767).astype(np.int16)    # an RMS is >= 0
    res = _run_both(ffi, L, (w, g, m, r), lr, n,
                    dict(beta1=beta1, beta2=beta2, eps=eps, ratio_max=ratio_max,
                         w_shift=w_shift, g_shift=g_shift, mode=int(stochastic), seed_w=seed,
                         seed_m=seed ^ 0x5A5A5A5A, seed_r=(seed * 7 + 1) % 2**32), index0)
    adam_harness.assert_same(res)


def test_avx2_sqrt_shift_lanes_match_sqrt_u62(lib):
    # The normalising shift (a double's exponent) at every power-of-two edge and at random
    # over all of [0, 2^63) (Adam's radicands are below 2^62): sqrt_u62's k for v > 0; for
    # v = 0, any k of 64 or more (the lanes then shift x and the root to zero).
    ffi, L = lib
    edges = [x for j in range(63) for x in ((1 << j) - 1, 1 << j, (1 << j) + 1)]
    rng = np.random.default_rng(0)
    rand = [int(x) >> int(s) for x, s in zip(rng.integers(0, 2**63, 400, dtype=np.uint64),
                                              rng.integers(0, 63, 400))]
    v = np.array([x for x in edges + rand + [0, 2**63 - 1] if x < 2**63], np.uint64)
    v = np.concatenate([v, np.zeros(-len(v) % 4, np.uint64)])
    lanes, ref = (np.zeros(len(v), np.int64) for _ in range(2))
    L.test_sqrt_shifts(ffi.from_buffer("uint64_t[]", v),
                       *(ffi.from_buffer("int64_t[]", a) for a in (lanes, ref)), len(v))
    pos = v > 0
    assert pos.sum() > 500 and np.array_equal(lanes[pos], ref[pos])
    assert (~pos).any() and (lanes[~pos] >= 64).all()


@pytest.mark.parametrize("stochastic", [False, True])
def test_adam_avx2_rms_ties(lib, stochastic):
    # With a zero gradient and beta2 = 1/4 the radicand is 2^28 R^2, whose root the table
    # gives exactly for R <= 7: R 2^14, a tie of r' = round(R / 2) for odd R (half to even:
    # 0, 2, 2, 4 for 1, 3, 5, 7).  Both paths must agree and round the ties as the rule says.
    ffi, L = lib
    n = 67
    r = np.resize(np.array([1, 3, 5, 7, 2, 0], np.int16), n)
    g = np.zeros(n, np.int16)
    w = np.arange(n, dtype=np.int16) * 37
    m = (np.arange(n, dtype=np.int16) - 30) * 5
    res = _run_both(ffi, L, (w, g, m, r), 100, n,
                    dict(beta1=2**29, beta2=2**28, eps=2**16, ratio_max=2**20, w_shift=16,
                         g_shift=0, mode=int(stochastic), seed_w=1, seed_m=2, seed_r=3), 5)
    adam_harness.assert_same(res)
    if not stochastic:
        half_even = np.round(r.astype(np.float64) / 2)   # NumPy rounds halves to even
        np.testing.assert_array_equal(res[1][1][2][:n], half_even.astype(np.int16))


@pytest.mark.parametrize("stochastic", [False, True])
def test_adam_avx2_every_table_entry(lib, stochastic):
    # Every RMS value with a zero gradient, every gradient with a zero RMS and random pairs, at
    # betas that spread the radicands over both parities of the top bit: every sqrt_lut and
    # recip_lut entry is read and most interpolation fractions differ in their low bits, which
    # random short tiles rarely expose (a one-LSB slip in an interpolation changes few outputs).
    ffi, L = lib
    n = 4 * 32768
    rng = np.random.default_rng(11)
    r = np.concatenate([np.arange(32768), np.zeros(32768), rng.integers(0, 32768, 2 * 32768)])
    g = np.concatenate([np.zeros(32768), np.arange(-16384, 16384),
                        rng.integers(-32768, 32768, 2 * 32768)])
    arrays = [a.astype(np.int64).astype(np.int16) for a in
              (rng.integers(-32768, 32768, n), g, rng.integers(-32768, 32768, n), r)]
    for beta2 in (2**30 - 2**20, 2**29 + 12345, 2**28 - 1):
        res = _run_both(ffi, L, arrays, 20000, n,
                        dict(beta1=2**30 - 2**26 + 12345, beta2=beta2, eps=2**15 + 3,
                             ratio_max=2**21, w_shift=20, g_shift=1, mode=int(stochastic),
                             seed_w=5, seed_m=6, seed_r=7), 17)
        adam_harness.assert_same(res)


def test_adam_avx2_beta1_out_of_range_takes_portable_loop(lib):
    ffi, L = lib
    rng = np.random.default_rng(3)
    n = 77
    w, g, m, r = (rng.integers(-2000, 2000, n).astype(np.int16) for _ in range(4))
    r = np.abs(r)
    res = _run_both(ffi, L, (w, g, m, r), 300, n,
                    dict(beta1=2**30 + 12345, beta2=2**29, eps=2**16, ratio_max=2**20,
                         w_shift=20, g_shift=2, mode=1, seed_w=1, seed_m=2, seed_r=3), 0)
    adam_harness.assert_same(res)


@pytest.mark.parametrize("stochastic", [False, True])
@pytest.mark.parametrize("beta1", [2**29 + 1, 2**29 - 1, 2**30 - 3])
def test_adam_avx2_first_moment_ties(lib, stochastic, beta1):
    # With a zero gradient, m' = round(b1 M / 2^30); b1 = 2^29 +- 1 puts every odd M within |M|
    # of a tie, which only the low 15 bits of b1l (M - G) (kept below the int32 part) break.
    ffi, L = lib
    n = 65536
    rng = np.random.default_rng(5)
    arrays = [rng.integers(-32768, 32768, n).astype(np.int16), np.zeros(n, np.int16),
              np.arange(-32768, 32768).astype(np.int16),
              rng.integers(0, 32768, n).astype(np.int16)]
    res = _run_both(ffi, L, arrays, 1000, n,
                    dict(beta1=beta1, beta2=2**29, eps=2**16, ratio_max=2**20, w_shift=24,
                         g_shift=0, mode=int(stochastic), seed_w=1, seed_m=2, seed_r=3), 0)
    adam_harness.assert_same(res)



@pytest.mark.parametrize("stochastic", [False, True])
@pytest.mark.parametrize("n", [255, 256, 257, 263, 264, 511, 512, 519, 1000, 2055])
def test_adam_avx2_chunk_boundaries(lib, stochastic, n):
    # The path runs each phase over 256-element chunks (the last one shorter, then the n % 8
    # tail in the portable loop): every chunk must see its own elements and random indices,
    # here with indices that wrap 2^32 mid-run and w_shift both below and above 29 (where
    # the step's quotient can and cannot exceed the clamp).
    ffi, L = lib
    rng = np.random.default_rng(n)
    arrays = [rng.integers(-32768, 32768, n).astype(np.int16) for _ in range(4)]
    arrays[3] = np.abs(arrays[3].astype(np.int32)).clip(0, 32767).astype(np.int16)
    for w_shift in (3, 22, 40):
        res = _run_both(ffi, L, arrays, -20000, n,
                        dict(beta1=2**30 - 2**26, beta2=2**30 - 2**20, eps=2**15,
                             ratio_max=2**24, w_shift=w_shift, g_shift=2,
                             mode=int(stochastic), seed_w=9, seed_m=10, seed_r=11),
                        2**32 - 300)
        adam_harness.assert_same(res)


@pytest.mark.parametrize("eps, ratio_max, w_shift", [
    (1, 2**20, 20), (2**15 - 1, 2**20, 20), (2**31 + 1, 2**20, 20), (2**40, 2**20, 20),
    (2**16, -1, 20), (2**15, 2**30, 48), (2**15, 2**30, 62)])
def test_adam_avx2_params_outside_bounds_take_portable_loop(lib, eps, ratio_max, w_shift):
    # The 32-bit ratio relies on 2^15 <= eps <= 2^31 and ratio_max >= 0, the stochastic w' in
    # doubles on w_shift <= 47 (the kernel's builder never passes others,
    # spinla/kernels/optim.py); anything else must still equal the portable loop, which it
    # takes.  A small eps over a small RMS gives denominators below 2^15, whose shift the
    # 32-bit form cannot make; past 2^53 the random offset loses low bits as a double.
    ffi, L = lib
    n = 203
    rng = np.random.default_rng(eps % 1000)
    arrays = [rng.integers(-3000, 3000, n).astype(np.int16),
              rng.integers(-40, 40, n).astype(np.int16),
              rng.integers(-3000, 3000, n).astype(np.int16),
              rng.integers(0, 5, n).astype(np.int16)]
    for stochastic in (0, 1):
        res = _run_both(ffi, L, arrays, 3000, n,
                        dict(beta1=2**29, beta2=2**29, eps=eps, ratio_max=ratio_max,
                             w_shift=w_shift, g_shift=0, mode=stochastic, seed_w=1, seed_m=2,
                             seed_r=3), 7)
        adam_harness.assert_same(res)


@pytest.mark.parametrize("stochastic", [False, True])
def test_adam_avx2_zero_radicand(lib, stochastic):
    # A zero gradient over a zero RMS gives a zero radicand, whose root must be exactly 0
    # (the path reads a padding entry of its root table there, not a select): with eps at its
    # floor and a large ratio clamp, even a root of a few units would move the ratio m/eps
    # enough to change w'.
    ffi, L = lib
    n = 1024
    arrays = [np.resize(np.arange(-500, 500, 7), n).astype(np.int16), np.zeros(n, np.int16),
              np.resize(np.arange(-32768, 32768, 61), n).astype(np.int16), np.zeros(n, np.int16)]
    res = _run_both(ffi, L, arrays, 1, n,
                    dict(beta1=2**29, beta2=2**29, eps=2**15, ratio_max=2**31 - 1, w_shift=6,
                         g_shift=0, mode=int(stochastic), seed_w=4, seed_m=5, seed_r=6), 0)
    adam_harness.assert_same(res)
    assert not res[1][1][2][:n].any()                       # r' = 0 everywhere
    assert np.abs(res[1][1][0][:n].astype(np.int32) - arrays[0]).max() > 100   # big steps
