"""Round-to-nearest is round half to even in every kernel (issue 10, item 3).

Round-half-up adds +1/2 LSB for every exact half, so the sum of many rounded values drifts:
(U * 0.5).sum() over uniform integers U was off by about 29 % at 9 M elements.  These tests
run the kernels themselves (the built extension, and the portable C the ARM968 runs) on data
whose exact results are halves half of the time, and check both the tie rule and that the
rounded sum stays within a few standard deviations of the exact one."""
import numpy as np
import pytest

import cbuild
import spinla as sp
from spinla.fixed import q
from spinla.kernels import ffi, lib

N = 1 << 18


def _u(rng, n=N):
    return rng.integers(-30000, 30000, n).astype(np.int16)


def _ptr(a, t="int16_t *"):
    return ffi.cast(t, a.ctypes.data)


def test_requant_halves_go_to_even(rng):
    x = np.arange(-32768, 32768, dtype=np.int16)
    y = np.zeros_like(x)
    tiles = np.asarray([[0, x.size]], np.int32)
    for shift in (1, 2, 5, 15):
        sat = lib.spl_run_requant(_ptr(x), _ptr(y), x.size, _ptr(tiles, "int32_t *"), 1,
                                  shift, 0, 0, 1)
        assert sat == 0
        # NumPy's round() is half to even: an independent statement of the rule
        np.testing.assert_array_equal(y, np.round(x / 2.0 ** shift).astype(np.int16))
    # spot values: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -0.5 -> 0, -1.5 -> -2, -2.5 -> -2
    x = np.asarray([1, 3, 5, -1, -3, -5, 7], np.int16)
    y = np.zeros_like(x)
    lib.spl_run_requant(_ptr(x), _ptr(y), x.size, _ptr(np.asarray([[0, 7]], np.int32),
                                                        "int32_t *"), 1, 1, 0, 0, 1)
    np.testing.assert_array_equal(y, [0, 2, 2, 0, -2, -2, 4])


def _gemm_halves(rng, run):
    """U (N x 1) times 1 with shift 1: every odd U is an exact half.  Returns (U, out)."""
    u = _u(rng)
    return u, run(u.reshape(-1, 1), np.ones((1, 1), np.int16), u.size, 1, 1, 1)


def _host_gemm(a, bt, M, N_, K, shift):
    c = np.zeros((M, N_), np.int16)
    tiles = np.asarray([[0, 0, M, 0, N_]], np.int32)
    sat = lib.spl_run_gemm(_ptr(a), _ptr(bt), _ptr(c), M, N_, K, _ptr(tiles, "int32_t *"), 1,
                           shift, 0, 0, 1)
    assert sat == 0
    return c


def _assert_unbiased(u, out):
    exact = u.astype(np.int64).sum() / 2
    odd = int(np.count_nonzero(u & 1))
    assert odd > N // 3                       # many exact halves in the data
    err = out.astype(np.int64).sum() - exact
    # half to even: each tie is +-1/2 with the parity of U // 2, so |err| ~ sqrt(odd) / 2;
    # half up would give err = odd / 2 (about 65 000 here)
    assert abs(err) < 5 * np.sqrt(odd) / 2, (err, odd)
    np.testing.assert_array_equal(out.ravel(), np.round(u / 2.0).astype(np.int16))


def test_gemm_sum_of_halves_is_unbiased_host(rng):
    u, out = _gemm_halves(rng, _host_gemm)
    _assert_unbiased(u, out)


@pytest.fixture(scope="module")
def portable(tmp_path_factory):
    return cbuild.build(tmp_path_factory.mktemp("round_portable"), "portable",
                        ["-DSPL_PORTABLE"], ("gemm_q15.c", "requant_q15.c", "rng_q15.c"), """
typedef struct { int32_t shift; int32_t mode; uint32_t seed; } spl_requant_t;
uint32_t arm_gemm_q15(const int16_t *a, int32_t lda, const int16_t *bt, int32_t ldb, int16_t *c,
                      int32_t ldc, int32_t m, int32_t n, int32_t k, const spl_requant_t *rq,
                      uint32_t row0, uint32_t col0, uint32_t ncols_total);
""")


@pytest.mark.parametrize("k", [1, 2, 7])
def test_gemm_sum_of_halves_is_unbiased_portable(rng, portable, k):
    """The portable path (the ARM968's): U times (1, 0, ..., 0) with shift 1, in the register
    block (4 rows) and on the ragged edge."""
    pffi, plib = portable
    u = _u(rng)
    a = np.zeros((u.size, k), np.int16)
    a[:, 0] = u
    bt = np.zeros((4, k), np.int16)
    bt[:, 0] = 1
    c = np.zeros((u.size, 4), np.int16)
    rq = pffi.new("spl_requant_t *", {"shift": 1, "mode": 0, "seed": 0})
    sat = plib.arm_gemm_q15(pffi.cast("int16_t *", a.ctypes.data), k,
                            pffi.cast("int16_t *", bt.ctypes.data), k,
                            pffi.cast("int16_t *", c.ctypes.data), 4, u.size, 4, k, rq, 0, 0, 4)
    assert sat == 0
    for j in range(4):
        _assert_unbiased(u, c[:, j])


def test_divide_and_sqrt_ties_go_to_even():
    x = sp.asarray([1.0, 3.0, 5.0, -1.0, -3.0, -5.0, 1.0], fmt=q(10))
    y = sp.asarray([2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 3.0], fmt=q(10))
    # 0.5 1.5 2.5 -0.5 -1.5 -2.5 to even; 1/3 is no tie and rounds to 0
    np.testing.assert_array_equal(sp.divide(x, y, fmt=q(0)).raw, [0, 2, 2, 0, -2, -2, 0])
    # sqrt(2.25) = 1.5 -> 2, sqrt(6.25) = 2.5 -> 2, sqrt(12.25) = 3.5 -> 4; sqrt(2) = 1.41 -> 1
    r = sp.sqrt(sp.asarray([2.25, 6.25, 12.25, 2.0], fmt=q(8)), fmt=q(0))
    np.testing.assert_array_equal(r.raw, [2, 2, 4, 1])
