"""The host's AVX2 gemm path (spinla_c/host/gemm_avx2.inc, built with -march=x86-64-v3 as for a
CPU without AVX-512) against the portable C path, bit for bit.

Both are compiled here from the same spinla_c sources (the portable one with -DSPL_PORTABLE)
and called per tile with strided operands, every data magnitude (the int32 segment planner's
one-segment, many-segment and split forms), shift and rounding mode.  Outputs, untouched
padding and saturation counts must be identical: the AVX2 path only reorganises an exact
integer sum.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import cbuild
from test_gemm_simd import KINDS, MODES, _data, _kernel_call

SOURCES = ("gemm_q15.c", "requant_q15.c", "rng_q15.c", "host/simd_path.c")
CDEF = """
typedef struct { int32_t shift; int32_t mode; uint32_t seed; } spl_requant_t;
uint32_t arm_gemm_q15(const int16_t *a, int32_t lda, const int16_t *bt, int32_t ldb, int16_t *c,
                      int32_t ldc, int32_t m, int32_t n, int32_t k, const spl_requant_t *rq,
                      uint32_t row0, uint32_t col0, uint32_t ncols_total);
uint32_t spl_gemm_q15_chunk(const int16_t *a, int32_t lda, const int16_t *bt, int32_t ldb,
                            int16_t *c, int32_t ldc, int32_t m, int32_t n, int32_t k,
                            const spl_requant_t *rq, uint32_t row0, uint32_t col0,
                            uint32_t ncols_total, int32_t chunk);
const char *spl_simd_path(void);
"""


cpu_has_avx2 = cbuild.cpu_has_avx2      # (other tests import it from here)


def build_pair(tmp_path_factory, tag, sources, cdef):
    """(portable, avx2) builds of `sources`; the AVX2 one must report that it took that path."""
    if not cpu_has_avx2():
        pytest.skip("this CPU has no AVX2 (x86-64-v3): the AVX2 path cannot run here")
    portable = cbuild.build(tmp_path_factory.mktemp(f"{tag}_portable"), "portable",
                            ["-DSPL_PORTABLE"], sources, cdef)
    avx2 = cbuild.build(tmp_path_factory.mktemp(f"{tag}_avx2"), "avx2",
                        ["-march=x86-64-v3"], sources, cdef)
    ffi, lib = avx2
    assert ffi.string(lib.spl_simd_path()) == b"avx2"
    assert portable[0].string(portable[1].spl_simd_path()) == b"portable"
    return portable, avx2


@pytest.fixture(scope="module")
def libs(tmp_path_factory):
    return build_pair(tmp_path_factory, "gemm", SOURCES, CDEF)


def _chunk_call(lib_ffi, a, lda, bt, ldb, m, n, k, shift, mode, seed, row0, col0, ncols, c,
                ldc, chunk):
    """One spl_gemm_q15_chunk call: arm_gemm_q15 with the caller's proven int32 chunk."""
    ffi, lib = lib_ffi
    rq = ffi.new("spl_requant_t *", {"shift": shift, "mode": mode, "seed": seed})
    sat = lib.spl_gemm_q15_chunk(ffi.cast("int16_t *", a.ctypes.data), lda,
                                 ffi.cast("int16_t *", bt.ctypes.data), ldb,
                                 ffi.cast("int16_t *", c.ctypes.data), ldc, m, n, k, rq, row0,
                                 col0, ncols, chunk)
    return c, int(sat)


def _safe_chunk(a, bt, m, n, k):
    """The longest chunk any caller may prove for these operands: no sum of `chunk` products
    of them can pass 2^31 - 1 (chunk * max|a| * max|b| does not)."""
    ma = int(np.abs(a[:m, :k].astype(np.int64)).max())
    mb = int(np.abs(bt[:n, :k].astype(np.int64)).max())
    return (2**31 - 1) // max(1, ma * mb)


