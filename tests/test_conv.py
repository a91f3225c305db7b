"""conv2d and its gradients: bit-exact against the NumPy integer reference (qref_conv), within
the fixed-point bound of float64, LeNet-5's C1/C3 (with the connection table), tiling and DTCM,
saturation, stochastic rounding and argument errors."""
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import qref_conv as R
import spinla
from spinla.kernels import lib
from spinla.tiling import TilingError

sizes = st.sampled_from([1, 2, 3, 5, 7, 8, 11, 13])
chans = st.sampled_from([1, 2, 3, 5, 7])
ksizes = st.sampled_from([1, 2, 3, 5])
paddings = st.sampled_from(["valid", "same", 1, (0, 2)])
strides = st.sampled_from([1, 2, (2, 1)])


def _q(rng, shape, frac, scale):
    f = spinla.q(frac)
    return spinla.asarray(np.clip(rng.normal(0, scale, shape), f.min, f.max), fmt=f)


def _geom_ok(h, w, kh, kw, padding):
    ph, pw = {"valid": (0, 0), "same": (0, 0)}.get(padding, None) or (
        (padding, padding) if np.isscalar(padding) else padding)
    return padding == "same" or (h + 2 * ph >= kh and w + 2 * pw >= kw)


def _seed_of(prog, kernel):
    call = [c for c in prog.calls if c.kernel == kernel][-1]
    return int(lib.spl_seed_mix(call.seed, 0))


@given(st.sampled_from([1, 2, 3]), sizes, sizes, chans, chans, ksizes, ksizes, strides,
       paddings, st.integers(8, 15), st.integers(8, 15), st.integers(0, 2**32 - 1))
def test_conv2d_bit_exact(n, h, w, cin, cout, kh, kw, stride, padding, fx, fw, seed):
    assume(_geom_ok(h, w, kh, kw, padding))
    rng = np.random.default_rng(seed)
    x, wt = _q(rng, (n, h, w, cin), fx, 1.0), _q(rng, (kh, kw, cin, cout), fw, 0.5)
    spinla.reset_stats()
    y = spinla.conv2d(x, wt, stride=stride, padding=padding)
    ref, sat = R.conv2d(x.raw, wt.raw, fx, fw, min(fx, fw), stride, padding)
    assert y.fmt == spinla.q(min(fx, fw))
    assert y.shape == ref.shape
    assert np.array_equal(y.raw, ref)
    assert spinla.stats().saturated.get("conv2d", 0) == sat


@given(st.sampled_from([1, 2, 3]), sizes, sizes, chans, chans, ksizes, ksizes, strides,
       paddings, st.integers(0, 2**32 - 1))
def test_conv2d_grad_input_bit_exact(n, h, w, cin, cout, kh, kw, stride, padding, seed):
    assume(_geom_ok(h, w, kh, kw, padding))
    rng = np.random.default_rng(seed)
    oh, ow, _, _ = R.conv_geometry(h, w, kh, kw, stride, padding)
    d, wt = _q(rng, (n, oh, ow, cout), 12, 1.0), _q(rng, (kh, kw, cin, cout), 13, 0.5)
    spinla.reset_stats()
    dx = spinla.conv2d_grad_input(d, wt, (n, h, w, cin), stride=stride, padding=padding)
    ref, sat = R.conv2d_grad_input(d.raw, wt.raw, (n, h, w, cin), 12, 13, 12, stride, padding)
    assert dx.fmt == spinla.q(12) and dx.shape == (n, h, w, cin)
    assert np.array_equal(dx.raw, ref)
    assert spinla.stats().saturated.get("conv2d_grad_input", 0) == sat


@given(st.sampled_from([1, 2, 3]), sizes, sizes, chans, chans, ksizes, ksizes, strides,
       paddings, st.integers(6, 12), st.integers(0, 2**32 - 1))
def test_conv2d_grad_weight_bit_exact(n, h, w, cin, cout, kh, kw, stride, padding, fo, seed):
    assume(_geom_ok(h, w, kh, kw, padding))
    rng = np.random.default_rng(seed)
    oh, ow, _, _ = R.conv_geometry(h, w, kh, kw, stride, padding)
    x, d = _q(rng, (n, h, w, cin), 12, 1.0), _q(rng, (n, oh, ow, cout), 13, 1.0)
    spinla.reset_stats()
    dw = spinla.conv2d_grad_weight(x, d, (kh, kw), stride=stride, padding=padding, fmt=fo)
    ref, sat = R.conv2d_grad_weight(x.raw, d.raw, kh, kw, 12, 13, fo, stride, padding)
    assert dw.shape == (kh, kw, cin, cout) and dw.fmt == spinla.q(fo)
    assert np.array_equal(dw.raw, ref)
    assert spinla.stats().saturated.get("conv2d_grad_weight", 0) == sat


