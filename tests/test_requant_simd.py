"""The host's SIMD forms of spl_requant_block_q63 against the portable C, bit for bit: AVX2
(spinla_c/host/requant_avx2.inc, built with -march=x86-64-v3 as for a CPU without AVX-512) and
AVX-512 (host/requant_avx512.inc, built with -march=native where the CPU has it).  Outputs
and saturation counts for every shift, both rounding modes, accumulators in and out of int32
range (a group of 8 with one value outside int32 goes element by element) and block lengths
that leave a tail past the last whole group."""
import cbuild
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from test_gemm_avx2 import build_pair

SOURCES = ("requant_q15.c", "rng_q15.c", "host/simd_path.c")
CDEF = """
typedef struct { int32_t shift; int32_t mode; uint32_t seed; } spl_requant_t;
uint32_t spl_requant_block_q63(const int64_t *acc, int16_t *y, int32_t n,
                               const spl_requant_t *rq, uint32_t index0);
const char *spl_simd_path(void);
"""


@pytest.fixture(scope="module", params=["avx2", "avx512"])
def libs(request, tmp_path_factory):
    """(portable, SIMD) builds of the requantisation."""
    if request.param == "avx2":
        return build_pair(tmp_path_factory, "requant", SOURCES, CDEF)
    if not cbuild.cpu_has_vnni():
        pytest.skip("this CPU has no AVX-512 VNNI: the AVX-512 path cannot run here")
    d = tmp_path_factory.mktemp("requant_avx512")
    portable = cbuild.build(d, "portable", ["-DSPL_PORTABLE"], SOURCES, CDEF)
    native = cbuild.build(d, "native", ["-march=native"], SOURCES, CDEF)
    assert native[0].string(native[1].spl_simd_path()) == b"avx512-vnni"
    return portable, native


def _run(lib_ffi, acc, shift, mode, seed, index0):
    ffi, lib = lib_ffi
    y = np.full(len(acc) + 3, 12345, np.int16)   # the 3 past n must stay untouched
    rq = ffi.new("spl_requant_t *", {"shift": shift, "mode": mode, "seed": seed})
    sat = lib.spl_requant_block_q63(ffi.cast("int64_t *", acc.ctypes.data),
                                    ffi.cast("int16_t *", y.ctypes.data), len(acc), rq, index0)
    return y, int(sat)


def _acc(rng, n, bits, wide_frac):
    acc = rng.integers(-(1 << bits), 1 << bits, n, dtype=np.int64)
    wide = rng.random(n) < wide_frac             # outside int32 (or at its edges)
    acc[wide] = rng.choice([-(1 << 40), (1 << 33) + 5, -(1 << 31), (1 << 31) - 1, 1 << 31],
                           int(wide.sum()))
    return acc


@settings(max_examples=300, deadline=None)
@given(n=st.integers(0, 70), bits=st.sampled_from([4, 12, 20, 31]),
       wide_frac=st.sampled_from([0.0, 0.02, 0.5]), shift=st.integers(-3, 40),
       mode=st.sampled_from([0, 1]), seed=st.integers(0, 2**32 - 1),
       index0=st.sampled_from([0, 7, 2**32 - 5]))
def test_requant_block_simd_matches_portable(libs, n, bits, wide_frac, shift, mode, seed,
                                             index0):
    acc = _acc(np.random.default_rng(seed), n, bits, wide_frac)
    (y0, s0), (y1, s1) = (_run(lib, acc, shift, mode, seed, index0) for lib in libs)
    assert np.array_equal(y0, y1)
    assert s0 == s1


def test_requant_block_simd_counts_each_saturated_lane(libs):
    # Every lane of every group out of q15 range (both signs): each one counted.
    acc = np.tile(np.array([1 << 30, -(1 << 30)], np.int64), 12)
    for lib in libs:
        y, sat = _run(lib, acc, 4, 0, 0, 0)
        assert sat == 24 and np.array_equal(y[:24], np.tile([32767, -32768], 12))


@pytest.mark.parametrize("shift", [1, 2, 5, 15, 31])
def test_requant_block_simd_ties_to_even(libs, shift):
    # Exact halves (odd multiples of 2^(shift - 1)) round to the even neighbour.
    m = np.arange(-40, 40, dtype=np.int64) * 2 + 1
    acc = np.clip(m << (shift - 1), -(1 << 31), (1 << 31) - 1)
    (y0, s0), (y1, s1) = (_run(lib, acc, shift, 0, 0, 0) for lib in libs)
    assert np.array_equal(y0, y1) and s0 == s1
    if shift <= 15:
        assert np.all(y1[:len(m)] % 2 == 0)
