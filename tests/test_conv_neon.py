"""conv2d's host NEON paths against the portable C, bit for bit, both built for aarch64 and run
under qemu-aarch64 (`make aarch64-harness`): the forward pass (im2col rows into arm_gemm_q15,
so spinla_c/host/gemm_neon.inc) and the weight gradient (block_4x4_i32's NEON form,
spinla_c/host/conv_neon.inc).  The cases and the comparison are test_conv_avx2.py's.  Skipped,
with the reason, without aarch64-linux-gnu-gcc or qemu-aarch64."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spinla import armcases as cases
from test_conv_avx2 import _tile, geometries, same
from test_gemm_neon import _missing, start_pair

pytestmark = pytest.mark.skipif(_missing() is not None,
                                reason=f"NEON qemu tests skipped: {_missing()}")


@pytest.fixture(scope="module")
def pair():
    portable, neon = start_pair()
    yield portable, neon
    neon.close()
    portable.close()


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), full=st.booleans(), mode=st.sampled_from([0, 1]),
       g=geometries(), data=st.data())
def test_conv2d_forward_neon(pair, seed, full, mode, g, data):
    p0, p1, c0, c1 = _tile(g, data)
    k = g["g_kh"] * g["g_kw"] * g["g_cin"]
    ldw = data.draw(st.sampled_from([k, -(-k // 16) * 16, k + 3]))
    rows = data.draw(st.sampled_from([1, 3, 4, 32]))
    same(pair, cases.conv2d(np.random.default_rng(seed), g, full, mode, p0, p1, c0, c1, ldw,
                            rows, small=data.draw(st.sampled_from([64, 4096]))))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), full=st.booleans(), g=geometries(), data=st.data())
def test_conv2d_weight_gradient_neon(pair, seed, full, g, data):
    p0, p1, c0, c1 = _tile(g, data)
    cols = data.draw(st.sampled_from([4, 16, 64, 256]))
    same(pair, cases.conv2d_gw(np.random.default_rng(seed), g, full, 0, p0, p1, c0, c1, cols,
                               small=data.draw(st.sampled_from([64, 4096]))))


def test_conv2d_lenet5_c1_neon(pair):
    g = cases.conv_geometry(2, 32, 32, 1, 6, 5, 5, 1, 1, 0, 0)
    for full in (False, True):
        rng = np.random.default_rng(int(full))
        same(pair, cases.conv2d(rng, g, full, 0, scratch_rows=32))
        same(pair, cases.conv2d_gw(rng, g, full, 0, scratch_cols=256))
