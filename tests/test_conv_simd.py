"""The host's AVX-512 VNNI weight-gradient path of conv2d_q15.c against the portable C path
(what the ARM968 runs), bit for bit.

Both are built here from the same spinla_c sources (the portable one with -DSPL_PORTABLE) and
arm_conv2d_grad_weight_q15 is called per tile on the same data: the exact int64 partials must be
identical for every geometry, channel count (each lane grouping of the SIMD path: <= 4, <= 8 and
> 8 channels, several channel blocks) and magnitude (small data runs whole chunks in one int32
segment, large data cuts segments or falls back to the portable loop for a chunk).
"""
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cbuild  # noqa: E402

cffi = pytest.importorskip("cffi")

SOURCES = ("conv2d_q15.c", "gemm_q15.c", "requant_q15.c", "rng_q15.c")
CDEF = """
typedef struct { int32_t n, h, w, cin, oh, ow, cout, kh, kw, sy, sx, pt, pl; } spl_conv2d_t;
void arm_conv2d_grad_weight_q15(const int16_t *x, int32_t xrow0, const spl_conv2d_t *g,
                                const int16_t *delta, int32_t ldd, int32_t p0, int32_t p1,
                                int32_t c0, int32_t c1, int64_t *acc, int32_t ldacc,
                                int16_t *scratch, int32_t scratch_cols);
"""


def _cpu_has_vnni() -> bool:
    return cbuild.cpu_has_vnni()


def _build(tmpdir: Path, name: str, flags):
    return cbuild.build(tmpdir, name, flags, SOURCES, CDEF)


@pytest.fixture(scope="module")
def libs(tmp_path_factory):
    if not _cpu_has_vnni():
        pytest.skip("this CPU has no AVX-512 VNNI: the host path is not built")
    d = tmp_path_factory.mktemp("conv_simd")
    return _build(d, "portable", ["-DSPL_PORTABLE"]), _build(d, "native", ["-march=native"])


def _gw(lib, geom, x, d, p0, p1, c0, c1, cols):
    ffi, lib = lib
    g = ffi.new("spl_conv2d_t *", geom)
    n, h, w, cin, oh, ow, cout, kh, kw = geom[:9]
    k = kh * kw * cin
    acc = np.full((k, cout), 7, np.int64)  # the kernel must overwrite its columns
    scratch = np.zeros((2 * (-(-k // 4) * 4) + -(-(c1 - c0) // 4) * 4) * cols, np.int16)
    xc, dc = np.ascontiguousarray(x), np.ascontiguousarray(d)
    lib.arm_conv2d_grad_weight_q15(
        ffi.cast("int16_t *", xc.ctypes.data), 0, g,
        ffi.cast("int16_t *", dc.ctypes.data) + p0 * cout + c0, cout, p0, p1, c0, c1,
        ffi.cast("int64_t *", acc.ctypes.data) + c0, cout,
        ffi.cast("int16_t *", scratch.ctypes.data), cols)
    return acc


def _ref(geom, x, d, p0, p1, c0, c1):
    n, h, w, cin, oh, ow, cout, kh, kw, sy, sx, pt, pl = geom
    xp = np.zeros((n, h + 2 * kh + oh * sy, w + 2 * kw + ow * sx, cin), np.int64)
    xp[:, kh:kh + h, kw:kw + w] = x
    acc = np.zeros((kh, kw, cin, cout), np.int64)
    for p in range(p0, p1):
        b, r = divmod(p, oh * ow)
        oy, ox = divmod(r, ow)
        iy, ix = oy * sy - pt + kh, ox * sx - pl + kw
        win = xp[b, iy:iy + kh, ix:ix + kw]
        acc += win[..., None] * d[b, oy, ox][None, None, None, :].astype(np.int64)
    return acc.reshape(-1, cout)[:, c0:c1]


MAGS = [(3, 3), (2000, 200), (16384, 50), (32768, 32768), (32768, 3000)]


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_grad_weight_simd_matches_portable(libs, data):
    n = data.draw(st.integers(1, 3))
    cin = data.draw(st.sampled_from([1, 2, 3, 6]))
    cout = data.draw(st.sampled_from([1, 3, 4, 5, 6, 8, 9, 16, 17, 40]))
    kh, kw = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 5))
    sy, sx = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2))
    pt, pl = data.draw(st.integers(0, kh - 1)), data.draw(st.integers(0, kw - 1))
    h, w = data.draw(st.integers(kh, 12)), data.draw(st.integers(kw, 12))
    oh, ow = (h + 2 * pt - kh) // sy + 1, (w + 2 * pl - kw) // sx + 1
    geom = (n, h, w, cin, oh, ow, cout, kh, kw, sy, sx, pt, pl)
    mx, md = data.draw(st.sampled_from(MAGS))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    x = rng.integers(-mx, mx, (n, h, w, cin), endpoint=False).astype(np.int16)
    d = rng.integers(-md, md, (n, oh, ow, cout), endpoint=False).astype(np.int16)
    if data.draw(st.booleans()):  # extreme values everywhere: every step could overflow
        x[...] = -32768
        d[...] = -32768
    m = n * oh * ow
    p0 = data.draw(st.integers(0, m - 1))
    p1 = data.draw(st.integers(p0 + 1, m))
    c0 = data.draw(st.integers(0, cout - 1))
    c1 = data.draw(st.integers(c0 + 1, cout))
    cols = data.draw(st.sampled_from([1, 4, 16, 64]))
    port, nat = libs
    a = _gw(port, geom, x, d, p0, p1, c0, c1, cols)
    b = _gw(nat, geom, x, d, p0, p1, c0, c1, cols)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a[:, c0:c1], _ref(geom, x, d, p0, p1, c0, c1))


def test_grad_weight_simd_long_chunks(libs):
    """C1-like (many pixels, several SIMD chunks, segments cut by the overflow bound)."""
    geom = (4, 32, 32, 1, 28, 28, 6, 5, 5, 1, 1, 0, 0)
    rng = np.random.default_rng(1)
    for mx, md in [(16384, 50), (32767, 32767), (30000, 2000)]:
        x = rng.integers(-mx, mx, (4, 32, 32, 1)).astype(np.int16)
        d = rng.integers(-md, md, (4, 28, 28, 6)).astype(np.int16)
        a = _gw(libs[0], geom, x, d, 0, 4 * 784, 0, 6, 64)
        b = _gw(libs[1], geom, x, d, 0, 4 * 784, 0, 6, 64)
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, _ref(geom, x, d, 0, 4 * 784, 0, 6))