def _operand(rng, shape, kind):
    """_data's kinds, and "q6.9": N(0, 1) in q6.9, which against q3.12 makes the panel form's
    int32 segments a few tens of k-pairs long (many segments, each widened)."""
    if kind == "q6.9":
        return np.clip(np.rint(rng.standard_normal(shape) * 512), -32768, 32767).astype(np.int16)
    return _data(rng, shape, kind)


def _compare(libs, m, n, k, lda, ldb, ldc, ka, kb, shift, mode, origin, seed, chunk=None):
    """Portable and AVX2 builds on the same strided tile: through arm_gemm_q15 (chunk None), or
    through spl_gemm_q15_chunk with chunk = 0, "all" (the longest safe chunk: all of k when the
    data allows) or "short" (a safe chunk of at most 40 products)."""
    rng = np.random.default_rng(seed)
    a = _operand(rng, (m, lda), ka)
    bt = _operand(rng, (n, ldb), kb)
    c0 = rng.integers(-32768, 32768, (m, ldc)).astype(np.int16)
    row0, col0 = origin
    if chunk == "all":
        chunk = _safe_chunk(a, bt, m, n, k)
    elif chunk == "short":
        chunk = min(_safe_chunk(a, bt, m, n, k), int(rng.integers(1, 41)))
    outs = []
    for lib in libs:
        c = c0.copy()
        if chunk is None:
            _, sat = _kernel_call(lib, a, lda, bt, ldb, m, n, k, shift, mode, seed,
                                  row0=row0, col0=col0, ncols=col0 + n + 7, c=c, ldc=ldc)
        else:
            _, sat = _chunk_call(lib, a, lda, bt, ldb, m, n, k, shift, mode, seed, row0, col0,
                                 col0 + n + 7, c, ldc, chunk)
        outs.append((c, sat))
    assert np.array_equal(outs[0][0], outs[1][0])   # padding columns untouched by both
    assert outs[0][1] == outs[1][1]
    return outs[0][1]


@given(m=st.integers(1, 13), n=st.integers(1, 13),
       k=st.one_of(st.integers(1, 300), st.sampled_from([784, 1023, 1024, 1025])),
       pad=st.tuples(st.integers(0, 40), st.integers(0, 40), st.integers(0, 9)),
       ka=st.sampled_from(KINDS), kb=st.sampled_from(KINDS), shift=st.integers(-2, 40),
       mode=st.sampled_from(list(MODES)), origin=st.tuples(st.integers(0, 5000), st.integers(0, 99)),
       seed=st.integers(0, 2**32 - 1))
def test_avx2_strided_tile_matches_portable(libs, m, n, k, pad, ka, kb, shift, mode, origin,
                                            seed):
    _compare(libs, m, n, k, k + pad[0], k + pad[1], n + pad[2], ka, kb, shift, MODES[mode],
             origin, seed)


# The packed-panel form (gemm_avx2_panel.inc): m >= 3 rows, 8- and 16-column panels and their
# ragged edges, 6-row blocks and their remainder, odd k (the lone last value), k up to the
# panel's 2048 and past it, one or many int32 segments (or the lanes-along-k form when they
# would be short), and the caller's proven chunk (none, all of k, short) as conv2d_q15.c
# passes it.
@given(m=st.integers(3, 40), n=st.integers(1, 40),
       k=st.one_of(st.integers(1, 200), st.sampled_from([2047, 2048, 2049])),
       pad=st.tuples(st.integers(0, 20), st.integers(0, 20), st.integers(0, 9)),
       ka=st.sampled_from(KINDS + ["q6.9"]), kb=st.sampled_from(KINDS + ["q6.9"]),
       shift=st.integers(-2, 40), mode=st.sampled_from(list(MODES)),
       origin=st.tuples(st.integers(0, 5000), st.integers(0, 99)),
       chunk=st.sampled_from([None, 0, "all", "short"]), seed=st.integers(0, 2**32 - 1))
def test_avx2_panel_matches_portable(libs, m, n, k, pad, ka, kb, shift, mode, origin, chunk,
                                     seed):
    _compare(libs, m, n, k, k + pad[0], k + pad[1], n + pad[2], ka, kb, shift, MODES[mode],
             origin, seed, chunk)


