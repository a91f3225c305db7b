"""The host's AVX-512 form of spl_abs_stats' pairs path (spinla_c/host/abs_stats_avx512.inc,
gemm_q15.c: the conv forward's overflow proof) against the portable C, value for value: the
OR bound on max |x| and the ones'-complement bound on the largest row sum, for aligned and
unaligned rows (the latter take the portable exact path), odd and even widths, padded rows
and the extreme values."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cbuild

SOURCES = ("gemm_q15.c", "requant_q15.c", "rng_q15.c")
CDEF = """
void spl_abs_stats(const int16_t *x, int32_t rows, int32_t cols, int32_t ld, uint32_t *max_abs,
                   uint64_t *max_row_sum);
"""


@pytest.fixture(scope="module")
def libs(tmp_path_factory):
    return cbuild.portable_and_host(tmp_path_factory, "vnni", "abs_stats", SOURCES, CDEF)


def _stats(lib_ffi, buf, off, rows, cols, ld):
    ffi, lib = lib_ffi
    m, s = ffi.new("uint32_t *"), ffi.new("uint64_t *")
    lib.spl_abs_stats(ffi.cast("int16_t *", buf.ctypes.data) + off, rows, cols, ld, m, s)
    return int(m[0]), int(s[0])


@settings(max_examples=300, deadline=None)
@given(rows=st.integers(0, 9), cols=st.integers(0, 100), pad=st.integers(0, 3),
       off=st.integers(0, 3), scale=st.sampled_from([3, 300, 32768]),
       seed=st.integers(0, 2**32 - 1))
def test_abs_stats_avx512_matches_portable(libs, rows, cols, pad, off, scale, seed):
    rng = np.random.default_rng(seed)
    ld = cols + pad
    buf = rng.integers(-scale, scale, rows * ld + off + 40).astype(np.int16)
    buf[rng.random(buf.shape) < 0.05] = -32768
    got = [_stats(lib, buf, off, rows, cols, ld) for lib in libs]
    assert got[0] == got[1]
    if rows and cols:                                  # and they are bounds
        x = buf[off:off + rows * ld].reshape(rows, ld)[:, :cols].astype(np.int64)
        assert got[1][0] >= np.abs(x).max() and got[1][1] >= np.abs(x).sum(1).max()
