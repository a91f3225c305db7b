"""avg_pool2d / max_pool2d and their gradients: bit-exact against qref_conv, exactness of the
2x2 average, the reciprocal's error bound, first-max-wins argmax, overlapping windows, tiling,
saturation, stochastic rounding and argument errors."""
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import qref_conv as R
import spinla
from spinla.kernels import lib
from spinla.tiling import TilingError

sizes = st.sampled_from([1, 2, 3, 4, 5, 7, 8, 11, 13])
windows = st.sampled_from([1, 2, 3, 5])


def _q(rng, shape, frac, scale):
    f = spinla.q(frac)
    return spinla.asarray(np.clip(rng.normal(0, scale, shape), f.min, f.max), fmt=f)


@given(st.sampled_from([1, 2, 3]), sizes, sizes, st.sampled_from([1, 2, 3, 6, 7]), windows,
       windows, st.sampled_from([None, 1, 2, 3, (1, 2)]), st.integers(0, 2**32 - 1))
def test_pools_and_gradients_bit_exact(n, h, w, c, kh, kw, strides, seed):
    assume(h >= kh and w >= kw)
    rng = np.random.default_rng(seed)
    sy, sx = (kh, kw) if strides is None else (
        (strides, strides) if np.isscalar(strides) else strides)
    x = _q(rng, (n, h, w, c), 12, 2.0)
    a = spinla.avg_pool2d(x, (kh, kw), strides)
    assert a.fmt == x.fmt
    assert np.array_equal(a.raw, R.avg_pool2d(x.raw, kh, kw, sy, sx, 12, 12)[0])
    m, i = spinla.max_pool2d(x, (kh, kw), strides, return_indices=True)
    mref, iref = R.max_pool2d(x.raw, kh, kw, sy, sx)
    assert np.array_equal(m.raw, mref) and np.array_equal(i.raw, iref)
    assert m.fmt == x.fmt and i.fmt == spinla.INT16
    d = _q(rng, a.shape, 11, 1.0)
    spinla.reset_stats()
    ga = spinla.avg_pool2d_grad(d, x.shape, (kh, kw), strides)
    gref, gsat = R.avg_pool2d_grad(d.raw, x.shape, kh, kw, sy, sx, 11, 11)
    assert ga.fmt == d.fmt and np.array_equal(ga.raw, gref)
    gm = spinla.max_pool2d_grad(d, i, x.shape, (kh, kw), strides)
    mref, msat = R.max_pool2d_grad(d.raw, iref, x.shape, kh, kw, sy, sx)
    assert gm.fmt == d.fmt and np.array_equal(gm.raw, mref)
    assert spinla.stats().saturated.get("max_pool2d_grad", 0) == msat
    assert spinla.stats().saturated.get("avg_pool2d_grad", 0) == gsat


def test_avg_2x2_is_an_exact_shift(rng):
    x = _q(rng, (4, 28, 28, 6), 12, 1.0)
    prog = spinla.jit(lambda v: spinla.avg_pool2d(v)).program(x)
    assert prog.calls[0].params["mult"] == 1 and prog.calls[0].params["shift"] == 2
    a = spinla.avg_pool2d(x)
    s = x.raw.astype(np.int64).reshape(4, 14, 2, 14, 2, 6).sum((2, 4))
    assert np.array_equal(a.raw, np.round(s / 4))              # the sum/4, rounded once (half to even)
    exact = s / 4 / 2 ** 12
    assert np.max(np.abs(a.to_numpy() - exact)) <= 2.0 ** -13  # half an LSB
    on_grid = s % 4 == 0
    assert np.array_equal(a.to_numpy()[on_grid], exact[on_grid])
    # Its gradient: delta / 4 spread over each window, exact where delta is a multiple of 4.
    d = spinla.asarray(4 * rng.integers(-1000, 1000, a.shape) * 2.0 ** -12, fmt=12)
    g = spinla.avg_pool2d_grad(d, x.shape)
    assert np.array_equal(g.to_numpy(), np.repeat(np.repeat(d.to_numpy() / 4, 2, 1), 2, 2))