@pytest.mark.parametrize("lo,hi", [(-32768, 32768), (-40, 41), (-32768, -32767)])
def test_exact_for_full_range_tiny_and_extreme_values(lo, hi, rng):
    # Full-range and all -32768 data take the weight gradient's byte-split path (and the GEMM's
    # short chunks), tiny values its direct int32 path: all must be exact.
    xv = rng.integers(lo, hi, (3, 9, 10, 3))
    dv = rng.integers(lo, hi, (3, 7, 8, 5))
    x = spinla.asarray(xv * 2.0 ** -15, fmt=15)
    d = spinla.asarray(dv * 2.0 ** -15, fmt=15)
    dw = spinla.conv2d_grad_weight(x, d, (3, 3), fmt=0)
    assert np.array_equal(dw.raw, R.conv2d_grad_weight(x.raw, d.raw, 3, 3, 15, 15, 0)[0])
    wt = spinla.asarray(rng.integers(lo, hi, (3, 3, 3, 5)) * 2.0 ** -15, fmt=15)
    y = spinla.conv2d(x, wt, fmt=0)
    assert np.array_equal(y.raw, R.conv2d(x.raw, wt.raw, 15, 15, 0)[0])
    dx = spinla.conv2d_grad_input(d, wt, x.shape, fmt=0)
    assert np.array_equal(dx.raw, R.conv2d_grad_input(d.raw, wt.raw, x.shape, 15, 15, 0)[0])


@pytest.mark.parametrize("stride,padding", [(1, "valid"), (1, "same"), (2, "valid"),
                                            (2, "same"), (3, 3), ((1, 2), (4, 0))])
def test_all_three_bit_exact_odd_shapes_and_large_padding(stride, padding, rng):
    # Padding 3 or 4 with a 2x3 kernel crops in the input gradient (negative padding there).
    x, wt = _q(rng, (5, 11, 13, 3), 13, 1.0), _q(rng, (2, 3, 3, 7), 14, 0.5)
    y = spinla.conv2d(x, wt, stride=stride, padding=padding)
    assert np.array_equal(y.raw, R.conv2d(x.raw, wt.raw, 13, 14, 13, stride, padding)[0])
    d = _q(rng, y.shape, 12, 1.0)
    dx = spinla.conv2d_grad_input(d, wt, x.shape, stride=stride, padding=padding)
    assert np.array_equal(dx.raw, R.conv2d_grad_input(d.raw, wt.raw, x.shape, 12, 14, 12,
                                                      stride, padding)[0])
    dw = spinla.conv2d_grad_weight(x, d, wt.shape, stride=stride, padding=padding, fmt=8)
    assert np.array_equal(dw.raw, R.conv2d_grad_weight(x.raw, d.raw, 2, 3, 13, 12, 8, stride,
                                                       padding)[0])


def test_lenet5_table_is_table_one_of_lecun_1998():
    t = spinla.LENET5_C3_TABLE
    assert t.shape == (6, 16) and t.sum() == 60       # 60 * 25 + 16 = 1516 parameters
    assert list(t.sum(0)) == [3] * 6 + [4] * 9 + [6]
    assert list(np.flatnonzero(t[0])) == [0, 4, 5, 6, 9, 10, 11, 12, 14, 15]
    for j in range(6):
        assert set(np.flatnonzero(t[:, j])) == {j % 6, (j + 1) % 6, (j + 2) % 6}
        assert set(np.flatnonzero(t[:, 6 + j])) == {(j + i) % 6 for i in range(4)}
    assert [set(np.flatnonzero(t[:, c])) for c in (12, 13, 14)] == [
        {0, 1, 3, 4}, {1, 2, 4, 5}, {0, 2, 3, 5}]


def test_lenet5_c1_forward_and_gradients(rng):
    x = spinla.asarray(rng.uniform(0, 0.999, (16, 32, 32, 1)), fmt=15)
    wt = _q(rng, (5, 5, 1, 6), 14, 0.2)
    y = spinla.conv2d(x, wt, fmt=12)
    assert y.shape == (16, 28, 28, 6)
    assert np.array_equal(y.raw, R.conv2d(x.raw, wt.raw, 15, 14, 12)[0])
    d = _q(rng, y.shape, 13, 0.5)
    dx = spinla.conv2d_grad_input(d, wt, x.shape, fmt=11)
    assert np.array_equal(dx.raw, R.conv2d_grad_input(d.raw, wt.raw, x.shape, 13, 14, 11)[0])
    dw = spinla.conv2d_grad_weight(x, d, (5, 5), fmt=5)
    assert np.array_equal(dw.raw, R.conv2d_grad_weight(x.raw, d.raw, 5, 5, 15, 13, 5)[0])
    assert spinla.stats().total_saturated == 0


