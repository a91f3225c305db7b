"""conv2d's host SIMD paths against the portable C, bit for bit: the forward pass (im2col rows
into arm_gemm_q15, so spinla_c/host/gemm_{avx2,neon}.inc) and the weight gradient
(block_4x4_i32's SIMD forms, spinla_c/host/conv_{avx2,neon}.inc).

The same cases run on two pairs of builds, each driven through the qemu harness's request
format (spinla/armharness.py, spinla/armcases.py): outputs, untouched neighbours and
saturation counts must be identical (the scratch is work space).
* avx2: every kernel and spinla_c/arm/dispatch.c compiled twice for this host (-DSPL_PORTABLE,
  and -march=x86-64-v3 as for a CPU without AVX-512); skipped on a CPU without AVX2.
* neon: the portable and NEON aarch64 harnesses (`make aarch64-harness`) under qemu-aarch64;
  skipped, with the reason, without aarch64-linux-gnu-gcc or qemu-aarch64.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cbuild
from spinla import armcases as cases
from spinla import armharness as hx
from test_gemm_avx2 import cpu_has_avx2

KERNEL_SOURCES = tuple(sorted(p.name for p in cbuild.C_DIR.glob("*.c"))) + ("arm/dispatch.c",)
HX_CDEF = ("int32_t hx_serve(uint8_t *buf, uint32_t len, uint64_t *ret, "
           "uint32_t *arrays_off, uint32_t *arrays_len);")
SCRATCH = {"scratch"}


class BuiltHarness(hx.HostHarness):
    """HostHarness's call() on a dispatch.c library built by tests/cbuild.py with given flags."""

    def __init__(self, tmpdir, name, flags):
        self._tmp = None
        self.ffi, self.lib = cbuild.build(tmpdir, name, flags, KERNEL_SOURCES, HX_CDEF)


@pytest.fixture(scope="module", params=["avx2", "neon"])
def pair(request, tmp_path_factory):
    if request.param == "avx2":
        if not cpu_has_avx2():
            pytest.skip("this CPU has no AVX2 (x86-64-v3): the AVX2 path cannot run here")
        d = tmp_path_factory.mktemp("conv_avx2")
        yield (BuiltHarness(d, "portable", ["-DSPL_PORTABLE"]),
               BuiltHarness(d, "avx2", ["-march=x86-64-v3"]))
        return
    from test_gemm_neon import _missing, start_pair
    if _missing() is not None:
        pytest.skip(f"NEON qemu tests skipped: {_missing()}")
    portable, neon = start_pair()
    yield portable, neon
    neon.close()
    portable.close()


def same(pair, case):
    kernel, sc, arrs = case
    (r_p, out_p), (r_s, out_s) = (h.call(kernel, sc, arrs) for h in pair)
    assert r_p == r_s, f"{kernel}: saturation portable {r_p} != simd {r_s} ({sc})"
    for name in out_p:
        if name not in SCRATCH:
            np.testing.assert_array_equal(out_s[name], out_p[name],
                                          err_msg=f"{kernel}: {name} differs ({sc})")


@st.composite
def geometries(draw):
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    pt, pl = draw(st.integers(0, kh - 1)), draw(st.integers(0, kw - 1))
    h, w = draw(st.integers(kh, 10)), draw(st.integers(kw, 10))
    return cases.conv_geometry(draw(st.integers(1, 2)), h, w, draw(st.integers(1, 6)),
                               draw(st.integers(1, 9)), kh, kw, draw(st.integers(1, 2)),
                               draw(st.integers(1, 2)), pt, pl)


def _tile(g, data):
    npix = g["g_n"] * g["g_oh"] * g["g_ow"]
    p0 = data.draw(st.integers(0, npix - 1))
    p1 = data.draw(st.integers(p0 + 1, npix))
    c0 = data.draw(st.integers(0, g["g_cout"] - 1))
    return p0, p1, c0, data.draw(st.integers(c0 + 1, g["g_cout"]))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), full=st.booleans(), mode=st.sampled_from([0, 1]),
       g=geometries(), data=st.data())
def test_conv2d_forward(pair, seed, full, mode, g, data):
    p0, p1, c0, c1 = _tile(g, data)
    k = g["g_kh"] * g["g_kw"] * g["g_cin"]
    ldw = data.draw(st.sampled_from([k, -(-k // 16) * 16, k + 3]))
    rows = data.draw(st.sampled_from([1, 3, 4, 32]))
    same(pair, cases.conv2d(np.random.default_rng(seed), g, full, mode, p0, p1, c0, c1, ldw,
                            rows, small=data.draw(st.sampled_from([64, 4096]))))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), full=st.booleans(), g=geometries(), data=st.data())
def test_conv2d_weight_gradient(pair, seed, full, g, data):
    p0, p1, c0, c1 = _tile(g, data)
    cols = data.draw(st.sampled_from([4, 16, 64, 256]))
    same(pair, cases.conv2d_gw(np.random.default_rng(seed), g, full, 0, p0, p1, c0, c1, cols,
                               small=data.draw(st.sampled_from([64, 4096]))))


def test_conv2d_lenet5_c1(pair):
    # C1-like: k = 25, many pixels and long pixel runs in the weight gradient (len 256).
    g = cases.conv_geometry(2, 32, 32, 1, 6, 5, 5, 1, 1, 0, 0)
    for full in (False, True):
        rng = np.random.default_rng(int(full))
        same(pair, cases.conv2d(rng, g, full, 0, scratch_rows=32))
        same(pair, cases.conv2d_gw(rng, g, full, 0, scratch_cols=256))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), cin=st.integers(1, 3), cout=st.integers(1, 20),
       k=st.sampled_from([1, 3, 5]), big_from=st.floats(0.0, 1.0), data=st.data())
def test_conv2d_weight_gradient_long_tiles(pair, seed, cin, cout, k, big_from, data):
    # Many pixels (the AVX2 form's pixel-pair chunks, several per tile), channels in several
    # 6-row blocks with a ragged last one, and deltas that turn full-range part way through
    # the tile: chunks before that take the SIMD form, the rest the portable path.
    g = cases.conv_geometry(3, 28, 28, cin, cout, k, k, 1, 1, k // 2, k // 2, k // 2, k // 2)
    npix = 3 * 28 * 28
    p0 = data.draw(st.integers(0, npix // 2))
    c0 = data.draw(st.integers(0, cout - 1))
    kernel, sc, arrs = cases.conv2d_gw(np.random.default_rng(seed), g, False, 0, p0, npix, c0,
                                       cout, data.draw(st.sampled_from([16, 64, 256])), 4096)
    rng = np.random.default_rng(seed + 1)
    d = arrs["delta"]
    start = int(big_from * len(d))
    d[start:] = rng.integers(-32768, 32768, len(d) - start)
    same(pair, (kernel, sc, arrs))


def test_conv2d_weight_gradient_bound_sees_both_pixels_of_a_pair(pair):
    # Small deltas at even pixels, full-scale ones at odd pixels: a pixel pair can add about
    # 2^30 to a lane, so the int32 runs of the AVX2 form must be bounded by the odd pixels too.
    g = cases.conv_geometry(1, 12, 12, 1, 2, 3, 3, 1, 1, 0, 0)
    kernel, sc, arrs = cases.conv2d_gw(np.random.default_rng(0), g, False, 0, scratch_cols=64)
    arrs["x"][:] = 32767
    d = arrs["delta"].reshape(-1, 2)
    d[0::2], d[1::2] = 1, 32767
    same(pair, (kernel, sc, arrs))
