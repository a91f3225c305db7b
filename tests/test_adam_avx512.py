"""The host's AVX-512 Adam path (spinla_c/host/adam_avx512.inc: 32-bit lanes, byte-permute
table lookups) against the portable C loop of optim_q15.c, bit for bit.

Both come from one test library: optim_q15.c compiled for AVX-512 (VNNI, VBMI, CD, DQ, BW), so
its arm_adam_q15 takes the SPL_ADAM_AVX512 hook, beside a wrapper that runs the portable
adam_loop itself.  Every parameter range the kernel accepts is drawn (shifts, betas, eps, the
ratio clamp, learning rates, full-range int16 data, both rounding modes, indices that wrap
2^32), tile lengths leave every tail of a 64-element group, and one long case reaches every
entry of both tables; outputs (with untouched padding) and saturation counts must be
identical.  Parameters outside the ranges the path's 32-bit splits rely on must take the
portable loop and so agree as well.
"""
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import adam_harness

FLAGS = ["-march=x86-64-v4", "-mavx512vbmi", "-mavx512vnni"]

HARNESS = r"""
#include "optim_q15.c"
#if !defined(SPL_ADAM_AVX512)
#error "this harness must be built with AVX-512 VNNI, VBMI, CD, DQ and BW"
#endif
""" + adam_harness.PORTABLE_C
CDEF = adam_harness.CDEF


def cpu_has_avx512_adam() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return all(re.search(rf"\b{f}\b", flags)
               for f in ("avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl",
                         "avx512vbmi", "avx512_vnni"))


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    return adam_harness.build(tmp_path_factory, "adam_avx512", HARNESS, CDEF, FLAGS,
                              cpu_has_avx512_adam(), "this CPU lacks AVX-512 VNNI/VBMI/CD/DQ/"
                              "BW: the AVX-512 Adam cannot run here")


_data = adam_harness.data
_assert_same = adam_harness.assert_same


def _run_both(lib, w, g, m, r, lr, params, index0):
    return adam_harness.run_both(*lib, (w, g, m, r), lr, len(w), params, index0)


BETA = adam_harness.BETA


@settings(max_examples=300, deadline=None)
@given(n=st.integers(1, 200),
       kinds=st.tuples(*[st.sampled_from(["full", "edges", "small", "zero"])] * 4),
       beta1=BETA, beta2=BETA,
       eps=st.one_of(st.integers(2**15, 2**31), st.sampled_from([2**15, 2**31])),
       ratio_max=st.one_of(st.integers(0, 2**31 - 1), st.sampled_from([0, 1, 2**31 - 1])),
       w_shift=st.one_of(st.integers(0, 47), st.sampled_from([0, 1, 16, 31, 32, 33, 47])),
       g_shift=st.integers(0, 15), stochastic=st.booleans(), lr=st.integers(-32768, 32767),
       index0=st.one_of(st.integers(0, 5000), st.integers(2**32 - 80, 2**32 - 1)),
       seed=st.integers(0, 2**32 - 1), signed_r=st.booleans())
def test_adam_avx512_matches_portable(lib, n, kinds, beta1, beta2, eps, ratio_max, w_shift,
                                      g_shift, stochastic, lr, index0, seed, signed_r):
    rng = np.random.default_rng(seed)
    w, g, m, r = (_data(rng, n, k) for k in kinds)
    if not signed_r:   # an RMS is >= 0; the kernel accepts any int16 (it only squares r)
        r = np.abs(r.astype(np.int32)).clip(0, 32767).astype(np.int16)
    params = dict(beta1=beta1, beta2=beta2, eps=eps, ratio_max=ratio_max, w_shift=w_shift,
                  g_shift=g_shift, mode=int(stochastic), seed_w=seed, seed_m=seed ^ 0x5A5A5A5A,
                  seed_r=(seed * 7 + 1) % 2**32)
    _assert_same(_run_both(lib, w, g, m, r, lr, params, index0))


@pytest.mark.parametrize("stochastic", [False, True])
def test_adam_avx512_every_table_entry(lib, stochastic):
    # Every RMS value 0..32767 with a zero gradient (radicand b2 r^2) and every gradient with a
    # zero RMS, at betas that spread the radicands over both parities of the top bit, and first
    # moments over the whole range: every sqrt_lut and recip_lut entry is read, and the ratio
    # meets its clamp.
    n = 4 * 32768
    rng = np.random.default_rng(11)
    r = np.concatenate([np.arange(32768), np.zeros(32768), rng.integers(0, 32768, 2 * 32768)])
    g = np.concatenate([np.zeros(32768), np.arange(-16384, 16384),
                        rng.integers(-32768, 32768, 2 * 32768)])
    m = rng.integers(-32768, 32768, n)
    w = rng.integers(-32768, 32768, n)
    as16 = lambda a: np.asarray(a, np.int64).astype(np.int16)
    for beta2 in (2**30 - 2**20, 2**29 + 12345, 2**28 - 1):
        params = dict(beta1=2**30 - 2**26 + 12345, beta2=beta2, eps=2**15 + 3, ratio_max=2**21,
                      w_shift=20, g_shift=1, mode=int(stochastic), seed_w=5, seed_m=6, seed_r=7)
        _assert_same(_run_both(lib, as16(w), as16(g), as16(m), as16(r), 20000, params, 17))


@pytest.mark.parametrize("params", [
    dict(eps=2**15 - 1), dict(eps=2**31 + 1), dict(beta1=2**30 + 1), dict(beta2=-1),
    dict(ratio_max=-5)])
def test_adam_avx512_out_of_range_parameters_take_portable_loop(lib, params):
    # Outside the ranges the 32-bit splits rely on (eps >= 2^15 makes the ratio's shift at
    # least 30; eps <= 2^31 keeps r + eps in 32 bits), arm_adam_q15 runs adam_loop itself.
    rng = np.random.default_rng(3)
    n = 150
    w, g, m, r = (rng.integers(-2000, 2000, n).astype(np.int16) for _ in range(4))
    r = np.abs(r)
    base = dict(beta1=2**29, beta2=2**30 - 2**20, eps=2**16, ratio_max=2**20, w_shift=20,
                g_shift=2, mode=1, seed_w=1, seed_m=2, seed_r=3)
    base.update(params)
    _assert_same(_run_both(lib, w, g, m, r, 300, base, 0))


@pytest.mark.parametrize("stochastic", [False, True])
@pytest.mark.parametrize("beta1", [2**29 + 1, 2**29 - 1, 2**30 - 3])
def test_adam_avx512_first_moment_ties(lib, stochastic, beta1):
    # With a zero gradient, m' = round(b1 M / 2^30); b1 = 2^29 +- 1 puts every odd M within |M|
    # of a tie, which only the low 15 bits of b1l (M - G) (kept below the int32 part) break.
    n = 65536
    m = np.arange(-32768, 32768).astype(np.int16)
    rng = np.random.default_rng(5)
    w = rng.integers(-32768, 32768, n).astype(np.int16)
    r = rng.integers(0, 32768, n).astype(np.int16)
    params = dict(beta1=beta1, beta2=2**29, eps=2**16, ratio_max=2**20, w_shift=24, g_shift=0,
                  mode=int(stochastic), seed_w=1, seed_m=2, seed_r=3)
    _assert_same(_run_both(lib, w, np.zeros(n, np.int16), m, r, 1000, params, 0))