def test_lenet5_c3_with_connection_table(rng):
    t = spinla.LENET5_C3_TABLE
    x = _q(rng, (8, 14, 14, 6), 13, 1.0)
    wt = _q(rng, (5, 5, 6, 16), 14, 0.2)
    prog = spinla.jit(lambda a, b: spinla.conv2d(a, b, table=t, fmt=10)).program(x, wt)
    y = spinla.conv2d(x, wt, table=t, fmt=10)
    assert np.array_equal(y.raw, R.conv2d(x.raw, wt.raw, 13, 14, 10, table=t)[0])
    # Left-out connections contribute nothing: the same as a dense conv of masked weights.
    masked = spinla.asarray(wt.to_numpy() * t[None, None], fmt=14)
    assert np.array_equal(y.raw, spinla.conv2d(x, masked, fmt=10).raw)
    # The MAC annotations count connected MACs only: 60 of 96 channel pairs.
    conv = [c for c in prog.calls if c.kernel == "conv2d_q15"][0]
    assert conv.macs.sum() == 8 * 10 * 10 * 60 * 25
    # The input gradient is a full convolution over the 14 x 14 input (zero-padded delta).
    for fn, pix in ((lambda a, b, e: spinla.conv2d_grad_input(e, b, a.shape, table=t), 14 * 14),
                    (lambda a, b, e: spinla.conv2d_grad_weight(a, e, (5, 5), table=t), 10 * 10)):
        p2 = spinla.jit(fn).program(x, wt, _q(rng, (8, 10, 10, 16), 12, 1.0))
        assert sum(int(c.macs.sum()) for c in p2.calls) == 8 * pix * 60 * 25
    d = _q(rng, y.shape, 12, 1.0)
    dx = spinla.conv2d_grad_input(d, wt, x.shape, table=t)
    assert np.array_equal(dx.raw, R.conv2d_grad_input(d.raw, wt.raw, x.shape, 12, 14, 12,
                                                      table=t)[0])
    dw = spinla.conv2d_grad_weight(x, d, (5, 5), table=t, fmt=6)
    ref = R.conv2d_grad_weight(x.raw, d.raw, 5, 5, 13, 12, 6, table=t)[0]
    assert np.array_equal(dw.raw, ref)
    assert np.all(dw.raw[:, :, t == 0] == 0) and np.count_nonzero(dw.raw[:, :, t == 1]) > 0
    # A bool table or a spinla int16 table work the same.
    y2 = spinla.conv2d(x, wt, table=spinla.asarray(t, fmt="int16"), fmt=10)
    y3 = spinla.conv2d(x, wt, table=t.astype(bool), fmt=10)
    assert np.array_equal(y2.raw, y.raw) and np.array_equal(y3.raw, y.raw)


def _conv_f64(x, w, stride, padding):
    """float64 conv via the integer-free definition (windows of the padded input)."""
    n, h, wd, _ = x.shape
    kh, kw, _, cout = w.shape
    sy, sx = (stride, stride) if np.isscalar(stride) else stride
    oh, ow, pt, pl = R.conv_geometry(h, wd, kh, kw, stride, padding)
    xp = np.zeros((n, (oh - 1) * sy + kh + h, (ow - 1) * sx + kw + wd, x.shape[3]))
    xp[:, pt:pt + h, pl:pl + wd] = x
    y = np.zeros((n, oh, ow, cout))
    for ky in range(kh):
        for kx in range(kw):
            y += xp[:, ky:ky + (oh - 1) * sy + 1:sy, kx:kx + (ow - 1) * sx + 1:sx] @ w[ky, kx]
    return y


