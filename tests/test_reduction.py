"""Reductions: sum, mean, max, min, argmax, argmin over int / tuple / None axes with keepdims,
bit-exact against the NumPy integer reference, float64 bounds, default formats, errors,
stochastic rounding, tiling and the DTCM budget."""
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

from arrays import first_seed, raw_array
import qref_eltwise as R
import spinla as sp
from spinla.fixed import INT16, q
from spinla.kernels import KERNELS

OPS = ["sum", "mean", "max", "min"]


@st.composite
def shape_and_axis(draw):
    shape = draw(array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=7))
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        return shape, None
    if kind == "int":
        return shape, draw(st.integers(-len(shape), len(shape) - 1))
    axes = draw(st.lists(st.integers(0, len(shape) - 1), min_size=0, max_size=len(shape),
                         unique=True))
    return shape, tuple(axes)


@given(sa=shape_and_axis(), op=st.sampled_from(OPS), fi=st.integers(0, 15),
       keepdims=st.booleans(), seed=st.integers(0, 10_000))
def test_reduce_bit_exact(sa, op, fi, keepdims, seed):
    shape, axis = sa
    raw = np.random.default_rng(seed).integers(-32768, 32768, shape)
    x = raw_array(raw, fi)
    sp.reset_stats()  # per example: the autouse fixture resets per test
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sp.SaturationWarning)
        y = getattr(sp, op)(x, axis=axis, keepdims=keepdims)
    expect_shape = np.sum(raw, axis=axis, keepdims=keepdims).shape
    assert y.shape == expect_shape
    ref, sat = R.reduce(op, raw, axis, fi, y.fmt.frac)
    np.testing.assert_array_equal(y.raw.reshape(-1), ref.reshape(-1))
    assert sp.stats().saturated[op] == sat
    n = raw.size // max(1, y.size)
    if fi >= int(np.ceil(np.log2(max(n, 1)))):
        assert sat == 0  # the default formats leave enough headroom


@given(sa=shape_and_axis(), op=st.sampled_from(["argmax", "argmin"]),
       seed=st.integers(0, 10_000))
def test_arg_first_occurrence(sa, op, seed):
    shape, axis = sa
    if isinstance(axis, tuple):
        axis = None
    raw = np.random.default_rng(seed).integers(-3, 3, shape)  # many ties
    y = getattr(sp, op)(raw_array(raw, 12), axis=axis)
    assert y.fmt == INT16
    np.testing.assert_array_equal(y.to_numpy(), getattr(np, op)(raw, axis=axis))
    k = getattr(sp, op)(raw_array(raw, 12), axis=axis, keepdims=True)
    assert k.shape == getattr(np, op)(raw, axis=axis, keepdims=True).shape


def test_default_formats():
    x = sp.asarray(np.ones((4, 100)), fmt=q(12))
    assert sp.sum(x).fmt == q(3)                   # 400 values: 9 bits of headroom
    assert sp.sum(x, axis=0).fmt == q(10)           # 4 values: 2 bits
    assert sp.sum(x, axis=1).fmt == q(5)            # 100 values: 7 bits
    assert sp.sum(sp.asarray(np.ones(70000), fmt=q(12))).fmt == q(0)
    assert sp.mean(x).fmt == q(12) and sp.max(x).fmt == q(12) and sp.min(x).fmt == q(12)
    assert sp.argmax(x).fmt == INT16
    b = sp.asarray(np.array([True, False, True]))
    assert sp.sum(b).fmt == INT16 and int(sp.sum(b)) == 2
    assert sp.mean(b).fmt == q(14) and abs(float(sp.mean(b)) - 2 / 3) <= 2 ** -15
    assert sp.sum(x, fmt=q(1)).fmt == q(1)


