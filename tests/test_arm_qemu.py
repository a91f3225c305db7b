"""The ARM968 build of every kernel family, run under `qemu-arm -cpu arm946`, equals the host
build bit for bit: outputs, untouched neighbours of the outputs and saturation counts.

Both sides decode the same request with spinla_c/arm/dispatch.c and call the public API of
spinla_c/spinla.h; the host side is compiled with the emulator's flags (-O3 -march=native,
so its SIMD paths), the ARM side is `make arm-harness` (arm-none-eabi-gcc -mcpu=arm968e-s
-marm -Os with O2 hot functions, freestanding).  Inputs come from hypothesis: both rounding modes, full-range and
small data, ragged and aligned shapes.  A few reference checks (qref.py) make sure that the
harness passes the arguments the kernels expect, so agreement is not agreement on garbage.
Skipped, with the reason, without arm-none-eabi-gcc or qemu-arm (.ci/run installs both)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import qref
from spinla import armcases as cases
from spinla import armharness as hx

_missing = hx.toolchain_missing()
pytestmark = pytest.mark.skipif(_missing is not None,
                                reason=f"ARM qemu tests skipped: {_missing}")

MODE = st.sampled_from([0, 1])
FULL = st.booleans()
SEED = st.integers(0, 2**32 - 1)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    host = hx.HostHarness(tmp_path_factory.mktemp("hx"))
    arm = hx.QemuHarness()
    yield host, arm
    arm.close()
    host.close()


# Work space the kernels may leave in any state (the host's SIMD paths use it differently):
# not compared.
SCRATCH = {("CONV2D", "scratch"), ("CONV2D_GW", "scratch"), ("AVG_POOL", "acc"),
           ("AVG_POOL_GRAD", "acc"), ("MAX_POOL_GRAD", "acc")}


def same(pair, case):
    """Run case on both builds; assert bit-equality; return the host's (ret, arrays)."""
    kernel, sc, arrs = case
    host, arm = pair
    r_h, out_h = host.call(kernel, sc, arrs)
    r_a, out_a = arm.call(kernel, sc, arrs)
    assert r_h == r_a, f"{kernel}: saturation/return host {r_h} != arm {r_a} ({sc})"
    for name in out_h:
        if (kernel, name) in SCRATCH:
            continue
        np.testing.assert_array_equal(out_a[name], out_h[name],
                                      err_msg=f"{kernel}: array {name} differs ({sc})")
    return r_h, out_h


def rng_of(seed):
    return np.random.default_rng(seed)


# --- gemm ------------------------------------------------------------------------------------

@given(seed=SEED, full=FULL, mode=MODE, m=st.integers(1, 13), n=st.integers(1, 13),
       k=st.integers(1, 70), aligned=st.booleans())
