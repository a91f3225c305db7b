"""The host's AVX-512 VNNI gemm path against the portable C path, bit for bit.

The portable path (what the ARM968 runs) is compiled here from the same spinla_c sources with
-DSPL_PORTABLE into a small shared library and loaded with cffi's ABI mode.  It is compared with
(a) the built extension's tile runner, which is what spinla.matmul runs, and (b) the same
sources compiled for this CPU, called per tile with strided operands (as conv2d calls the
kernel).  Outputs and saturation counts must be identical for every shape, magnitude, shift and
rounding mode: the SIMD path only reorganises an exact integer sum.
"""
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import cbuild  # noqa: E402
import qref  # noqa: E402

cffi = pytest.importorskip("cffi")

SOURCES = ("gemm_q15.c", "requant_q15.c", "rng_q15.c")
CDEF = """
typedef struct { int32_t shift; int32_t mode; uint32_t seed; } spl_requant_t;
uint32_t arm_gemm_q15(const int16_t *a, int32_t lda, const int16_t *bt, int32_t ldb, int16_t *c,
                      int32_t ldc, int32_t m, int32_t n, int32_t k, const spl_requant_t *rq,
                      uint32_t row0, uint32_t col0, uint32_t ncols_total);
uint32_t spl_seed_mix(uint32_t a, uint32_t b);
"""


def _cpu_has_vnni() -> bool:
    return cbuild.cpu_has_vnni()


def _build(tmpdir: Path, name: str, flags):
    return cbuild.build(tmpdir, name, flags, SOURCES, CDEF)


@pytest.fixture(scope="module")
def portable(tmp_path_factory):
    return _build(tmp_path_factory.mktemp("gemm_portable"), "portable", ["-DSPL_PORTABLE"])


@pytest.fixture(scope="module")
def native(tmp_path_factory):
    if not _cpu_has_vnni():
        pytest.skip("this CPU has no AVX-512 VNNI: the SIMD path is not built here")
    return _build(tmp_path_factory.mktemp("gemm_native"), "native", ["-march=native"])


def _kernel_call(lib_ffi, a, lda, bt, ldb, m, n, k, shift, mode, seed, row0=0, col0=0,
                 ncols=None, c=None, ldc=None, c_off=0):
    """One arm_gemm_q15 call on NumPy buffers (a, bt may be views into larger ones)."""
    ffi, lib = lib_ffi
    if c is None:
        c = np.zeros((m, n), np.int16)
        ldc = n
    rq = ffi.new("spl_requant_t *", {"shift": shift, "mode": mode, "seed": seed})
    pa = ffi.cast("int16_t *", a.ctypes.data)
    pb = ffi.cast("int16_t *", bt.ctypes.data)
    pc = ffi.cast("int16_t *", c.ctypes.data) + c_off
    sat = lib.arm_gemm_q15(pa, lda, pb, ldb, pc, ldc, m, n, k, rq, row0, col0,
                           n if ncols is None else ncols)
    return c, int(sat)


def _portable_runner(portable, a, bt, M, N, K, tiles, shift, mode, seed):
    """spl_run_gemm's tile loop in Python over the portable kernel (same per-batch seeds)."""
    ffi, lib = portable
    batch = a.shape[0]
    c = np.zeros((batch, M, N), np.int16)
    sat = 0
    for b, m0, m1, n0, n1 in tiles:
        s = int(lib.spl_seed_mix(seed, int(b))) if b else seed
        av, bv = a[b, m0:], bt[b, n0:]
        out, t = _kernel_call(portable, av, K, bv, K, m1 - m0, n1 - n0, K, shift, mode, s,
                              row0=m0, col0=n0, ncols=N, c=c[b], ldc=N, c_off=m0 * N + n0)
        sat += t
    return c, sat