@pytest.mark.parametrize("ka,kb,k,chunk", [
    ("tiny", "tiny", 2048, "all"),     # one segment, vector rounding, proven by the caller
    ("q3.12", "q6.9", 301, None),      # several segments of at least 8 pairs, odd k
    ("q6.9", "q3.12", 301, "all"),     # the same from the caller's chunk
    ("q3.12", "spiky", 1000, "short"), # a chunk under 16: the lanes-along-k form
    ("q1.14", "q3.12", 99, None),      # segments shorter than 8 pairs: lanes-along-k form
    ("extreme", "tiny", 2049, None),   # past the panel's k
])
def test_avx2_panel_hard_cases(libs, ka, kb, k, chunk):
    for shift, mode in [(0, 0), (1, 0), (2, 0), (12, 0), (24, 0), (30, 1), (33, 0), (-1, 0)]:
        for m, n in [(6, 16), (13, 23), (36, 6), (4, 8)]:
            _compare(libs, m, n, k, k + 1, k + 3, n + 2, ka, kb, shift, mode, (17, 5),
                     k + shift + m, chunk)


@pytest.mark.parametrize("ka,kb,k", [
    ("tiny", "tiny", 8192),      # one int32 segment over all of k
    ("q3.12", "q3.12", 1024),    # several int32 segments
    ("q3.12", "q3.12", 1039),    # and a scalar tail of 15
    ("extreme", "extreme", 64),  # one k-pair can overflow a lane: split form
    ("q1.14", "q1.14", 8192),    # split form over several 128-step segments
    ("q3.12", "full", 1000),
    ("full", "full", 2048),
    ("q3.12", "tiny", 8193),     # past the AVX-512 path's largest k (the AVX2 path has none)
    ("full", "q3.12", 20000),    # long k: many split-form segments
    ("spiky", "q3.12", 777),
])
def test_avx2_hard_cases(libs, ka, kb, k):
    for shift, mode in [(0, 0), (12, 0), (24, 0), (30, 1), (45, 1), (-1, 0)]:
        _compare(libs, 9, 11, k, k, k + 3, 13, ka, kb, shift, mode, (17, 5), k + shift)


def test_avx2_all_minus_32768_is_exact(libs):
    # Every product is 2^30 and a k-pair wraps an int32 lane: the split form must keep it.
    k, m, n = 200, 5, 6
    a = np.full((m, k), -32768, np.int16)
    bt = np.full((n, k), -32768, np.int16)
    c, sat = _kernel_call(libs[1], a, k, bt, k, m, n, k, 30, 0, 0)
    assert np.all(c == k) and sat == 0    # k * 2^30 / 2^30
    c, sat = _kernel_call(libs[1], a, k, bt, k, m, n, k, 20, 0, 0)
    assert np.all(c == 32767) and sat == m * n


@pytest.mark.parametrize("m,n,k,chunk", [(6, 16, 100, None), (13, 21, 37, "all"),
                                         (7, 5, 2048, None)])
def test_avx2_panel_counts_every_saturated_output(libs, m, n, k, chunk):
    # One int32 segment rounded 8 lanes at a time: every lane of a group out of range counts.
    a = np.full((m, k), 100, np.int16)
    bt = np.where(np.arange(n)[:, None] % 3 == 1, -100, 100) * np.ones((n, k), np.int16)
    bt = bt.astype(np.int16)
    want = np.where(np.arange(n) % 3 == 1, -32768, 32767)
    for lib in libs:
        c = np.zeros((m, n), np.int16)
        if chunk is None:
            c, sat = _kernel_call(lib, a, k, bt, k, m, n, k, 0, 0, 0, c=c, ldc=n)
        else:
            c, sat = _chunk_call(lib, a, k, bt, k, m, n, k, 0, 0, 0, 0, 0, n, c, n,
                                 _safe_chunk(a, bt, m, n, k))
        assert sat == m * n and np.array_equal(c, np.broadcast_to(want, (m, n)))


