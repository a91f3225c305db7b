"""The emulator's direct forward path for single-input-channel convolutions
(spinla_c/host/conv_direct.inc with conv_direct_{avx512,avx2}.inc, taken by spl_run_conv2d in
spinla_c/host/run_conv.c) against the portable build (-DSPL_PORTABLE: every tile on
arm_conv2d_q15's im2col path, what the ARM968's fallback runs), bit for bit: outputs, the
outputs no tile covers (left untouched) and saturation counts.

Builds: the native AVX-512 VNNI one (skipped on a CPU without it) and the AVX2 one
(-march=x86-64-v3, skipped without AVX2), each against the portable build; plus the
package's own library (spinla.kernels, OpenMP threads) against the portable build.

Cases cover what the path decides on: the planner's grid of tiles (whole images as work
items) and arbitrary tile lists (tile by tile, tiles starting and ending mid-row, not
covering every output), kernels 1..15 wide and tall (even and odd widths: the last tap pair's
zero half), padding on any side and cropping, output rows longer and shorter than a group,
channel counts over several blocks, both rounding modes and shifts outside the lanes' range
(rounded by spl_requant_q63), saturating outputs, and data whose int32 bound fails (the range
redone on arm_conv2d_q15).  The weight gradient's direct path (conv_gw_direct.inc) against the
portable partials the same way, and padded convolutions of any channel count and stride, which
the SIMD builds' runner runs on a zero-padded copy of the input (run_conv.c conv_pad).
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cbuild
from test_gemm_avx2 import cpu_has_avx2

SOURCES = ("conv2d_q15.c", "gemm_q15.c", "requant_q15.c", "rng_q15.c", "host/run_conv.c")
CDEF = """
uint64_t spl_run_conv2d(const int16_t *x, const int16_t *wt, int16_t *y, const int32_t *geom,
                        int32_t ldw, const int32_t *tiles, int32_t ntiles, int16_t *scratch,
                        int32_t scratch_rows, int32_t shift, int32_t mode, uint32_t seed,
                        int32_t nthreads);
void arm_conv2d_pack_q15(const int16_t *w, int32_t kh, int32_t kw, int32_t cin, int32_t cout,
                         const int16_t *table, int32_t flip, int16_t *dst, int32_t ldd, int32_t r0,
                         int32_t r1);