def test_sum_of_extremes_does_not_saturate():
    x = raw_array(np.full((3, 1000), 32767), 15)
    with warnings.catch_warnings():
        warnings.simplefilter("error", sp.SaturationWarning)
        s = sp.sum(x, axis=1)
    np.testing.assert_allclose(s.to_numpy(), 1000 * 32767 / 32768, atol=2 ** -(s.fmt.frac + 1))
    m = sp.mean(raw_array(np.full(1000, -32768), 15))
    assert m.raw[()] == -32768


def test_sum_saturates_counted_with_narrow_fmt():
    x = sp.asarray(np.full(10, 0.5), fmt=q(15))
    with pytest.warns(sp.SaturationWarning, match="sum"):
        s = sp.sum(x, fmt=q(15))
    assert s.raw[()] == 32767 and sp.stats().saturated["sum"] == 1


@given(n=st.sampled_from([1, 3, 7, 100, 1001, 40000]), fi=st.integers(0, 15),
       seed=st.integers(0, 1000))
def test_mean_float_bound(n, fi, seed):
    raw = np.random.default_rng(seed).integers(-32768, 32768, (2, n))
    x = raw_array(raw, fi)
    m = sp.mean(x, axis=1)
    exact = x.to_numpy().mean(axis=1)
    assert np.abs(m.to_numpy() - exact).max() <= (0.5 + n * 2.0 ** -32) * 2.0 ** -fi
    if fi >= int(np.ceil(np.log2(n))):  # else the default frac 0 cannot hold every sum
        s = sp.sum(x, axis=1)
        assert np.abs(s.to_numpy() - x.to_numpy().sum(axis=1)).max() <= 2.0 ** -(s.fmt.frac + 1)


def test_stochastic_mean_bit_exact_reproducible_unbiased():
    rng = np.random.default_rng(3)
    raw = rng.integers(-32768, 32768, (500, 7))
    x = raw_array(raw, 13)

    def f(t):
        return sp.mean(t, axis=1, fmt=q(6), rounding="stochastic")
    sp.seed(5)
    y1, (seed,) = first_seed(f, x)
    sp.seed(5)
    y2, _ = first_seed(f, x)
    np.testing.assert_array_equal(y1.raw, y2.raw)
    np.testing.assert_array_equal(y1.raw, R.reduce("mean", raw, 1, 13, 6, "stochastic", seed)[0])
    err = y1.to_numpy() - x.to_numpy().mean(axis=1)
    assert abs(err.mean()) < 4 * 2 ** -6 / np.sqrt(err.size)
    assert np.abs(err).max() < 2 ** -6 * (1 + 7 * 2.0 ** -32)


def test_methods_and_axes():
    xf = np.arange(24, dtype=float).reshape(2, 3, 4) / 8
    x = sp.asarray(xf, fmt=q(10))
    np.testing.assert_array_equal(x.sum(axis=(0, 2)).to_numpy(), xf.sum(axis=(0, 2)))
    np.testing.assert_array_equal(x.max(axis=-1).to_numpy(), xf.max(axis=-1))
    np.testing.assert_array_equal(x.min(axis=0, keepdims=True).to_numpy(),
                                  xf.min(axis=0, keepdims=True))
    np.testing.assert_array_equal(x.mean(axis=(1,)).to_numpy(), xf.mean(axis=1))
    assert int(x.argmax()) == 23 and int(x.argmin()) == 0
    assert sp.sum(x, axis=()).shape == x.shape
    np.testing.assert_array_equal(sp.sum(x, axis=()).to_numpy(), xf)
    assert sp.max(sp.asarray(3.0)).shape == ()
    # a non-contiguous axis set is permuted to the end (one copy) and reduced in one call
    prog = sp.jit(lambda t: sp.sum(t, axis=(0, 2))).program(x)
    assert [c.kernel for c in prog.calls] == ["copy_q15", "reduce_q15"]
    prog = sp.jit(lambda t: sp.sum(t, axis=(1, 2))).program(x)
    assert [c.kernel for c in prog.calls] == ["reduce_q15"]