# The panel form's many-segment rounding: a row's int64 segment sums go 8 at a time through
# the 8-lane rounding block (spl_requant_block_q63), in int32 lanes when a group's sums fit
# and one by one when any is past int32.  Large same-sign rows (|a| |b| near 2^24: segments of
# a few tens of pairs) make whole sums of k up to 2048 run far past int32 in some rows and
# columns and stay small in others (mixed signs), so groups of both kinds and mixed groups
# meet; every shift and mode, the caller's chunk or the scan.
@given(m=st.integers(3, 20), n=st.integers(1, 40), k=st.integers(40, 2048),
       mag=st.tuples(st.integers(1000, 8000), st.integers(1000, 8000)),
       shift=st.integers(-2, 45), mode=st.sampled_from(list(MODES)),
       origin=st.tuples(st.integers(0, 5000), st.integers(0, 99)),
       chunk=st.sampled_from([None, "all"]), seed=st.integers(0, 2**32 - 1))
def test_avx2_panel_segment_sums_past_int32(libs, m, n, k, mag, shift, mode, origin, chunk,
                                            seed):
    rng = np.random.default_rng(seed)
    a = (rng.integers(mag[0] // 2, mag[0] + 1, (m, k + 3))
         * rng.choice([-1, 1], (m, 1)) * np.where(rng.random((m, 1)) < 0.3,
                                                  rng.choice([-1, 1], (m, k + 3)), 1))
    bt = rng.integers(mag[1] // 2, mag[1] + 1, (n, k + 1)) * rng.choice([-1, 1], (n, 1))
    a, bt = a.astype(np.int16), bt.astype(np.int16)
    c0 = rng.integers(-32768, 32768, (m, n + 2)).astype(np.int16)
    row0, col0 = origin
    ck = None if chunk is None else _safe_chunk(a, bt, m, n, k)
    outs = []
    for lib in libs:
        c = c0.copy()
        if ck is None:
            _, sat = _kernel_call(lib, a, k + 3, bt, k + 1, m, n, k, shift, MODES[mode], seed,
                                  row0=row0, col0=col0, ncols=col0 + n + 7, c=c, ldc=n + 2)
        else:
            _, sat = _chunk_call(lib, a, k + 3, bt, k + 1, m, n, k, shift, MODES[mode], seed,
                                 row0, col0, col0 + n + 7, c, n + 2, ck)
        outs.append((c, sat))
    assert np.array_equal(outs[0][0], outs[1][0])
    assert outs[0][1] == outs[1][1]


@pytest.mark.parametrize("k", [128, 784, 2047])
@pytest.mark.parametrize("over", [0, 40])
def test_avx2_panel_cauchy_schwarz_edge(libs, k, over):
    # Every A and Bt row is +-x, x repeating every 64 values: one 32767 and 63 values of v.
    # The largest |a| |b| alone would allow segments of one k-pair (the lanes-along-k form);
    # the Cauchy-Schwarz windows (gemm_cs_bound.inc) allow 32 pairs for v = 4112, whose lane
    # sums are then 32767^2 + 63 v^2, 0.4% under 2^31 (over = 0), and 16 pairs past it (over =
    # 40: a 32-pair sum would be past 2^31).  Outputs and saturation counts as the portable path.
    v = 4112 + over
    lane = 32767 ** 2 + 63 * v * v
    assert (lane < 2 ** 31) == (over == 0)
    x = np.resize(np.r_[32767, np.full(63, v)], k)
    m, n = 13, 21
    rng = np.random.default_rng(k + over)
    a = (rng.choice([-1, 1], (m, 1)) * x).astype(np.int16)
    bt = (rng.choice([-1, 1], (n, 1)) * x).astype(np.int16)
    for shift, mode in [(0, 0), (20, 0), (31, 1)]:
        outs = [_kernel_call(lib, a, k, bt, k, m, n, k, shift, mode, 3) for lib in libs]
        assert np.array_equal(outs[0][0], outs[1][0]), (shift, mode)
        assert outs[0][1] == outs[1][1]