def _extension_runner(a, bt, M, N, K, tiles, shift, mode, seed):
    from spinla.kernels import lib, ptr
    c = np.zeros((a.shape[0], M, N), np.int16)
    tl = np.ascontiguousarray(tiles, dtype=np.int32)
    sat = lib.spl_run_gemm(ptr(a), ptr(bt), ptr(c), M, N, K, ptr(tl, "int32_t *"), len(tl),
                           shift, mode, seed, 2)
    return c, int(sat)


def _data(rng, shape, kind):
    """q15 storage with the magnitudes that stress the chunking: tiny, N(0,1) in q3.12 (the
    documented worst case of realistic data), sparse spikes, full range with -32768."""
    if kind == "tiny":
        x = rng.integers(-7, 8, shape)
    elif kind == "q3.12":
        x = np.rint(rng.standard_normal(shape) * 4096)
    elif kind == "spiky":
        x = rng.integers(-200, 201, shape) * (rng.random(shape) < 0.9)
        x = np.where(rng.random(shape) < 0.02, rng.choice([-32768, 32767], shape), x)
    elif kind == "q1.14":      # N(0,1) clipped at the format's edge: many +-32767, -32768
        x = np.rint(rng.standard_normal(shape) * 16384)
    elif kind == "full":
        x = rng.integers(-32768, 32768, shape)
    elif kind == "extreme":
        x = rng.choice([-32768, 32767, -32767], shape)
    else:
        raise AssertionError(kind)
    return np.clip(x, -32768, 32767).astype(np.int16)


def _grid(batch, M, N, mt, nt):
    return [(b, m0, min(M, m0 + mt), n0, min(N, n0 + nt))
            for b in range(batch) for m0 in range(0, M, mt) for n0 in range(0, N, nt)]


KINDS = ["tiny", "q3.12", "spiky", "q1.14", "full", "extreme"]
MODES = {"nearest": 0, "stochastic": 1}


@given(m=st.integers(1, 21), n=st.integers(1, 21),
       k=st.one_of(st.integers(1, 70), st.sampled_from([127, 128, 129, 255, 784, 1023, 1025])),
       ka=st.sampled_from(KINDS), kb=st.sampled_from(KINDS), shift=st.integers(-2, 40),
       mode=st.sampled_from(list(MODES)), seed=st.integers(0, 2**32 - 1))
def test_extension_matches_portable(portable, m, n, k, ka, kb, shift, mode, seed):
    rng = np.random.default_rng(seed)
    batch = 2
    a = _data(rng, (batch, m, k), ka)
    bt = _data(rng, (batch, n, k), kb)
    mt, nt = int(rng.integers(1, m + 1)), int(rng.integers(1, n + 1))
    tiles = _grid(batch, m, n, mt, nt)
    want, wsat = _portable_runner(portable, a, bt, m, n, k, tiles, shift, MODES[mode], seed)
    got, gsat = _extension_runner(a, bt, m, n, k, tiles, shift, MODES[mode], seed)
    assert np.array_equal(got, want)
    assert gsat == wsat


@given(m=st.integers(1, 13), n=st.integers(1, 13), k=st.integers(1, 300),
       pad=st.tuples(st.integers(0, 40), st.integers(0, 40), st.integers(0, 9)),
       ka=st.sampled_from(KINDS), kb=st.sampled_from(KINDS), shift=st.integers(1, 34),
       mode=st.sampled_from(list(MODES)), origin=st.tuples(st.integers(0, 5000), st.integers(0, 99)),
       seed=st.integers(0, 2**32 - 1))