@pytest.mark.parametrize("k,s", [(3, 3), (3, 2), (5, 1), (3, 1)])
def test_reciprocal_error_bound(k, s, rng):
    # Non-power-of-two windows: within half an LSB plus 2^-16 LSB of the exact mean.
    x = _q(rng, (2, 15, 15, 3), 10, 8.0)
    a = spinla.avg_pool2d(x, k, s)
    win = R.pool_windows(x.raw, k, k, s, s)
    exact = win.sum(-1) / (k * k)
    err = np.abs(a.raw - exact)
    assert np.max(err) <= 0.5 + 2.0 ** -16
    np.testing.assert_allclose(a.to_numpy(), np.mean(win, -1) * 2.0 ** -10,
                               atol=2.0 ** -11 * (1 + 2.0 ** -16))


def test_max_first_maximum_wins_and_routes_gradient(rng):
    x = spinla.asarray(np.array([[1, 3], [3, 2]], float).reshape(1, 2, 2, 1), fmt=12)
    v, i = spinla.max_pool2d(x, return_indices=True)
    assert v.to_numpy().item() == 3.0 and i.raw.item() == 1    # (0, 1) before (1, 0)
    x = spinla.asarray(np.full((1, 4, 4, 2), -1.5), fmt=12)     # all tied
    _, i = spinla.max_pool2d(x, 2, return_indices=True)
    assert np.all(i.raw == 0)
    d = spinla.asarray(np.arange(8).reshape(1, 2, 2, 2) - 3.0, fmt=12)
    g = spinla.max_pool2d_grad(d, i, x.shape)
    expect = np.zeros((1, 4, 4, 2))
    expect[0, ::2, ::2] = d.to_numpy()[0]
    assert np.array_equal(g.to_numpy(), expect)
    assert spinla.max_pool2d(x, 2).shape == (1, 2, 2, 2)     # values only by default


def test_overlapping_windows_accumulate_exactly_and_count_saturation():
    # 3x3 windows, stride 1, constant input: every window's first element is its argmax, so
    # input (iy, ix) collects one delta per window starting there: exact sums.
    x = spinla.asarray(np.zeros((1, 6, 6, 1)), fmt=12)
    v, i = spinla.max_pool2d(x, 3, 1, return_indices=True)
    d = spinla.asarray(np.full(v.shape, 7.5), fmt=12)
    g = spinla.max_pool2d_grad(d, i, x.shape, 3, 1)
    assert np.all(g.to_numpy()[0, :4, :4, 0] == 7.5) and np.all(g.to_numpy()[0, 4:, :, 0] == 0)
    # Distinct maxima at one point: several windows route to it and saturate (counted).
    xv = np.zeros((1, 5, 5, 1))
    xv[0, 2, 2, 0] = 1.0
    x = spinla.asarray(xv, fmt=12)
    v, i = spinla.max_pool2d(x, 3, 1, return_indices=True)
    with pytest.warns(spinla.SaturationWarning, match="max_pool2d_grad"):
        g = spinla.max_pool2d_grad(spinla.asarray(np.full(v.shape, 7.0), fmt=12), i, x.shape, 3, 1)
    assert g.raw[0, 2, 2, 0] == 32767 and spinla.stats().saturated["max_pool2d_grad"] == 1
    # Average pooling with overlap: exact sum over the covering windows, then one rounding.
    d = spinla.asarray(np.full(v.shape, 0.75), fmt=12)
    ga = spinla.avg_pool2d_grad(d, x.shape, 3, 1)
    cover = np.array([1, 2, 3, 2, 1])
    np.testing.assert_allclose(ga.to_numpy()[0, :, :, 0],
                               np.outer(cover, cover) * 0.75 / 9, atol=2.0 ** -13)