"""
SENTINEL = 12345


@pytest.fixture(scope="module")
def portable(tmp_path_factory):
    return cbuild.build(tmp_path_factory.mktemp("cd_portable"), "portable", ["-DSPL_PORTABLE"],
                        SOURCES, CDEF)


@pytest.fixture(scope="module", params=["avx512", "avx2", "package"])
def fast(request, tmp_path_factory):
    if request.param == "avx512":
        if not cbuild.cpu_has_vnni():
            pytest.skip("this CPU has no AVX-512 VNNI: the native direct path is not built")
        return cbuild.build(tmp_path_factory.mktemp("cd_native"), "native", ["-march=native"],
                            SOURCES, CDEF)
    if request.param == "avx2":
        if not cpu_has_avx2():
            pytest.skip("this CPU has no AVX2 (x86-64-v3): the AVX2 direct path cannot run")
        return cbuild.build(tmp_path_factory.mktemp("cd_avx2"), "avx2", ["-march=x86-64-v3"],
                            SOURCES, CDEF)
    from spinla.kernels import ffi, lib
    return ffi, lib


def _first_row(g, p):
    per = g["oh"] * g["ow"]
    n, iy = p // per, (p % per) // g["ow"] * g["sy"] - g["pt"]
    return n * g["h"] + min(max(iy, 0), g["h"])


def _run(built, g, x, wt, ldw, tiles, rows, shift, mode, seed, nthreads):
    ffi, L = built
    geom = np.array([g[f] for f in ("n", "h", "w", "cin", "oh", "ow", "cout", "kh", "kw", "sy",
                                    "sx", "pt", "pl")], np.int32)
    y = np.full((g["n"] * g["oh"] * g["ow"], g["cout"]), SENTINEL, np.int16)
    scratch = np.full(nthreads * rows * ldw, -7, np.int16)
    tl = np.ascontiguousarray(tiles, np.int32)
    p = lambda a, t="int16_t *": ffi.cast(t, a.ctypes.data)
    sat = L.spl_run_conv2d(p(x), p(wt), p(y), p(geom, "int32_t *"), ldw, p(tl, "int32_t *"),
                           len(tl), p(scratch), rows, shift, mode, seed, nthreads)
    return int(sat), y


def _pack(built, w, g, ldw):
    ffi, L = built
    wt = np.zeros((g["cout"], ldw), np.int16)
    wc = np.ascontiguousarray(w)
    L.arm_conv2d_pack_q15(ffi.cast("int16_t *", wc.ctypes.data), g["kh"], g["kw"], g["cin"],
                          g["cout"], ffi.NULL, 0, ffi.cast("int16_t *", wt.ctypes.data), ldw, 0,
                          g["cout"])
    return wt


def _cuts(data, total, most):
    """Sorted cut points 0 = c_0 < ... < c_m = total, at most `most` pieces."""
    inner = data.draw(st.lists(st.integers(1, max(1, total - 1)), max_size=most - 1))
    return sorted({0, total, *[c for c in inner if 0 < c < total]})


@st.composite
def geometries(draw):
    kh, kw = draw(st.integers(1, 15)), draw(st.integers(1, 15))
    h, w = draw(st.integers(max(1, kh - 2), 40)), draw(st.integers(max(1, kw - 2), 70))
    pt, pl = draw(st.integers(-1, kh - 1)), draw(st.integers(-1, kw - 1))
    pb, pr = draw(st.integers(-1, kh - 1)), draw(st.integers(-1, kw - 1))
    oh, ow = h + pt + pb - kh + 1, w + pl + pr - kw + 1
    if oh < 1 or ow < 1:
        pt, pb, pl, pr = kh - 1, 0, kw - 1, 0
        oh, ow = h, w
    return dict(n=draw(st.integers(1, 3)), h=h, w=w, cin=1, oh=oh, ow=ow,
                cout=draw(st.integers(1, 20)), kh=kh, kw=kw, sy=1, sx=1, pt=pt, pl=pl)


def _tiles(data, g):
    npix = g["n"] * g["oh"] * g["ow"]
    if data.draw(st.booleans()):  # the planner's grid: pixel ranges x channel ranges
        pc, cc = _cuts(data, npix, 12), _cuts(data, g["cout"], 4)
        return [(a, b, c, d, _first_row(g, a)) for a, b in zip(pc, pc[1:])
                for c, d in zip(cc, cc[1:])]
    out = []
    for _ in range(data.draw(st.integers(1, 6))):  # any tiles: mid-row, gaps, any order
        a = data.draw(st.integers(0, npix - 1))
        b = data.draw(st.integers(a + 1, npix))
        c = data.draw(st.integers(0, g["cout"] - 1))
        out.append((a, b, c, data.draw(st.integers(c + 1, g["cout"])), _first_row(g, a)))
    return out


def _same(portable, fast, g, x, w, tiles, shift, mode, seed, nthreads=1):
    k = g["kh"] * g["kw"] * g["cin"]
    ldw = -(-k // 16) * 16
    wt = _pack(portable, w, g, ldw)
    rows = 36
    sp, yp = _run(portable, g, x, wt, ldw, tiles, rows, shift, mode, seed, nthreads)
    sf, yf = _run(fast, g, x, wt, ldw, tiles, rows, shift, mode, seed, nthreads)
    np.testing.assert_array_equal(yf, yp, err_msg=f"outputs differ: {g}, shift {shift}, "
                                                  f"mode {mode}, tiles {tiles}")
    assert sf == sp, f"saturation {sf} != portable {sp}: {g}, shift {shift}, mode {mode}"
    return sp, yp


@settings(max_examples=120, deadline=None)
@given(g=geometries(), seed=st.integers(0, 2**32 - 1), data=st.data())
def test_direct_matches_portable(portable, fast, g, seed, data):
    rng = np.random.default_rng(seed)
    amp = data.draw(st.sampled_from([2**6, 2**11, 2**15]))  # 2^15: bounds that fail
    x = rng.integers(-amp, amp, (g["n"], g["h"], g["w"], 1)).astype(np.int16)
    w = rng.integers(-amp, amp, (g["kh"], g["kw"], 1, g["cout"])).astype(np.int16)
    shift = data.draw(st.sampled_from([-2, 0, 1, 7, 12, 15, 31, 32, 35]))
    mode = data.draw(st.sampled_from([0, 1]))
    _same(portable, fast, g, x, w, _tiles(data, g), shift, mode, seed,
          data.draw(st.integers(1, 3)))


def test_direct_lenet_first_layers(portable, fast):
    # LeNet-5's C1 (32x32 padded input, valid 5x5, 6 channels) and LeNet-1's (28x28, 4
    # channels), batch 8, as the planner tiles them (36-pixel ranges, all channels), with
    # outputs that saturate; a second run where the int32 bound fails on one image only.
    for h, cout in ((32, 6), (28, 4)):
        g = dict(n=8, h=h, w=h, cin=1, oh=h - 4, ow=h - 4, cout=cout, kh=5, kw=5, sy=1, sx=1,
                 pt=0, pl=0)
        rng = np.random.default_rng(h)
        x = rng.integers(-8192, 8192, (8, h, h, 1)).astype(np.int16)
        w = rng.integers(-4096, 4096, (5, 5, 1, cout)).astype(np.int16)
        npix = 8 * (h - 4) ** 2
        tiles = [(a, min(a + 36, npix), 0, cout, _first_row(g, a)) for a in range(0, npix, 36)]
        sat, _ = _same(portable, fast, g, x, w, tiles, 11, 0, 1, 2)
        assert sat > 0
        # max|x| * sum|w| > 2^31 - 1 for image 3 only (25 * 4096 * 32768): that image on
        # arm_conv2d_q15's exact path, the others direct
        x[3] = -32768
        _same(portable, fast, g, x, w, tiles, 20, 0, 1, 2)


GW_CDEF = """
void spl_run_conv2d_grad_weight(const int16_t *x, const int16_t *delta, int64_t *part,
                                const int32_t *geom, const int32_t *tiles, int32_t ntiles,
                                int16_t *scratch, int32_t scratch_cols, int32_t nthreads);