@pytest.mark.parametrize("stride,padding", [(1, "valid"), (2, "same"), (1, 1)])
def test_gradients_match_float64_finite_differences(stride, padding, rng):
    x, wt = _q(rng, (2, 7, 6, 3), 13, 1.0), _q(rng, (3, 3, 3, 4), 14, 0.5)
    xf, wf = x.to_numpy(), wt.to_numpy()
    y = spinla.conv2d(x, wt, stride=stride, padding=padding, fmt=11)
    exact = _conv_f64(xf, wf, stride, padding)
    assert np.max(np.abs(y.to_numpy() - exact)) <= 2.0 ** -12      # one rounding
    d = _q(rng, y.shape, 13, 1.0)
    df = d.to_numpy()
    dx = spinla.conv2d_grad_input(d, wt, x.shape, stride=stride, padding=padding, fmt=11)
    dw = spinla.conv2d_grad_weight(x, d, (3, 3), stride=stride, padding=padding, fmt=9)

    def loss(xv, wv):
        return float(np.sum(_conv_f64(xv, wv, stride, padding) * df))

    eps = 1e-3
    for _ in range(12):
        i = tuple(rng.integers(0, s) for s in x.shape)
        e = np.zeros_like(xf)
        e[i] = eps
        fd = (loss(xf + e, wf) - loss(xf - e, wf)) / (2 * eps)
        assert abs(dx.to_numpy()[i] - fd) <= 2.0 ** -12 + 1e-9
        j = tuple(rng.integers(0, s) for s in wt.shape)
        e = np.zeros_like(wf)
        e[j] = eps
        fd = (loss(xf, wf + e) - loss(xf, wf - e)) / (2 * eps)
        assert abs(dw.to_numpy()[j] - fd) <= 2.0 ** -10 + 1e-9


def test_within_quantisation_bound_of_unquantised_float64(rng):
    xf = rng.uniform(-1, 1, (3, 9, 9, 2))
    wf = rng.uniform(-0.5, 0.5, (3, 3, 2, 5))
    y = spinla.conv2d(spinla.asarray(xf, fmt=14), spinla.asarray(wf, fmt=15), fmt=12)
    ex, ew = 2.0 ** -15, 2.0 ** -16
    bound = (2.0 ** -13 + _conv_f64(np.abs(xf), np.full(wf.shape, ew), 1, "valid")
             + _conv_f64(np.full(xf.shape, ex), np.abs(wf), 1, "valid") + 18 * ex * ew)
    assert np.all(np.abs(y.to_numpy() - _conv_f64(xf, wf, 1, "valid")) <= bound)


def test_stochastic_rounding_bit_exact_reproducible_unbiased(rng):
    x, wt = _q(rng, (3, 9, 8, 3), 13, 1.0), _q(rng, (3, 3, 3, 5), 14, 0.5)
    kw = dict(stride=2, padding="same", rounding="stochastic")
    spinla.seed(7)
    y1 = spinla.conv2d(x, wt, fmt=6, **kw)
    spinla.seed(7)
    y2 = spinla.conv2d(x, wt, fmt=6, **kw)
    y3 = spinla.conv2d(x, wt, fmt=6, **kw)
    assert np.array_equal(y1.raw, y2.raw) and not np.array_equal(y1.raw, y3.raw)

    f = spinla.jit(lambda a, b: spinla.conv2d(a, b, fmt=6, **kw))
    prog = f.program(x, wt)
    ref, _ = R.conv2d(x.raw, wt.raw, 13, 14, 6, 2, "same", mode="stochastic",
                      seed=_seed_of(prog, "conv2d_q15"))
    assert np.array_equal(f(x, wt).raw, ref)
    # Unbiased: averaged over runs (fresh bits each run) the error vanishes.
    exact = R.conv2d_acc(x.raw, wt.raw, 2, "same") * 2.0 ** -(13 + 14)
    mean = np.mean([f(x, wt).to_numpy() for _ in range(200)], axis=0)
    assert abs(np.mean(mean - exact)) < 2.0 ** -6 / 50
    assert np.max(np.abs(mean - exact)) < 2.0 ** -6 / 3

    d = _q(rng, y1.shape, 12, 1.0)
    g = spinla.jit(lambda a, b: spinla.conv2d_grad_input(a, b, x.shape, fmt=6, **kw))
    prog = g.program(d, wt)
    ref, _ = R.conv2d_grad_input(d.raw, wt.raw, x.shape, 12, 14, 6, 2, "same",
                                 mode="stochastic", seed=_seed_of(prog, "conv2d_q15"))
    assert np.array_equal(g(d, wt).raw, ref)
    h = spinla.jit(lambda a, b: spinla.conv2d_grad_weight(a, b, (3, 3), fmt=4, **kw))
    prog = h.program(x, d)
    ref, _ = R.conv2d_grad_weight(x.raw, d.raw, 3, 3, 13, 12, 4, 2, "same", mode="stochastic",
                                  seed=_seed_of(prog, "conv2d_gw_reduce_q15"))
    assert np.array_equal(h(x, d).raw, ref)