def test_errors():
    x = sp.asarray(np.ones((2, 3)))
    with pytest.raises(np.exceptions.AxisError, match="sum"):
        sp.sum(x, axis=2)
    with pytest.raises(ValueError, match="duplicate"):
        sp.mean(x, axis=(0, 0))
    with pytest.raises(TypeError, match="argmax"):
        sp.argmax(x, axis=(0, 1))
    e = sp.zeros((0, 3))
    with pytest.raises(ValueError, match="max: zero-size array to reduction operation maximum"):
        sp.max(e)
    with pytest.raises(ValueError, match="argmin"):
        sp.argmin(e, axis=0)
    with pytest.raises(ValueError, match="mean"):
        sp.mean(e, axis=0)
    np.testing.assert_array_equal(sp.sum(e, axis=0).to_numpy(), [0, 0, 0])
    assert sp.max(e, axis=1).shape == (0,)
    with pytest.raises(ValueError, match="rounding"):
        sp.sum(x, rounding="down")


def test_argmax_index_saturates_past_int16():
    raw = np.zeros(40000, np.int64)
    raw[39999] = 5
    with pytest.warns(sp.SaturationWarning, match="argmax"):
        i = sp.argmax(raw_array(raw, 0))
    assert int(i) == 32767 and sp.stats().saturated["argmax"] == 1


def test_many_tiles_large_n_and_dtcm_budget():
    sp.set_machine("spinn3")
    m = sp.machine.current()
    rng = np.random.default_rng(9)
    raw = rng.integers(-32768, 32768, (5, 30000, 3))
    x = raw_array(raw, 14)
    y = raw_array(rng.integers(-32768, 32768, (2000, 300)), 14)
    prog = sp.jit(lambda a, b: (sp.sum(a, axis=1), sp.mean(a, axis=1), sp.max(b, axis=1),
                                sp.argmin(b, axis=0), sp.mean(b, axis=0))).program(x, y)
    for c in prog.calls:
        assert np.all(c.dtcm <= m.tile_budget_bytes), c
    s = sp.sum(x, axis=1)
    np.testing.assert_array_equal(s.raw, R.reduce("sum", raw, 1, 14, s.fmt.frac)[0])
    mn = sp.mean(x, axis=1)
    np.testing.assert_array_equal(mn.raw, R.reduce("mean", raw, 1, 14, 14)[0])
    yy = sp.mean(y, axis=0)
    np.testing.assert_array_equal(yy.raw, R.reduce("mean", y.raw, 0, 14, 14)[0])
    np.testing.assert_array_equal(sp.argmin(y, axis=0).to_numpy(), y.raw.argmin(axis=0))


def test_more_tiles_than_cores_on_a_small_budget():
    # Reductions stream their input, so only the outputs bound a tile: shrink DTCM to 1 KB
    # to force more tiles than spinn3's 64 cores.
    m = sp.set_machine(sp.machine.spinn3().with_(dtcm_reserve_bytes=63 * 1024))
    raw = np.random.default_rng(2).integers(-32768, 32768, (300, 20, 50))
    x = raw_array(raw, 12)
    for axis in (1, 2, (0, 2)):
        call = sp.jit(lambda t: sp.mean(t, axis=axis)).program(x).calls[-1]
        assert np.all(call.dtcm <= m.tile_budget_bytes)
        assert call.ntiles > m.cores or axis != 1
        np.testing.assert_array_equal(sp.mean(x, axis=axis).raw,
                                      R.reduce("mean", raw, axis, 12, 12)[0])


def test_cycle_formulas():
    x = sp.asarray(np.ones((100, 50)), fmt=q(10))
    prog = sp.jit(lambda t: (sp.sum(t, axis=1), sp.argmax(t, axis=1), sp.mean(t))).program(x)
    m = sp.machine.current()
    s, a, mean = [KERNELS[c.kernel].cycles(c, m).sum() for c in prog.calls]
    assert 0 < s < a and mean > 0