def test_native_strided_tile_matches_portable(portable, native, m, n, k, pad, ka, kb, shift,
                                              mode, origin, seed):
    # Leading dimensions larger than k (and than n for the output), as conv2d may pass them,
    # and a tile placed anywhere in a larger output (stochastic bits use the global index).
    rng = np.random.default_rng(seed)
    lda, ldb, ldc = k + pad[0], k + pad[1], n + pad[2]
    a = _data(rng, (m, lda), ka)
    bt = _data(rng, (n, ldb), kb)
    c0 = rng.integers(-32768, 32768, (m, ldc)).astype(np.int16)
    row0, col0 = origin
    outs = []
    for lib in (portable, native):
        c = c0.copy()
        _, sat = _kernel_call(lib, a, lda, bt, ldb, m, n, k, shift, MODES[mode], seed,
                              row0=row0, col0=col0, ncols=col0 + n + 7, c=c, ldc=ldc)
        outs.append((c, sat))
    assert np.array_equal(outs[0][0], outs[1][0])   # padding columns untouched by both
    assert outs[0][1] == outs[1][1]


@pytest.mark.parametrize("ka,kb,k", [
    ("q3.12", "q3.12", 1024),    # realistic worst case: k is cut into several int32 segments
    ("q3.12", "q3.12", 1023),
    ("extreme", "extreme", 64),  # one k-pair can overflow an int32 lane: split path
    ("q1.14", "q1.14", 8192),    # the same, at the largest k the SIMD path takes
    ("q3.12", "full", 1000),     # segments a step long: split path
    ("full", "full", 2048),
    ("tiny", "tiny", 8192),      # the largest k the SIMD path takes
    ("q3.12", "tiny", 8193),     # just past it: portable path
    ("spiky", "q3.12", 777),
])
def test_hard_cases(portable, ka, kb, k):
    rng = np.random.default_rng(k)
    m, n = 9, 11
    a = _data(rng, (1, m, k), ka)
    bt = _data(rng, (1, n, k), kb)
    tiles = _grid(1, m, n, 4, 6)
    for shift, mode in [(0, 0), (12, 0), (24, 0), (30, 1), (45, 1)]:
        want, wsat = _portable_runner(portable, a, bt, m, n, k, tiles, shift, mode, 7)
        got, gsat = _extension_runner(a, bt, m, n, k, tiles, shift, mode, 7)
        assert np.array_equal(got, want), (shift, mode)
        assert gsat == wsat