def test_gemm(pair, seed, full, mode, m, n, k, aligned):
    if aligned:
        m, n, k = -(-m // 4) * 4, -(-n // 4) * 4, -(-k // 16) * 16
    pad = (0, 0, 0) if aligned else tuple(int(v) for v in rng_of(seed).integers(0, 3, 3))
    same(pair, cases.gemm(rng_of(seed), m, n, k, full, mode, pad))


@settings(max_examples=10)
@given(seed=SEED, full=FULL, mode=MODE)
def test_gemm_large_k_full_range(pair, seed, full, mode):
    """k long enough that int32 partial sums of full-range products would overflow."""
    same(pair, cases.gemm(rng_of(seed), 5, 6, 300, full, mode, (1, 2, 1)))


@pytest.mark.parametrize("m, n, k", [(3, 2, 6), (7, 5, 9), (12, 6, 40)])
def test_gemm_int32_overflow_is_redone(pair, m, n, k):
    """Every product +2^30: the int32 sums wrap to a negative value, which only the Q-flag
    check (the ARM's int32 path has no operand scan) turns back into the exact, saturated
    result; both builds and the reference agree."""
    for mode in (0, 1):
        kernel, sc, arrs = cases.gemm(rng_of(m), m, n, k, True, mode, shift=12)
        arrs["a"][:] = -32768
        arrs["bt"][:] = -32768
        ret, out = same(pair, (kernel, sc, arrs))
        np.testing.assert_array_equal(out["c"][:, :n], 32767)
        assert ret == m * n


@given(seed=SEED, full=FULL, m=st.integers(1, 9), n=st.integers(1, 9), k=st.integers(1, 80))
def test_safe_chunk(pair, seed, full, m, n, k):
    same(pair, cases.safe_chunk(rng_of(seed), m, n, k, full, 0))


def test_gemm_matches_reference(pair):
    """The harness passes GEMM's arguments as the kernel documents them: qref agrees."""
    rng = rng_of(1)
    for mode in (0, 1):
        kernel, sc, arrs = cases.gemm(rng, 7, 5, 33, True, mode, (1, 2, 3))
        ret, out = same(pair, (kernel, sc, arrs))
        a, bt = arrs["a"][:, :33], arrs["bt"][:, :33]
        idx = ((sc["row0"] + np.arange(7))[:, None] * sc["ncols_total"]
               + sc["col0"] + np.arange(5)[None, :])
        want, sat = qref.requant(a.astype(np.int64) @ bt.T.astype(np.int64), sc["shift"],
                                 ["nearest", "stochastic"][mode], sc["seed"], idx)
        np.testing.assert_array_equal(out["c"][:, :5], want)
        np.testing.assert_array_equal(out["c"][:, 5:], arrs["c"][:, 5:])  # padding untouched
        assert ret == sat


@settings(max_examples=10)
@given(seed=SEED, full=FULL, mode=MODE, m=st.integers(1, 9), n=st.integers(1, 9),
       k=st.integers(1, 40))
def test_host_harness_is_the_emulator(pair, seed, full, mode, m, n, k):
    """The host side of the comparison computes what the emulator's own extension
    (spinla._kernels, through its tile runners) computes, so ARM == host harness == emulator."""
    from spinla.kernels import ffi, lib, ptr
    host, _ = pair
    kernel, sc, arrs = cases.gemm(rng_of(seed), m, n, k, full, mode)
    sc.update(row0=0, col0=0, ncols_total=n)
    ret, out = host.call(kernel, sc, dict(arrs, c=np.zeros((m, n), np.int16)))
    c = np.zeros((m, n), np.int16)
    tiles = np.asarray([[0, 0, m, 0, n]], np.int32)
    sat = lib.spl_run_gemm(ptr(np.ascontiguousarray(arrs["a"])), ptr(np.ascontiguousarray(
        arrs["bt"])), ptr(c), m, n, k, ffi.from_buffer("int32_t[]", tiles), 1, sc["shift"], mode,
        sc["seed"], 1)
    np.testing.assert_array_equal(out["c"], c)
    assert ret == sat


# --- requantisation, random bits ---------------------------------------------------------------

@given(seed=SEED, full=FULL, mode=MODE, n=st.integers(1, 200))
def test_requant(pair, seed, full, mode, n):
    kernel, sc, arrs = cases.requant(rng_of(seed), n, full, mode)
    ret, out = same(pair, (kernel, sc, arrs))
    idx = sc["index0"] + np.arange(n)
    want, sat = qref.requant(arrs["src"], sc["shift"], ["nearest", "stochastic"][mode],
                             sc["seed"], idx)
    np.testing.assert_array_equal(out["dst"], want)
    assert ret == sat


@given(seed=SEED, full=FULL, mode=MODE, n=st.integers(1, 150))
def test_requant_block(pair, seed, full, mode, n):
    same(pair, cases.requant_block(rng_of(seed), n, full, mode))


@given(seed=SEED, n=st.integers(1, 50))
def test_random_bits(pair, seed, n):
    same(pair, cases.rand(rng_of(seed), n, True, 0))
    same(pair, cases.seed_mix(rng_of(seed), n, True, 0))


# --- copies ------------------------------------------------------------------------------------

@given(seed=SEED, shape=st.lists(st.integers(1, 6), min_size=1, max_size=4))
def test_copy(pair, seed, shape):
    kernel, sc, arrs = cases.copy(rng_of(seed), shape, True, 0)
    _, out = same(pair, (kernel, sc, arrs))
    # Reference: element by element through the strides.
    idx = np.indices(shape).reshape(len(shape), -1).T
    si = sc["src_off"] + idx @ arrs["src_strides"].astype(np.int64)
    di = sc["dst_off"] + idx @ arrs["dst_strides"].astype(np.int64)
    want = arrs["dst"].copy()
    want[di] = arrs["src"][si]
    np.testing.assert_array_equal(out["dst"], want)


@given(seed=SEED, n=st.integers(0, 90))
def test_fill_and_gather(pair, seed, n):
    same(pair, cases.fill(rng_of(seed), n, True, 0))
    if n:
        same(pair, cases.gather(rng_of(seed), n, True, 0))


# --- element-wise, LUT, reductions, softmax ----------------------------------------------------

@given(seed=SEED, full=FULL, mode=MODE, op=st.sampled_from(cases.EW_OPS), n=st.integers(1, 150),
       strides=st.tuples(*[st.sampled_from([0, 1, 1, 3])] * 3))
def test_eltwise_run(pair, seed, full, mode, op, n, strides):
    same(pair, cases.eltwise_run(rng_of(seed), op, n, full, mode, strides))


@given(seed=SEED, full=FULL, mode=MODE, op=st.sampled_from(cases.EW_OPS),
       shape=st.lists(st.integers(1, 9), min_size=1, max_size=3),
       bcast=st.tuples(st.booleans(), st.booleans(), st.booleans()))
def test_eltwise_box(pair, seed, full, mode, op, shape, bcast):
    same(pair, cases.eltwise(rng_of(seed), op, shape, full, mode, bcast))


@given(seed=SEED, full=FULL, mode=MODE, fn=st.sampled_from(cases.LUT_FNS), n=st.integers(1, 120))
def test_lut(pair, seed, full, mode, fn, n):
    same(pair, cases.lut(rng_of(seed), fn, n, full, mode))


@given(seed=SEED, full=FULL, mode=MODE, op=st.sampled_from(cases.RED_OPS),
       dims=st.tuples(st.integers(1, 4), st.integers(1, 12), st.integers(1, 6)))
def test_reduce(pair, seed, full, mode, op, dims):
    same(pair, cases.reduce(rng_of(seed), op, *dims, full, mode))


@given(seed=SEED, full=FULL, dims=st.tuples(st.integers(1, 4), st.integers(1, 300),
                                            st.integers(1, 70)))
def test_reduce_partial_sums(pair, seed, full, dims):
    """The partial pass of a split sum: exact int64 sums, on both builds."""
    kernel, sc, arrs = cases.reduce_part(rng_of(seed), *dims, full)
    _, out = same(pair, (kernel, sc, arrs))
    rows, n, m = dims
    part = out["part"].reshape(rows, sc["ld_p"])
    exact = arrs["x"].astype(np.int64).reshape(rows, n, m).sum(axis=1)
    np.testing.assert_array_equal(part[:, :m], exact)
    np.testing.assert_array_equal(part[:, m:], arrs["part"].reshape(rows, -1)[:, m:])


@given(seed=SEED, full=FULL, mode=MODE, rows=st.integers(1, 5), n=st.integers(1, 40),
       log=st.booleans())
def test_softmax(pair, seed, full, mode, rows, n, log):
    same(pair, cases.softmax(rng_of(seed), rows, n, full, mode, log))


# --- convolution and pooling -------------------------------------------------------------------

@st.composite
def conv_geometries(draw):
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    sy, sx = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    pt, pl, pb, pr = (draw(st.integers(0, 2)) for _ in range(4))
    h = draw(st.integers(max(1, kh - pt - pb), 9))
    w = draw(st.integers(max(1, kw - pl - pr), 9))
    return cases.conv_geometry(draw(st.integers(1, 2)), h, w, draw(st.integers(1, 5)),
                               draw(st.integers(1, 9)), kh, kw, sy, sx, pt, pl, pb, pr)


@given(seed=SEED, full=FULL, mode=MODE, g=conv_geometries(), data=st.data())
def test_conv2d(pair, seed, full, mode, g, data):
    npix = g["g_n"] * g["g_oh"] * g["g_ow"]
    p0 = data.draw(st.integers(0, npix - 1))
    p1 = data.draw(st.integers(p0 + 1, npix))
    c0 = data.draw(st.integers(0, g["g_cout"] - 1))
    c1 = data.draw(st.integers(c0 + 1, g["g_cout"]))
    k = g["g_kh"] * g["g_kw"] * g["g_cin"]
    ldw = data.draw(st.sampled_from([k, -(-k // 16) * 16, k + 3]))
    rows = data.draw(st.sampled_from([1, 3, 4, 32]))
    same(pair, cases.conv2d(rng_of(seed), g, full, mode, p0, p1, c0, c1, ldw, rows))


@st.composite
def cin1_tiles(draw):
    """A cin = 1, 5-wide, stride-1 unpadded geometry (even rows) and a tile whose row parts
    start even and are even and at least 4 long, as conv2d_q15.c's direct path takes them
    (LeNet-5's C1 tiles): a first part from an even column, then whole rows and a last part."""
    kh = draw(st.integers(1, 5))
    w = draw(st.sampled_from([8, 10, 12, 14, 16, 20, 32]))
    g = cases.conv_geometry(draw(st.integers(1, 2)), draw(st.integers(kh, 10)), w, 1,
                            draw(st.integers(1, 9)), kh, 5, 1, 1, 0, 0)
    ow, rows = g["g_ow"], g["g_n"] * g["g_oh"]
    r0 = draw(st.integers(0, rows - 1))
    ox0 = 2 * draw(st.integers(0, (ow - 4) // 2))
    p0 = r0 * ow + ox0
    if draw(st.booleans()):  # within the row
        return g, p0, p0 + 2 * draw(st.integers(2, (ow - ox0) // 2))
    p1 = (r0 + 1) * ow + ow * draw(st.integers(0, rows - r0 - 1))
    if p1 < rows * ow and draw(st.booleans()):
        p1 += 2 * draw(st.integers(2, ow // 2))
    return g, p0, min(p1, rows * ow)


@pytest.mark.parametrize("sign", [1, -1, 0])
@given(seed=SEED, full=st.sampled_from([False, False, True]),
       mode=st.sampled_from([0, 0, 0, 1]), tile=cin1_tiles(), data=st.data())
def test_conv2d_cin1_direct(pair, sign, seed, full, mode, tile, data):
    g, p0, p1 = tile
    c0 = data.draw(st.integers(0, g["g_cout"] - 1))
    c1 = data.draw(st.integers(c0 + 1, g["g_cout"]))
    k = g["g_kh"] * 5
    ldw = data.draw(st.sampled_from([k + (k & 1), -(-k // 16) * 16, k, k + 3]))
    rows = data.draw(st.sampled_from([36, 16, 4]))
    # operands up to 4096 with small shifts: outputs that saturate while the int32 sums fit;
    # sign: same-signed operands make every saturated output saturate the same way (upwards,
    # or downwards with the weights negated), so each bound of the range check is needed alone
    kernel, sc, arrs = cases.conv2d(rng_of(seed), g, full, mode, p0, p1, c0, c1, ldw, rows,
                                    shift=data.draw(st.integers(1, 20)),
                                    small=data.draw(st.sampled_from([4096, 64])))
    if sign:
        arrs["x"] = np.minimum(np.abs(arrs["x"].astype(np.int32)), 32767).astype(np.int16)
        arrs["wt"] = (sign * np.minimum(np.abs(arrs["wt"].astype(np.int32)), 32767)
                      ).astype(np.int16)
    same(pair, (kernel, sc, arrs))


@given(seed=SEED, full=FULL, dims=st.tuples(*[st.integers(1, 5)] * 2, *[st.integers(1, 7)] * 2),
       flip=st.integers(0, 1), table=st.booleans())
def test_conv2d_pack(pair, seed, full, dims, flip, table):
    same(pair, cases.conv2d_pack(rng_of(seed), *dims, full, 0, flip, table))


@given(seed=SEED, full=FULL, g=conv_geometries(), data=st.data())
def test_conv2d_weight_gradient(pair, seed, full, g, data):
    npix = g["g_n"] * g["g_oh"] * g["g_ow"]
    p0 = data.draw(st.integers(0, npix - 1))
    p1 = data.draw(st.integers(p0 + 1, npix))
    c0 = data.draw(st.integers(0, g["g_cout"] - 1))
    c1 = data.draw(st.integers(c0 + 1, g["g_cout"]))
    cols = data.draw(st.sampled_from([4, 16, 64, 256]))
    same(pair, cases.conv2d_gw(rng_of(seed), g, full, 0, p0, p1, c0, c1, cols))


@given(seed=SEED, full=FULL, mode=MODE, nparts=st.integers(1, 4),
       dims=st.tuples(*[st.integers(1, 3)] * 2, *[st.integers(1, 6)] * 2), table=st.booleans())
def test_conv2d_weight_gradient_reduce(pair, seed, full, mode, nparts, dims, table):
    same(pair, cases.conv2d_gw_reduce(rng_of(seed), nparts, *dims, full, mode, table))


@st.composite
def pool_geometries(draw):
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h, w = draw(st.integers(kh, 9)), draw(st.integers(kw, 9))
    return cases.pool_geometry(draw(st.integers(1, 2)), h, w, draw(st.integers(1, 5)), kh, kw,
                               draw(st.integers(1, 3)), draw(st.integers(1, 3)))


@given(seed=SEED, full=FULL, mode=MODE, g=pool_geometries())
def test_pool_forward(pair, seed, full, mode, g):
    same(pair, cases.avg_pool(rng_of(seed), g, full, mode))
    same(pair, cases.max_pool(rng_of(seed), g, full, mode))


@given(seed=SEED, full=FULL, mode=MODE, g=pool_geometries())
def test_pool_gradient(pair, seed, full, mode, g):
    same(pair, cases.avg_pool_grad(rng_of(seed), g, full, mode))
    same(pair, cases.avg_pool_grad(rng_of(seed), g, full, mode, max_=True))


# --- optimisers, warp -------------------------------------------------------------------------

@given(seed=SEED, full=FULL, mode=MODE, n=st.integers(1, 100), momentum=st.booleans())
def test_sgd(pair, seed, full, mode, n, momentum):
    same(pair, cases.sgd(rng_of(seed), n, full, mode, momentum))


@given(seed=SEED, full=FULL, mode=MODE, n=st.integers(1, 100))
def test_adam(pair, seed, full, mode, n):
    same(pair, cases.adam(rng_of(seed), n, full, mode))


@given(seed=SEED, n=st.integers(1, 40))
def test_optimiser_tables(pair, seed, n):
    same(pair, cases.sqrt_u62(rng_of(seed), n, True, 0))
    same(pair, cases.ratio_q16(rng_of(seed), n, True, 0))


@given(seed=SEED, full=FULL, dims=st.tuples(st.integers(1, 2), st.integers(1, 9),
                                            st.integers(1, 9), st.integers(1, 3)))
def test_warp(pair, seed, full, dims):
    same(pair, cases.warp(rng_of(seed), *dims, full, 0))


def test_every_kernel_has_a_case_builder():
    """Each kernel id in harness.h has a builder in spinla/armcases.py (the tests above use
    every builder)."""
    import inspect
    src = inspect.getsource(cases)
    for name in hx.layout().kernels:
        assert f'"{name}"' in src, f"harness kernel {name} has no case builder"


def test_bad_request_is_reported(pair):
    host, arm = pair
    k, sc, arrs = cases.gemm(rng_of(0), 2, 2, 2, False, 0)
    with pytest.raises(hx.HarnessError, match="missing"):
        hx.encode("GEMM", {s: v for s, v in sc.items() if s != "k"}, arrs)
    bad = dict(arrs, a=arrs["a"].astype(np.int32))
    with pytest.raises(hx.HarnessError, match="int32"):
        arm.call("GEMM", sc, bad)