def test_saturation_counted_and_warned(rng):
    x = spinla.asarray(np.full((2, 6, 6, 4), 3.9), fmt=12)
    wt = spinla.asarray(rng.uniform(0.5, 1.0, (3, 3, 4, 2)), fmt=12)
    with pytest.warns(spinla.SaturationWarning, match="conv2d"):
        y = spinla.conv2d(x, wt)
    _, sat = R.conv2d(x.raw, wt.raw, 12, 12, 12)
    assert sat == y.size and spinla.stats().saturated["conv2d"] == sat
    assert np.all(y.raw == 32767)
    d = spinla.asarray(np.full(y.shape, 7.9), fmt=12)
    spinla.conv2d_grad_weight(x, d, (3, 3))
    assert spinla.stats().saturated["conv2d_grad_weight"] == 3 * 3 * 4 * 2


@pytest.mark.parametrize("machine", ["spinn3", "spinn5"])
def test_lenet_calls_fit_dtcm_and_spread_over_cores(machine, rng):
    spinla.set_machine(machine)
    m = spinla.machine.current()
    x, wt = _q(rng, (64, 14, 14, 6), 13, 1.0), _q(rng, (5, 5, 6, 16), 14, 0.2)
    d = _q(rng, (64, 10, 10, 16), 12, 1.0)
    t = spinla.LENET5_C3_TABLE

    def step(a, b, e):
        return (spinla.conv2d(a, b, table=t), spinla.conv2d_grad_input(e, b, a.shape, table=t),
                spinla.conv2d_grad_weight(a, e, (5, 5), table=t, fmt=4))

    prog = spinla.jit(step).program(x, wt, d)
    for call in prog.calls:
        assert np.all(call.dtcm <= m.tile_budget_bytes), call
    convs = [c for c in prog.calls if c.kernel == "conv2d_q15"]
    assert all(c.ntiles >= min(m.cores, 6400 // 16) for c in convs)
    # Every kernel has a cycle formula; the cost model prices the step from them.
    from spinla.cost import cost_of
    cost = cost_of(prog)
    assert cost.cycles > 0 and cost.macs == sum(int(c.macs.sum()) for c in prog.calls)
    for call in prog.calls:
        cyc = spinla.kernels.KERNELS[call.kernel].cycles(call, m)
        assert np.shape(cyc) in ((), (call.ntiles,)) and np.all(np.asarray(cyc) > 0)
    y, dx, dw = spinla.jit(step)(x, wt, d)
    assert np.array_equal(y.raw, R.conv2d(x.raw, wt.raw, 13, 14, 13, table=t)[0])
    assert np.array_equal(dw.raw, R.conv2d_grad_weight(x.raw, d.raw, 5, 5, 13, 12, 4,
                                                       table=t)[0])


def test_small_dtcm_splits_channels_and_pixels_into_many_tiles(rng):
    spinla.set_machine(spinla.machine.spinn3().with_(dtcm_bytes=12 * 1024))  # 4 KB budget
    m = spinla.machine.current()
    x, wt = _q(rng, (2, 14, 14, 6), 13, 1.0), _q(rng, (5, 5, 6, 16), 14, 0.2)
    d = _q(rng, (2, 10, 10, 16), 12, 1.0)
    f = spinla.jit(lambda a, b, e: (spinla.conv2d(a, b), spinla.conv2d_grad_input(e, b, a.shape),
                                    spinla.conv2d_grad_weight(a, e, (5, 5), fmt=4)))
    prog = f.program(x, wt, d)
    conv = [c for c in prog.calls if c.kernel == "conv2d_q15"][0]
    # Pixel ranges within each image (aligned to images: tiling.aligned_ranges) and channel
    # slices, more tiles than chips.
    assert len(np.unique(conv.tiles[:, 0])) > 2 * x.shape[0]
    assert conv.ntiles > m.chips * 8 and len(np.unique(conv.tiles[:, 2])) > 1
    for call in prog.calls:
        assert np.all(call.dtcm <= m.tile_budget_bytes), call
    y, dx, dw = f(x, wt, d)
    assert np.array_equal(y.raw, R.conv2d(x.raw, wt.raw, 13, 14, 13)[0])
    assert np.array_equal(dx.raw, R.conv2d_grad_input(d.raw, wt.raw, x.shape, 12, 14, 12)[0])
    assert np.array_equal(dw.raw, R.conv2d_grad_weight(x.raw, d.raw, 5, 5, 13, 12, 4)[0])


def test_no_tiling_fits_names_op_shapes_budget():
    spinla.set_machine(spinla.machine.spinn3().with_(dtcm_bytes=12 * 1024))
    x = spinla.zeros((1, 8, 8, 256), fmt=12)
    w = spinla.zeros((5, 5, 256, 4), fmt=12)
    with pytest.raises(TilingError, match=r"conv2d: no tiling of shapes \(1, 8, 8, 256\).*"
                                          r"budget is 4096 bytes"):
        spinla.conv2d(x, w)


def test_formats_and_shapes(rng):
    x, wt = _q(rng, (1, 5, 5, 2), 10, 1.0), _q(rng, (3, 3, 2, 1), 14, 0.3)
    assert spinla.conv2d(x, wt).fmt == spinla.q(10)
    assert spinla.conv2d(x, wt, fmt=12).fmt == spinla.q(12)
    assert spinla.conv2d(x, wt, padding="SAME").shape == (1, 5, 5, 1)
    assert spinla.conv2d(x, wt, stride=2, padding="same").shape == (1, 3, 3, 1)
    assert spinla.conv2d(x, wt, padding=(1, 0)).shape == (1, 5, 3, 1)
    d = _q(rng, (1, 3, 3, 1), 12, 1.0)
    assert spinla.conv2d_grad_input(d, wt, (1, 5, 5, 2)).fmt == spinla.q(12)
    assert spinla.conv2d_grad_weight(x, d, (3, 3, 2, 1)).fmt == spinla.q(10)
    z = spinla.conv2d(spinla.zeros((0, 5, 5, 2), fmt=10), wt)
    assert z.shape == (0, 3, 3, 1)


def test_bad_arguments_raise_before_any_call(rng):
    x, wt = spinla.zeros((2, 8, 8, 3), fmt=12), spinla.zeros((3, 3, 3, 4), fmt=12)
    spinla.reset_stats()
    cases = [
        (lambda: spinla.conv2d(x, spinla.zeros((3, 3, 2, 4), fmt=12)),
         r"conv2d: input has 3 channels but the kernel expects 2"),
        (lambda: spinla.conv2d(spinla.zeros((8, 8, 3), fmt=12), wt), r"conv2d: input x must be 4-d"),
        (lambda: spinla.conv2d(x, spinla.zeros((3, 3, 3), fmt=12)), r"conv2d: kernel w must be 4-d"),
        (lambda: spinla.conv2d(x, wt, padding="full"), r"conv2d: padding must be"),
        (lambda: spinla.conv2d(x, wt, stride=0), r"conv2d: stride must be"),
        (lambda: spinla.conv2d(x, spinla.zeros((9, 9, 3, 4), fmt=12)),
         r"conv2d: kernel size 9 exceeds the padded input size 8"),
        (lambda: spinla.conv2d(x, wt, table=np.ones((4, 3))),
         r"conv2d: table must have shape \(cin, cout\) = \(3, 4\)"),
        (lambda: spinla.conv2d(x, wt, table=np.full((3, 4), 2)), r"conv2d: table must hold 0/1"),
        (lambda: spinla.conv2d(x, wt, rounding="up"), r"conv2d: unknown rounding mode"),
        (lambda: spinla.conv2d_grad_input(spinla.zeros((2, 5, 5, 4), fmt=12), wt, (2, 8, 8, 3)),
         r"conv2d_grad_input: delta must have shape \(2, 6, 6, 4\)"),
        (lambda: spinla.conv2d_grad_input(spinla.zeros((2, 6, 6, 4), fmt=12), wt, (2, 8, 8, 2)),
         r"conv2d_grad_input: input_shape has 2 channels"),
        (lambda: spinla.conv2d_grad_weight(x, spinla.zeros((2, 6, 6, 4), fmt=12), (3, 3, 3, 5)),
         r"conv2d_grad_weight: kernel_shape \(3, 3, 3, 5\) does not match"),
        (lambda: spinla.conv2d_grad_weight(x, spinla.zeros((2, 6, 5, 4), fmt=12), (3, 3)),
         r"conv2d_grad_weight: delta must have shape \(2, 6, 6, 4\)"),
    ]
    for fn, msg in cases:
        with pytest.raises(ValueError, match=msg):
            fn()
    with pytest.raises(TypeError, match="conv2d: unsupported operand type"):
        spinla.conv2d(x, "w")
    assert sum(spinla.stats().calls.values()) == 0


@pytest.mark.parametrize("mode", ["nearest", "stochastic"])
def test_kernel_covering_the_whole_input_is_a_matmul_with_the_same_bits(mode):
    # LeNet-5's C5: 5x5 kernel over 5x5 maps.  Lowered to gemm; same sums, same output
    # indices, so the same bits as the convolution reference.
    rng = np.random.default_rng(5)
    x = spinla.asarray(rng.uniform(-2, 2, (7, 5, 5, 16)), fmt=12)
    w = spinla.asarray(rng.uniform(-0.3, 0.3, (5, 5, 16, 12)), fmt=13)
    f = spinla.jit(lambda a, b: spinla.conv2d(a, b, fmt=10, rounding=mode))
    prog = f.program(x, w)
    assert {c.kernel for c in prog.calls} <= {"gemm_q15", "copy_q15", "view"}
    assert {c.op for c in prog.calls} == {"conv2d"}   # stats and profiles name the conv
    gemm = [c for c in prog.calls if c.kernel == "gemm_q15"][0]
    seed = spinla.kernels.lib.spl_seed_mix(gemm.seed, 0) if mode == "stochastic" else 0
    ref, _ = R.conv2d(x.raw, w.raw, 12, 13, 10, mode=mode, seed=seed)
    assert np.array_equal(f(x, w).raw, ref)
    d = spinla.asarray(rng.uniform(-1, 1, (7, 1, 1, 12)), fmt=13)
    gi = spinla.conv2d_grad_input(d, w, x.shape, fmt=11)
    ref, _ = R.conv2d_grad_input(d.raw, w.raw, x.shape, 13, 13, 11)
    assert np.array_equal(gi.raw, ref)


@pytest.mark.parametrize("mode", ["nearest", "stochastic"])
@pytest.mark.parametrize("k_split", [False, True])
def test_weight_gradient_of_a_whole_input_kernel_is_a_matmul_with_the_same_bits(
        mode, k_split, monkeypatch):
    # LeNet-5's C5: dW = x^T @ delta over the images, lowered as a matmul (a GEMM, or the
    # k-split into exact partials and one combining call); the same exact sums and one
    # rounding per weight, so the same bits and saturations as the convolution reference.
    from spinla.ops import linalg
    monkeypatch.setattr(linalg, "K_SPLIT", k_split)
    rng = np.random.default_rng(7)
    x = spinla.asarray(rng.uniform(-2, 2, (9, 5, 5, 16)), fmt=12)
    d = spinla.asarray(rng.uniform(-1, 1, (9, 1, 1, 12)), fmt=13)
    f = spinla.jit(lambda a, b: spinla.conv2d_grad_weight(a, b, (5, 5), fmt=14, rounding=mode))
    prog = f.program(x, d)
    kern = "conv2d_gw_reduce_q15" if k_split else "gemm_q15"
    assert kern in {c.kernel for c in prog.calls}
    assert "conv2d_gw_q15" not in {c.kernel for c in prog.calls} or k_split
    assert {c.op for c in prog.calls} == {"conv2d_grad_weight"}
    seed = _seed_of(prog, kern) if mode == "stochastic" else 0
    spinla.reset_stats()
    dw = f(x, d)
    ref, sat = R.conv2d_grad_weight(x.raw, d.raw, 5, 5, 12, 13, 14, mode=mode, seed=seed)
    assert dw.shape == (5, 5, 16, 12) and sat > 0
    assert np.array_equal(dw.raw, ref)
    assert spinla.stats().saturated.get("conv2d_grad_weight", 0) == sat


def test_weight_gradient_plan_is_the_one_the_cost_model_prices_lowest(monkeypatch):
    """LeNet-5's C3 weight gradient at batch 64 on a SpiNN-5: every candidate plan of the
    partial pass (conv._gw_plans) lowered and priced by spinla.cost (model-parallel); the
    planner's estimate must pick the cheapest (within 5 %), and that one must beat the
    widest-channel plans, whose many partials cross the links."""
    from spinla.cost import cost_of
    from spinla.fixed import Format
    from spinla.kernels import conv as kconv
    from spinla.program import Buffer, Program
    m = spinla.machine.get("spinn5")
    geom = kconv.geometry(n=64, h=14, w=14, cin=6, oh=10, ow=10, cout=16, kh=5, kw=5, sy=1,
                          sx=1, pt=0, pl=0)
    g, f = kconv._g(geom), Format(12)
    x, d, dw = Buffer((64, 14, 14, 6), f), Buffer((64, 10, 10, 16), f), Buffer((5, 5, 6, 16), f)
    chosen = kconv._gw_plan(geom, m)
    fits = lambda p, c, r: kconv._gw_need(g, p, c, r).max() <= m.tile_budget_bytes  # noqa: E731
    priced = {}
    for plan in kconv._gw_plans(6400, 150, 16, 16, m, fits):
        monkeypatch.setattr(kconv, "_gw_plan", lambda *a, plan=plan: plan)
        calls = kconv.lower_grad_weight(x, d, None, dw, geom, shift=12, rounding="nearest",
                                        machine=m, op="conv2d_grad_weight")
        priced[plan] = cost_of(Program(calls=calls, machine=m, name="gw"), m,
                               strategy="model").time_s
    assert chosen in priced and len(priced) > 4
    assert priced[chosen] <= 1.05 * min(priced.values())
    widest = min(t for p, t in priced.items() if p[1] == 16)
    assert priced[chosen] < 0.8 * widest


@pytest.mark.parametrize("batch", [1, 32, 64])
def test_lenet5_c1_tiles_all_take_the_arms_direct_path(batch):
    """The planner's pixel ranges (pixel_granule) let every tile of LeNet-5's C1 run on the
    ARM968's direct cin = 1 path, which the cost model prices (direct_blocks); a range starting
    odd, or with a 2-pixel row part, would drop a tile back to im2col at ~1.6x the cycles."""
    from spinla import armimage
    from spinla.kernels import conv as kconv
    from spinla.nn import models
    prog = armimage.training_step_program(models.lenet5, batch)
    c1 = [c for c in prog.calls if c.kernel == "conv2d_q15" and c.params["geom"][3] == 1]
    assert c1, "LeNet-5's step has no single-channel convolution"
    for c in c1:
        t = c.tiles
        n6, n4, parts = kconv.direct_blocks(c.params["geom"], t[:, 0], t[:, 1], t[:, 3] - t[:, 2],
                                            c.params["ldw"], c.params["scratch_rows"],
                                            c.params["rounding"], c.params["shift"])
        assert (parts > 0).all(), t[parts == 0][:4]


def test_host_runs_a_pixel_ranges_channel_slices_as_one_tile(rng, monkeypatch):
    """The host merges the board's channel slices of one partial (host_gw_tiles) and gives the
    board tiles' bits: each candidate plan of a small weight gradient run both ways."""
    from spinla import emulator
    from spinla.fixed import Format
    from spinla.kernels import conv as kconv
    from spinla.program import Buffer, Program
    m = spinla.machine.get("spinn5")
    geom = kconv.geometry(n=4, h=9, w=9, cin=3, oh=5, ow=5, cout=8, kh=5, kw=5, sy=1,
                          sx=1, pt=0, pl=0)
    g, f = kconv._g(geom), Format(12)
    xs = rng.integers(-3000, 3000, (4, 9, 9, 3)).astype(np.int16)
    ds = rng.integers(-3000, 3000, (4, 5, 5, 8)).astype(np.int16)
    fits = lambda p, c, r: kconv._gw_need(g, p, c, r).max() <= m.tile_budget_bytes  # noqa: E731
    merged = 0
    for plan in kconv._gw_plans(100, 75, 8, 8, m, fits):
        monkeypatch.setattr(kconv, "_gw_plan", lambda *a, plan=plan: plan)
        x, d, dw = Buffer((4, 9, 9, 3), f), Buffer((4, 5, 5, 8), f), Buffer((5, 5, 3, 8), f)
        calls = kconv.lower_grad_weight(x, d, None, dw, geom, shift=12, rounding="nearest",
                                        machine=m, op="conv2d_grad_weight")
        prog = Program(calls=calls, machine=m, name="gw", inputs=[x, d], outputs=[dw])
        t = calls[0].tiles
        merged += len(kconv.host_gw_tiles(t, 8)) < len(t)
        got = emulator.run_program(prog, [xs, ds])[0]
        monkeypatch.setattr(kconv, "host_gw_tiles", lambda tiles, cout: tiles)
        want = emulator.run_program(Program(calls=calls, machine=m, name="gw2", inputs=[x, d],
                                            outputs=[dw]), [xs, ds])[0]
        monkeypatch.undo()
        np.testing.assert_array_equal(got, want)
    assert merged, "no plan split a pixel range's channels"
    t = np.array([[0, 0, 10, 0, 4, 0], [0, 0, 10, 4, 8, 0], [1, 10, 20, 0, 8, 2]], np.int32)
    assert kconv.host_gw_tiles(t, 8).tolist() == [[0, 0, 10, 0, 8, 0], [1, 10, 20, 0, 8, 2]]
    assert kconv.host_gw_tiles(t[:1], 8).tolist() == t[:1].tolist()   # a slice alone stays