def test_gradients_match_float64_finite_differences(rng):
    x = _q(rng, (2, 7, 8, 3), 12, 1.0)
    xf = x.to_numpy()
    d = _q(rng, (2, 3, 3, 3), 12, 1.0)
    df = d.to_numpy()
    ga = spinla.avg_pool2d_grad(d, x.shape, 3, 2, fmt=14)
    _, i = spinla.max_pool2d(x, 3, 2, return_indices=True)
    gm = spinla.max_pool2d_grad(d, i, x.shape, 3, 2)

    def loss_avg(v):
        return float(np.sum(R.pool_windows(v, 3, 3, 2, 2).mean(-1) * df))

    def loss_max(v):
        return float(np.sum(R.pool_windows(v, 3, 3, 2, 2).max(-1) * df))

    eps = 1e-4   # below half the gap between distinct values, so the argmax does not move
    for _ in range(20):
        j = tuple(rng.integers(0, s) for s in x.shape)
        e = np.zeros_like(xf)
        e[j] = eps
        fd = (loss_avg(xf + e) - loss_avg(xf - e)) / (2 * eps)
        assert abs(ga.to_numpy()[j] - fd) <= 2.0 ** -15 + 1e-9
        fd = (loss_max(xf + e) - loss_max(xf - e)) / (2 * eps)
        assert abs(gm.to_numpy()[j] - fd) <= 1e-9


def test_stochastic_avg_pool_bit_exact_and_reproducible(rng):
    x = _q(rng, (3, 9, 9, 4), 12, 1.0)
    f = spinla.jit(lambda v: spinla.avg_pool2d(v, 3, 2, fmt=8, rounding="stochastic"))
    prog = f.program(x)
    seed = int(lib.spl_seed_mix(prog.calls[0].seed, 0))
    ref, _ = R.avg_pool2d(x.raw, 3, 3, 2, 2, 12, 8, "stochastic", seed)
    assert np.array_equal(f(x).raw, ref)
    spinla.seed(5)
    a1 = spinla.avg_pool2d(x, 3, 2, fmt=8, rounding="stochastic")
    spinla.seed(5)
    a2 = spinla.avg_pool2d(x, 3, 2, fmt=8, rounding="stochastic")
    assert np.array_equal(a1.raw, a2.raw)
    d = _q(rng, a1.shape, 12, 1.0)
    g = spinla.jit(lambda v: spinla.avg_pool2d_grad(v, x.shape, 3, 2, fmt=8,
                                                    rounding="stochastic"))
    seed = int(lib.spl_seed_mix(g.program(d).calls[0].seed, 0))
    ref, _ = R.avg_pool2d_grad(d.raw, x.shape, 3, 3, 2, 2, 12, 8, "stochastic", seed)
    assert np.array_equal(g(d).raw, ref)


def test_avg_pool_saturation_counted_when_fmt_narrows():
    x = spinla.asarray(np.full((1, 4, 4, 1), 7.0), fmt=12)
    with pytest.warns(spinla.SaturationWarning, match="avg_pool2d"):
        a = spinla.avg_pool2d(x, fmt=13)
    assert np.all(a.raw == 32767) and spinla.stats().saturated["avg_pool2d"] == 4