"""


def _gw(built, g, x, d, tiles, cols, nthreads):
    ffi, L = built
    k = g["kh"] * g["kw"]
    geom = np.array([g[f] for f in ("n", "h", "w", "cin", "oh", "ow", "cout", "kh", "kw", "sy",
                                    "sx", "pt", "pl")], np.int32)
    nslots = max(t[0] for t in tiles) + 1
    part = np.full((nslots, k, g["cout"]), -777, np.int64)  # stale values: rewritten
    k4, n4 = -(-k // 4) * 4, -(-g["cout"] // 4) * 4
    scratch = np.full(nthreads * (2 * k4 + n4) * cols, -7, np.int16)
    tl = np.ascontiguousarray(tiles, np.int32)
    p = lambda a, t="int16_t *": ffi.cast(t, a.ctypes.data)
    L.spl_run_conv2d_grad_weight(p(x), p(d), p(part, "int64_t *"), p(geom, "int32_t *"),
                                 p(tl, "int32_t *"), len(tl), p(scratch), cols, nthreads)
    return part


@pytest.fixture(scope="module")
def gw_builds(request, fast, tmp_path_factory):
    """(portable, fast) with the weight gradient's runner declared."""
    ffi, L = fast
    if not hasattr(L, "spl_run_conv2d_grad_weight"):  # a cbuild library: declare it
        ffi.cdef(GW_CDEF)
    pf, pl = request.getfixturevalue("portable")
    if not hasattr(pl, "spl_run_conv2d_grad_weight"):
        pf.cdef(GW_CDEF)
    return (pf, pl), (ffi, L)