def _cs_edge(k):
    """The largest magnitude v for which spinla_c/host/gemm_cs_bound.inc admits all of k in one
    int32 sum per lane of the AVX-512 path (|Q| = 2 ceil(k / 32) positions a lane, h(v) =
    v^2 >> 16): |Q| (h(v) + 1) < 2^15."""
    q = 2 * -(-k // 32)
    return max(v for v in range(1, 32768) if q * ((v * v >> 16) + 1) < 2 ** 15)


@pytest.mark.parametrize("k", [32, 64, 784, 1024])
@pytest.mark.parametrize("over", [0, 1, 300])
def test_cauchy_schwarz_edge(portable, k, over):
    # Rows of one magnitude, signs per row: every lane's sum is +-|Q| v^2, at the edge of int32
    # for v = _cs_edge(k) (over = 0); past the bound (over > 0) the lane sums would wrap if the
    # bound admitted them, so those tiles must take the segmented or split path.  Either way
    # every output must equal the portable path's, saturation counts included.
    v = _cs_edge(k) + over
    q = 2 * -(-k // 32)
    assert q * v * v < 2 ** 31 or over     # the bound's case is exact in int32 ...
    assert over == 0 or over == 1 or q * v * v >= 2 ** 31   # ... and one past it would wrap
    m, n = 6, 7
    rng = np.random.default_rng(k + over)
    a = np.where(rng.random((1, m, 1)) < 0.5, -v, v) * np.ones((1, m, k), np.int64)
    bt = np.where(rng.random((1, n, 1)) < 0.5, -v, v) * np.ones((1, n, k), np.int64)
    a, bt = a.astype(np.int16), bt.astype(np.int16)
    tiles = _grid(1, m, n, m, n)
    for shift, mode in [(0, 0), (20, 0), (31, 1)]:
        want, wsat = _portable_runner(portable, a, bt, m, n, k, tiles, shift, mode, 5)
        got, gsat = _extension_runner(a, bt, m, n, k, tiles, shift, mode, 5)
        assert np.array_equal(got, want), (shift, mode)
        assert gsat == wsat


# Same-sign rows of random magnitudes around _cs_edge(k) (within 3% of each other, so that
# Cauchy-Schwarz is nearly tight): lane sums on either side of 2^31, so that the bound admitting
# all of k, the per-position maxima's segments or the split path decides; any shift and mode,
# random tiles of a batch of two, a few rows of mixed signs.
@given(m=st.integers(1, 20), n=st.integers(1, 20), k=st.integers(1, 2048),
       f=st.tuples(st.floats(0.8, 1.3), st.floats(0.8, 1.3)),
       shift=st.integers(-2, 45), mode=st.sampled_from(list(MODES)),
       seed=st.integers(0, 2**32 - 1))
def test_extension_same_sign_rows_match_portable(portable, m, n, k, f, shift, mode, seed):
    rng = np.random.default_rng(seed)
    hi = [min(32767, int(_cs_edge(k) * g)) for g in f]
    a = (rng.integers(hi[0] * 97 // 100, hi[0] + 1, (2, m, k)) * rng.choice([-1, 1], (2, m, 1))
         * np.where(rng.random((2, m, 1)) < 0.2, rng.choice([-1, 1], (2, m, k)), 1))
    bt = rng.integers(hi[1] * 97 // 100, hi[1] + 1, (2, n, k)) * rng.choice([-1, 1], (2, n, 1))
    a, bt = a.astype(np.int16), bt.astype(np.int16)
    tiles = _grid(2, m, n, int(rng.integers(1, m + 1)), int(rng.integers(1, n + 1)))
    want, wsat = _portable_runner(portable, a, bt, m, n, k, tiles, shift, MODES[mode], seed)
    got, gsat = _extension_runner(a, bt, m, n, k, tiles, shift, MODES[mode], seed)
    assert np.array_equal(got, want)
    assert gsat == wsat


def test_all_minus_32768_is_exact(portable):
    # Every product is 2^30: the int64 result k * 2^30 must survive, not wrap.
    k, m, n = 200, 5, 6
    a = np.full((1, m, k), -32768, np.int16)
    bt = np.full((1, n, k), -32768, np.int16)
    got, gsat = _extension_runner(a, bt, m, n, k, _grid(1, m, n, m, n), 30, 0, 0)
    assert np.all(got == k) and gsat == 0    # k * 2^30 / 2^30
    got, gsat = _extension_runner(a, bt, m, n, k, _grid(1, m, n, m, n), 20, 0, 0)
    assert np.all(got == 32767) and gsat == m * n


def test_matmul_uses_bit_identical_kernel(portable):
    # End to end through spinla.matmul: the tiles the lowering makes, the transpose the op
    # does, N(0,1) data in q3.12 (several int32 segments per output).
    import spinla
    rng = np.random.default_rng(3)
    x = rng.standard_normal((37, 1000)).astype(np.float32)
    w = rng.standard_normal((1000, 29)).astype(np.float32)
    A, B = spinla.asarray(x, fmt="q3.12"), spinla.asarray(w, fmt="q3.12")
    C = spinla.matmul(A, B, fmt="q7.8")
    a = A.raw.reshape(1, 37, 1000)
    bt = np.ascontiguousarray(B.raw.T).reshape(1, 29, 1000)
    want, _ = _portable_runner(portable, a, bt, 37, 29, 1000, _grid(1, 37, 29, 37, 29),
                               12 + 12 - 8, 0, 0)
    assert np.array_equal(C.raw, want[0])
    # and the exact product, rounded half to even, agrees with an int64 NumPy reference
    exact = a[0].astype(np.int64) @ bt[0].T.astype(np.int64)
    assert np.array_equal(C.raw, qref.requant(exact, 16)[0])
