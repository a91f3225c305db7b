"""The forward convolution (arm_conv2d_q15) of the host's native AVX-512 build, whose im2col
runs are spinla_c/host/im2col_avx512.inc's masked moves, against the portable build
(-DSPL_PORTABLE: conv2d_q15.c's word loops, what the ARM968 runs), bit for bit, and both against
a NumPy reference in round-to-nearest mode.

Geometries cover every run shape the moves see: runs of 1 to well over 32 values (kw * cin),
windows wholly inside the image and cut by padding on any side, strides, tiles that start
mid-row, a scratch of a few rows (so the copies restart mid-tile), both rounding modes.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cbuild

SOURCES = ("conv2d_q15.c", "gemm_q15.c", "requant_q15.c", "rng_q15.c")
CDEF = """
typedef struct { int32_t n, h, w, cin, oh, ow, cout, kh, kw, sy, sx, pt, pl; } spl_conv2d_t;
typedef struct { int32_t shift; int32_t mode; uint32_t seed; } spl_requant_t;
uint32_t arm_conv2d_q15(const int16_t *x, int32_t xrow0, const spl_conv2d_t *g, const int16_t *wt,
                        int32_t ldw, int16_t *y, int32_t ldy, int32_t p0, int32_t p1, int32_t c0,
                        int32_t c1, int16_t *scratch, int32_t scratch_rows,
                        const spl_requant_t *rq);
void arm_conv2d_pack_q15(const int16_t *w, int32_t kh, int32_t kw, int32_t cin, int32_t cout,
                         const int16_t *table, int32_t flip, int16_t *dst, int32_t ldd, int32_t r0,
                         int32_t r1);
"""


@pytest.fixture(scope="module")
def libs(tmp_path_factory):
    return cbuild.portable_and_host(tmp_path_factory, "vnni", "conv_im2col", SOURCES, CDEF)


def _conv(lib, geom, x, w, ldw, p0, p1, c0, c1, rows, shift, mode, seed):
    ffi, L = lib
    n, h, wd, cin, oh, ow, cout, kh, kw = geom[:9]
    wt = np.zeros((cout, ldw), np.int16)
    wc = np.ascontiguousarray(w)
    L.arm_conv2d_pack_q15(ffi.cast("int16_t *", wc.ctypes.data), kh, kw, cin, cout, ffi.NULL, 0,
                          ffi.cast("int16_t *", wt.ctypes.data), ldw, 0, cout)
    # (the tile holds its channels' rows of the packed weights, from row c0)
    y = np.full((p1 - p0, cout), 12345, np.int16)      # columns outside c0..c1 stay 12345
    scratch = np.full(rows * ldw, -7, np.int16)          # stale values the copies overwrite
    xc = np.ascontiguousarray(x)
    sat = L.arm_conv2d_q15(ffi.cast("int16_t *", xc.ctypes.data), 0,
                           ffi.new("spl_conv2d_t *", geom),
                           ffi.cast("int16_t *", wt.ctypes.data) + c0 * ldw, ldw, ffi.cast("int16_t *", y.ctypes.data) + c0, cout, p0, p1, c0, c1,
                           ffi.cast("int16_t *", scratch.ctypes.data), rows,
                           ffi.new("spl_requant_t *", (shift, mode, seed)))
    return sat, y


def _ref(geom, x, w, p0, p1, c0, c1, shift):
    n, h, wd, cin, oh, ow, cout, kh, kw, sy, sx, pt, pl = geom
    xp = np.zeros((n, h + 2 * kh + oh * sy, wd + 2 * kw + ow * sx, cin), np.int64)
    xp[:, kh:kh + h, kw:kw + wd] = x
    out = np.full((p1 - p0, cout), 12345, np.int64)
    sat = 0
    for p in range(p0, p1):
        b, r = divmod(p, oh * ow)
        oy, ox = divmod(r, ow)
        iy, ix = oy * sy - pt + kh, ox * sx - pl + kw
        acc = np.einsum("yxc,yxco->o", xp[b, iy:iy + kh, ix:ix + kw], w.astype(np.int64))
        q = (acc + (1 << (shift - 1)) - 1 + ((acc >> shift) & 1)) >> shift   # half to even
        sat += int(((q[c0:c1] > 32767) | (q[c0:c1] < -32768)).sum())
        out[p - p0, c0:c1] = np.clip(q, -32768, 32767)[c0:c1]
    return out, sat


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_conv_forward_native_matches_portable(libs, data):
    d = data.draw
    cin, kh, kw = d(st.integers(1, 20)), d(st.integers(1, 5)), d(st.integers(1, 5))
    sy, sx = d(st.integers(1, 2)), d(st.integers(1, 2))
    pt, pl, pb, pr = (d(st.integers(0, 2)) for _ in range(4))
    h, wd = d(st.integers(max(1, kh - pt - pb), 9)), d(st.integers(max(1, kw - pl - pr), 9))
    n, cout = d(st.integers(1, 2)), d(st.integers(1, 7))
    oh, ow = (h + pt + pb - kh) // sy + 1, (wd + pl + pr - kw) // sx + 1
    geom = (n, h, wd, cin, oh, ow, cout, kh, kw, sy, sx, pt, pl)
    k = kh * kw * cin
    ldw = -(-k // 16) * 16
    npix = n * oh * ow
    p0 = d(st.integers(0, npix - 1))
    p1 = d(st.integers(p0 + 1, npix))
    c0 = d(st.integers(0, cout - 1))
    c1 = d(st.integers(c0 + 1, cout))
    rows = d(st.integers(1, 6))
    seed = d(st.integers(0, 2**32 - 1))
    mode = d(st.sampled_from([0, 1]))
    shift = d(st.integers(1, 20))
    mag = d(st.sampled_from([3, 300, 32768]))
    rng = np.random.default_rng(seed)
    x = rng.integers(-mag, mag, (n, h, wd, cin)).astype(np.int16)
    w = rng.integers(-mag, mag, (kh, kw, cin, cout)).astype(np.int16)
    (s0, y0), (s1, y1) = (_conv(lib, geom, x, w, ldw, p0, p1, c0, c1, rows, shift, mode, seed)
                          for lib in libs)
    np.testing.assert_array_equal(y0, y1)
    assert s0 == s1
    if mode == 0:   # round to nearest (spinla.h SPL_ROUND_NEAREST)
        ref, sat = _ref(geom, x, w, p0, p1, c0, c1, shift)
        np.testing.assert_array_equal(y1, ref)
        assert s1 == sat