@settings(max_examples=100, deadline=None)
@given(g=geometries(), seed=st.integers(0, 2**32 - 1), data=st.data())
def test_direct_weight_gradient_matches_portable(gw_builds, g, seed, data):
    portable, fast = gw_builds
    rng = np.random.default_rng(seed)
    npix = g["n"] * g["oh"] * g["ow"]
    ax, ad = (data.draw(st.sampled_from([2**6, 2**12, 2**15])) for _ in range(2))
    x = rng.integers(-ax, ax, (g["n"], g["h"], g["w"], 1)).astype(np.int16)
    d = rng.integers(-ad, ad, (npix, g["cout"])).astype(np.int16)
    if data.draw(st.booleans()):  # full-scale values from some pixel on: bounds that fail
        d[data.draw(st.integers(0, npix - 1)):] = -32768
    tiles = []
    for s in range(data.draw(st.integers(1, 4))):  # partial slots: any pixel and channel range
        a = data.draw(st.integers(0, npix - 1))
        c = data.draw(st.integers(0, g["cout"] - 1))
        tiles.append((s, a, data.draw(st.integers(a + 1, npix)), c,
                      data.draw(st.integers(c + 1, g["cout"])), _first_row(g, a)))
    cols = data.draw(st.sampled_from([4, 64, 256]))
    want = _gw(portable, g, x, d, tiles, cols, 1)
    got = _gw(fast, g, x, d, tiles, cols, data.draw(st.integers(1, 3)))
    for s, a, b, c0, c1, _ in tiles:  # a tile's partial: its channels; the rest untouched
        np.testing.assert_array_equal(got[s], want[s], err_msg=f"partial {s} differs: {g}")


@st.composite
def padded_geometries(draw):
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    sy, sx = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    h, w = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    pt, pl = draw(st.integers(-1, kh - 1)), draw(st.integers(-1, kw - 1))
    pb, pr = draw(st.integers(-1, kh - 1)), draw(st.integers(-1, kw - 1))
    oh, ow = (h + pt + pb - kh) // sy + 1, (w + pl + pr - kw) // sx + 1
    if oh < 1 or ow < 1:
        pt, pl = kh - 1, kw - 1
        oh, ow = (h + kh - 1) // sy + 1, (w + kw - 1) // sx + 1
    return dict(n=draw(st.integers(1, 3)), h=h, w=w, cin=draw(st.integers(1, 6)), oh=oh, ow=ow,
                cout=draw(st.integers(1, 9)), kh=kh, kw=kw, sy=sy, sx=sx, pt=pt, pl=pl)


@settings(max_examples=100, deadline=None)
@given(g=padded_geometries(), seed=st.integers(0, 2**32 - 1), data=st.data())
def test_padded_copy_matches_portable(portable, fast, g, seed, data):
    rng = np.random.default_rng(seed)
    amp = data.draw(st.sampled_from([2**6, 2**12, 2**15]))
    x = rng.integers(-amp, amp, (g["n"], g["h"], g["w"], g["cin"])).astype(np.int16)
    w = rng.integers(-amp, amp, (g["kh"], g["kw"], g["cin"], g["cout"])).astype(np.int16)
    shift = data.draw(st.sampled_from([0, 9, 15, 35]))
    _same(portable, fast, g, x, w, _tiles(data, g), shift, data.draw(st.sampled_from([0, 1])),
          seed, data.draw(st.integers(1, 3)))