@pytest.mark.parametrize("machine", ["spinn3", "spinn5"])
def test_lenet_pools_fit_dtcm_many_tiles(machine, rng):
    spinla.set_machine(machine)
    m = spinla.machine.current()
    x = _q(rng, (64, 28, 28, 6), 12, 1.0)

    def step(v, e):
        a = spinla.avg_pool2d(v)
        mx, i = spinla.max_pool2d(v, return_indices=True)
        return a, mx, spinla.avg_pool2d_grad(e, v.shape), spinla.max_pool2d_grad(e, i, v.shape)

    d = _q(rng, (64, 14, 14, 6), 11, 1.0)
    prog = spinla.jit(step).program(x, d)
    for call in prog.calls:
        assert np.all(call.dtcm <= m.tile_budget_bytes), call
        rows = 64 * (14 if call.kernel.endswith("pool2d_q15") else 28)  # output / input rows
        assert call.ntiles >= min(m.cores, rows) // 2
    a, mx, ga, gm = spinla.jit(step)(x, d)
    assert np.array_equal(a.raw, R.avg_pool2d(x.raw, 2, 2, 2, 2, 12, 12)[0])
    mref, iref = R.max_pool2d(x.raw, 2, 2, 2, 2)
    assert np.array_equal(mx.raw, mref)
    assert np.array_equal(ga.raw, R.avg_pool2d_grad(d.raw, x.shape, 2, 2, 2, 2, 11, 11)[0])
    assert np.array_equal(gm.raw, R.max_pool2d_grad(d.raw, iref, x.shape, 2, 2, 2, 2)[0])


def test_small_dtcm_many_tiles_and_no_fit(rng):
    spinla.set_machine(spinla.machine.spinn3().with_(dtcm_bytes=8 * 1024 + 512))  # 512 B budget
    m = spinla.machine.current()
    x = _q(rng, (32, 12, 12, 3), 12, 1.0)
    prog = spinla.jit(lambda v: spinla.avg_pool2d(v, 3, 1)).program(x)
    assert prog.calls[0].ntiles > m.cores
    assert np.all(prog.calls[0].dtcm <= m.tile_budget_bytes)
    assert np.array_equal(spinla.avg_pool2d(x, 3, 1).raw,
                          R.avg_pool2d(x.raw, 3, 3, 1, 1, 12, 12)[0])
    with pytest.raises(TilingError, match=r"max_pool2d: no tiling of shapes \(1, 4, 400, 8\)"):
        spinla.max_pool2d(spinla.zeros((1, 4, 400, 8), fmt=12))


def test_bad_arguments_raise_before_any_call():
    x = spinla.zeros((2, 8, 8, 3), fmt=12)
    spinla.reset_stats()
    cases = [
        (lambda: spinla.avg_pool2d(spinla.zeros((8, 8, 3), fmt=12)), "avg_pool2d: input x must be 4-d"),
        (lambda: spinla.avg_pool2d(x, 9), r"avg_pool2d: pool window \(9, 9\) is larger"),
        (lambda: spinla.max_pool2d(x, 0), "max_pool2d: pool_size must be"),
        (lambda: spinla.max_pool2d(x, 2, (1, 0)), "max_pool2d: strides must be"),
        (lambda: spinla.avg_pool2d(x, rounding="down"), "avg_pool2d: unknown rounding mode"),
        (lambda: spinla.avg_pool2d_grad(spinla.zeros((2, 4, 3, 3), fmt=12), x.shape),
         r"avg_pool2d_grad: delta must have shape \(2, 4, 4, 3\)"),
        (lambda: spinla.max_pool2d_grad(spinla.zeros((2, 4, 4, 3), fmt=12),
                                        spinla.zeros((2, 4, 4, 2), fmt="int16"), x.shape),
         "max_pool2d_grad: indices must have delta's shape"),
        (lambda: spinla.max_pool2d_grad(spinla.zeros((2, 4, 4, 3), fmt=12),
                                        spinla.zeros((2, 4, 4, 3), fmt="int16"), (2, 8, 8)),
         "max_pool2d_grad: input_shape must be a tuple of 4"),
    ]
    for fn, msg in cases:
        with pytest.raises(ValueError, match=msg):
            fn()
    with pytest.raises(TypeError, match="max_pool2d_grad: indices must be int16"):
        spinla.max_pool2d_grad(spinla.zeros((2, 4, 4, 3), fmt=12),
                               spinla.zeros((2, 4, 4, 3), fmt=12), x.shape)
    assert sum(spinla.stats().calls.values()) == 0
