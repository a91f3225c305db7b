"""Element-wise ops: bit-exact against the NumPy integer reference (tests/qref_eltwise.py)
with broadcasting and mixed formats, float64 bounds, comparisons with scalars, saturation
counting, errors, stochastic rounding, tiling and the DTCM budget."""
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

from arrays import first_seed, raw_array
import qref_eltwise as R
import spinla as sp
from spinla.fixed import BOOL, INT16, q
from spinla.kernels import KERNELS
from spinla.kernels.eltwise import collapse, operand_strides

ARITH = ["add", "subtract", "multiply", "divide", "maximum", "minimum"]
COMPARE = ["less", "less_equal", "greater", "greater_equal", "equal", "not_equal"]
NP = {"add": np.add, "subtract": np.subtract, "multiply": np.multiply, "divide": np.divide,
      "maximum": np.maximum, "minimum": np.minimum, "less": np.less,
      "less_equal": np.less_equal, "greater": np.greater, "greater_equal": np.greater_equal,
      "equal": np.equal, "not_equal": np.not_equal}


def rand_raw(rng, shape, bits=None):
    bits = rng.integers(1, 17) if bits is None else bits
    return rng.integers(-(1 << (bits - 1)), 1 << (bits - 1), shape)


@given(shapes=mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=6),
       op=st.sampled_from(ARITH), fa=st.integers(0, 15), fb=st.integers(0, 15),
       fo=st.integers(0, 15), seed=st.integers(0, 10_000))
def test_binary_bit_exact(shapes, op, fa, fb, fo, seed):
    rng = np.random.default_rng(seed)
    sa, sb = shapes.input_shapes
    a, b = rand_raw(rng, sa), rand_raw(rng, sb)
    if op == "divide" and rng.integers(2):
        b = np.where(b == 0, 1, b)
    sp.reset_stats()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sp.SaturationWarning)
        y = getattr(sp, op)(raw_array(a, fa), raw_array(b, fb), fmt=q(fo))
    ref, sat = R.binary(op, a, b, fa, fb, fo)
    assert y.shape == shapes.result_shape and y.fmt == q(fo)
    np.testing.assert_array_equal(y.raw, ref.reshape(y.shape))
    assert sp.stats().saturated[op] == sat


@given(shapes=mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=6),
       op=st.sampled_from(COMPARE), fa=st.integers(0, 15), fb=st.integers(0, 15),
       seed=st.integers(0, 10_000))
def test_compare_arrays_exact(shapes, op, fa, fb, seed):
    rng = np.random.default_rng(seed)
    a, b = rand_raw(rng, shapes.input_shapes[0], 6), rand_raw(rng, shapes.input_shapes[1], 6)
    x, z = raw_array(a, fa), raw_array(b, fb)
    y = getattr(sp, op)(x, z)
    assert y.fmt == BOOL
    np.testing.assert_array_equal(y.to_numpy(), NP[op](x.to_numpy(), z.to_numpy()))
    np.testing.assert_array_equal(y.raw, R.binary(op, a, b, fa, fb, 0)[0])


@given(op=st.sampled_from(COMPARE), f=st.integers(0, 15),
       c=st.one_of(st.floats(-70000, 70000), st.integers(-40000, 40000),
                   st.sampled_from([0.1, -0.1, 1 / 3, 0.5, 2.0 ** -16])),
       seed=st.integers(0, 10_000))
def test_compare_with_scalar_is_exact(op, f, c, seed):
    x = raw_array(rand_raw(np.random.default_rng(seed), 200), f)
    xv = x.to_numpy()
    if np.isfinite(c) and abs(c) < 40000:
        xv = np.concatenate([xv, [c]])  # hit the threshold itself when representable
    x = sp.asarray(xv, fmt=q(f)) if np.all(np.abs(xv) <= q(f).max) else x
    xv = x.to_numpy()
    np.testing.assert_array_equal(getattr(sp, op)(x, c).to_numpy(), NP[op](xv, c))
    np.testing.assert_array_equal(getattr(sp, op)(c, x).to_numpy(), NP[op](c, xv))


def test_compare_with_infinite_large_and_numpy_scalars():
    x = sp.asarray([-1.0, 0.1, 2.0], fmt=q(12))
    np.testing.assert_array_equal((x < np.inf).to_numpy(), [True] * 3)
    np.testing.assert_array_equal((x >= -np.inf).to_numpy(), [True] * 3)
    np.testing.assert_array_equal((x == np.inf).to_numpy(), [False] * 3)
    np.testing.assert_array_equal((x > 1e300).to_numpy(), [False] * 3)
    np.testing.assert_array_equal((x != -1e300).to_numpy(), [True] * 3)
    np.testing.assert_array_equal((x <= np.float64(0.1)).to_numpy(),
                                  x.to_numpy() <= 0.1)  # quantised 0.1 is above 0.1
    np.testing.assert_array_equal(sp.clip(x, -np.inf, 1e300).to_numpy(), x.to_numpy())
    with pytest.raises(ValueError, match="less: cannot compare with NaN"):
        x < np.nan


def test_boolean_rules():
    a, b = sp.asarray(np.array([True, False])), sp.asarray(np.array([False, False]))
    assert sp.maximum(a, b).fmt == sp.BOOL and sp.where(a, a, b).fmt == sp.BOOL
    assert (a + b).fmt == INT16
    with pytest.raises(TypeError, match="negative"):
        -a


def test_operators_forward():
    x = sp.asarray([0.5, -1.0, 2.0], fmt=q(12))
    y = sp.asarray([1.0, -1.0, 0.5], fmt=q(12))
    for r, e in [(x + y, [1.5, -2, 2.5]), (x - y, [-0.5, 0, 1.5]),
                 (x * y, [0.5, 1, 1]), (x / y, [0.5, 1, 4]), (-x, [-0.5, 1, -2]),
                 (abs(x), [0.5, 1, 2]), (+x, [0.5, -1, 2]), (x ** 2, [0.25, 1, 4]),
                 (x ** 3, [0.125, -1, 8]), (x ** 0, [1, 1, 1]), (x ** 1, [0.5, -1, 2]),
                 (x < y, [True, False, False]), (x <= y, [True, True, False]),
                 (x > y, [False, False, True]), (x >= y, [False, True, True]),
                 (x == y, [False, True, False]), (x != y, [True, False, True])]:
        np.testing.assert_array_equal(r.to_numpy(), e)


def test_scalars_are_weak():
    x = sp.asarray([0.5, -1.0, 2.0], fmt=q(12))
    # a weak scalar contributes its value to the output range, not a format's range
    for r, e, f in [(x * 0.5, [0.25, -0.5, 1], 13), (0.5 * x, [0.25, -0.5, 1], 13),
                    (x + 1, [1.5, 0, 3], 11), (1 - x, [0.5, 2, -1], 11),
                    (x / 2, [0.25, -0.5, 1], 13), (2 / x, [4, -2, 1], 12),
                    (x - 0.25, [0.25, -1.25, 1.75], 11)]:
        assert r.fmt == q(f)
        np.testing.assert_array_equal(r.to_numpy(), e)
    i = sp.asarray(np.array([1, 2, 3]))
    assert (i + 1).fmt == INT16 and (i * 2).fmt == INT16
    np.testing.assert_array_equal((i * 2).to_numpy(), [2, 4, 6])


def test_default_format_rules():
    # outputs hold the operands' ranges (spinla.fixed): q3.12 is [-8, 8), q6.9 [-64, 64)
    a, b = sp.asarray([1.0], fmt=q(12)), sp.asarray([1.0], fmt=q(9))
    # divide: max|a| / min|b| with b's smallest nonzero magnitude from its data (1.0)
    want = {"add": 8, "subtract": 8, "multiply": 5, "divide": 11, "maximum": 9, "minimum": 9}
    for op in ARITH:
        assert getattr(sp, op)(a, b).fmt == q(want[op]), op
    assert sp.where(sp.asarray([True]), a, b).fmt == q(9)
    assert sp.square(a).fmt == q(8) and sp.negative(b).fmt == q(9)
    assert sp.clip(a, 0, 1).fmt == q(12)   # no finer than its exact values
    assert sp.add(a, b, fmt=q(14)).fmt == q(14)
    assert sp.equal(a, b).fmt == BOOL


def test_float_bounds_add_multiply():
    rng = np.random.default_rng(0)
    af, bf = rng.uniform(-2, 2, (40, 50)), rng.uniform(-2, 2, (50,))
    a, b = sp.asarray(af, fmt=q(12)), sp.asarray(bf, fmt=q(13))
    ea, eb = 2.0 ** -13, 2.0 ** -14  # input quantisation
    s = sp.add(a, b, fmt=q(12)).to_numpy()
    assert np.abs(s - (af + bf)).max() <= 2 ** -13 + ea + eb
    pa = sp.multiply(a, b)
    assert pa.fmt == q(9)    # holds 8 * 4 = 32
    p = pa.to_numpy()
    assert np.abs(p - af * bf).max() <= 2 ** -10 + 2 * eb + 2 * ea + ea * eb
    d = sp.divide(a, b, fmt=q(8)).to_numpy()
    exact = a.to_numpy() / b.to_numpy()
    ok = np.abs(exact) < 127
    assert np.abs(d - exact)[np.broadcast_to(ok, d.shape)].max() <= 2 ** -9


def test_divide_by_zero_saturates_counted():
    x = sp.asarray([1.0, -1.0, 0.0, 3.0], fmt=q(10))
    y = sp.asarray([0.0, 0.0, 0.0, 2.0], fmt=q(10))
    with pytest.warns(sp.SaturationWarning, match="divide"):
        r = x / y
    np.testing.assert_array_equal(r.raw[:3], [32767, -32768, 0])
    assert r.to_numpy()[3] == 1.5
    assert sp.stats().saturated["divide"] == 3


def test_divide_rounds_to_nearest_exactly():
    # 1/3 in q0.15: 10922.67 -> 10923; -1/3 -> -10923 (half-up rounding of -10922.67)
    x = sp.asarray([1.0, -1.0, 1.0], fmt=q(10))
    y = sp.asarray([3.0, 3.0, -6.0], fmt=q(10))
    np.testing.assert_array_equal(sp.divide(x, y, fmt=q(15)).raw, [10923, -10923, -5461])


def test_saturation_counted_and_warned():
    a = sp.asarray([0.75, 0.5, -0.9], fmt=q(15))
    assert (a + a).fmt == q(14)          # the default format holds the sum
    with pytest.warns(sp.SaturationWarning, match="add"):
        r = sp.add(a, a, fmt=q(15))
    np.testing.assert_array_equal(r.raw, [32767, 32767, -32768])
    assert sp.stats().saturated["add"] == 3
    with pytest.warns(sp.SaturationWarning, match="negative"):
        n = -sp.asarray([-1.0], fmt=q(15))
    assert n.raw[0] == 32767 and sp.stats().saturated["negative"] == 1


def test_where_bit_exact_and_broadcast():
    rng = np.random.default_rng(2)
    cond = rng.integers(0, 2, (4, 1, 5)).astype(bool)
    a, b = rand_raw(rng, (3, 5)), rand_raw(rng, (4, 3, 1))
    c = sp.asarray(cond)
    y = sp.where(c, raw_array(a, 11), raw_array(b, 7), fmt=q(9))
    ref, _ = R.where(cond, a, b, 11, 7, 9)
    np.testing.assert_array_equal(y.raw, ref)
    z = sp.where(sp.asarray([1.0, 0.0]) > 0.5, 1.0, -2.5)
    np.testing.assert_array_equal(z.to_numpy(), [1.0, -2.5])


@given(lo=st.one_of(st.none(), st.floats(-5, 5)), hi=st.one_of(st.none(), st.floats(-5, 5)),
       fi=st.integers(10, 13), fo=st.integers(0, 15), seed=st.integers(0, 1000))
def test_clip_scalar_bit_exact(lo, hi, fi, fo, seed):
    raw = rand_raw(np.random.default_rng(seed), 300, 16)
    sp.reset_stats()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sp.SaturationWarning)
        y = sp.clip(raw_array(raw, fi), lo, hi, fmt=q(fo))
    ref, sat = R.clip_scalar(raw, lo, hi, fi, fo)
    np.testing.assert_array_equal(y.raw, ref)
    assert sp.stats().saturated["clip"] == sat
    if fo == fi and lo is not None and hi is not None:
        exact = np.clip(raw * 2.0 ** -fi, lo, hi) if lo <= hi else np.full(raw.shape, hi)
        exact = np.clip(exact, q(fo).min, q(fo).max)  # a bound beyond the format saturates
        assert np.abs(y.to_numpy() - exact).max() <= 2.0 ** -(fo + 1)


def test_clip_array_bounds():
    x = sp.asarray([-2.0, 0.5, 3.0], fmt=q(12))
    lo = sp.asarray([-1.0, 1.0, -1.0], fmt=q(12))
    np.testing.assert_array_equal(sp.clip(x, lo, 2.0).to_numpy(), [-1.0, 1.0, 2.0])
    np.testing.assert_array_equal(sp.clip(x, None, np.array([0.0, 0.0, 5.0])).to_numpy(),
                                  [-2.0, 0.0, 3.0])
    before = dict(sp.stats().calls)
    with pytest.raises(ValueError, match="clip: operands could not be broadcast"):
        sp.clip(x, lo, sp.asarray(np.ones(4)))
    assert sp.stats().calls.get("maximum", 0) == before.get("maximum", 0)  # nothing emitted


@pytest.mark.parametrize("op", ["negative", "abs", "square"])
def test_unary_bit_exact(op):
    raw = np.arange(-32768, 32768, 3)
    for fi, fo in [(15, 15), (12, 10), (3, 9)]:
        sp.reset_stats()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sp.SaturationWarning)
            y = getattr(sp, op)(raw_array(raw, fi), fmt=q(fo))
        ref, sat = R.unary(op, raw, fi, fo)
        np.testing.assert_array_equal(y.raw, ref)
        assert sp.stats().saturated[op] == sat


def test_axpby_bit_exact():
    rng = np.random.default_rng(4)
    a, b = rand_raw(rng, (7, 9)), rand_raw(rng, (9,))
    for alpha, beta, fo in [(0.9, 1.0, 12), (1.0, -0.01, 13), (-3.5, 0.25, 10)]:
        y = sp.axpby(raw_array(a, 13), raw_array(b, 12), alpha, beta, fmt=q(fo))
        np.testing.assert_array_equal(y.raw, R.axpby(a, b, 13, 12, alpha, beta, fo)[0])


def test_pow_errors():
    x = sp.asarray([1.0])
    with pytest.raises(ValueError, match="pow"):
        x ** 0.5
    with pytest.raises(ValueError, match="pow"):
        x ** -1
    with pytest.raises(TypeError, match="pow"):
        sp.pow(x, x)


def test_nan_and_shape_errors():
    x = sp.asarray(np.ones((3, 4)))
    with pytest.raises(ValueError, match="add: input contains NaN"):
        sp.add(x, float("nan"))
    with pytest.raises(ValueError, match="multiply: input contains NaN"):
        sp.multiply(x, np.array([1.0, np.nan, 1.0, 1.0]))
    with pytest.raises(ValueError, match=r"asarray: input contains NaN"):
        sp.asarray([np.nan])
    msg = r"subtract: operands could not be broadcast together with shapes \(3, 4\) \(3,\)"
    with pytest.raises(ValueError, match=msg):
        x - sp.asarray(np.ones(3))
    with pytest.raises(ValueError, match=r"where: operands could not be broadcast"):
        sp.where(sp.asarray([True, False]), x, 0.0)
    with pytest.raises(ValueError, match="less: operands could not be broadcast"):
        x < sp.asarray(np.ones(5))
    with pytest.raises(TypeError, match="add"):
        sp.add(x, "a")
    with pytest.raises(ValueError, match="rounding"):
        sp.add(x, x, rounding="up")
    before = sp.stats().calls.get("subtract", 0)
    with pytest.raises(ValueError):
        x - sp.asarray(np.ones(5))
    assert sp.stats().calls.get("subtract", 0) == before


def test_more_than_six_dims_after_merging():
    a = sp.asarray(np.ones((2, 1) * 4))
    b = sp.asarray(np.ones((1, 2) * 4))
    with pytest.raises(ValueError, match="add: .*at most 6"):
        a + b
    y = sp.asarray(np.ones((2, 1, 2, 1, 2, 1)), fmt=q(12)) + sp.asarray(np.ones((1, 2, 1, 2, 1, 2)))
    assert y.shape == (2,) * 6 and np.all(y.to_numpy() == 2)


def test_collapse_merges_contiguous_dims():
    out = (4, 5, 6, 7)
    shape, st_ = collapse(out, [operand_strides(out, out), operand_strides((6, 7), out)])
    assert shape == (20, 42) and st_ == [(42, 1), (0, 1)]
    shape, st_ = collapse((3, 4, 5), [operand_strides((3, 1, 5), (3, 4, 5)),
                                     operand_strides((1, 4, 1), (3, 4, 5))])
    assert shape == (3, 4, 5) and st_ == [(5, 0, 1), (0, 1, 0)]
    assert collapse((1, 1), [(0, 0)]) == ((1,), [(0,)])


def test_zero_d_and_empty():
    s = sp.asarray(2.0) * sp.asarray(1.5)
    assert s.shape == () and float(s) == 3.0
    e = sp.asarray(np.zeros((0, 3))) + sp.asarray(np.ones(3))
    assert e.shape == (0, 3)
    assert sp.exp(sp.asarray(np.zeros((2, 0)))).shape == (2, 0)


def test_stochastic_bit_exact_reproducible_unbiased():
    rng = np.random.default_rng(6)
    a, b = rand_raw(rng, (300, 7), 16), rand_raw(rng, (7,), 16)
    x, z = raw_array(a, 14), raw_array(b, 15)

    def f(u, v):
        return sp.multiply(u, v, fmt=q(8), rounding="stochastic")
    sp.seed(99)
    y1, (seed,) = first_seed(f, x, z)
    sp.seed(99)
    y2, _ = first_seed(f, x, z)
    np.testing.assert_array_equal(y1.raw, y2.raw)
    np.testing.assert_array_equal(y1.raw, R.binary("multiply", a, b, 14, 15, 8, "stochastic",
                                                   seed)[0])
    # unbiased: the mean rounding error is far below the nearest-rounding scale
    small = sp.asarray(np.full(50_000, 0.3), fmt=q(15))
    with sp.rounding("stochastic"):
        r = sp.multiply(small, 0.0137, fmt=q(10))
    exact = small.to_numpy()[0] * sp.asarray(0.0137).to_numpy()
    assert abs(r.to_numpy().mean() - exact) < 4 * 2 ** -10 / np.sqrt(r.size)
    near = sp.multiply(small, 0.0137, fmt=q(10)).to_numpy()
    assert abs(near.mean() - exact) > 10 * abs(r.to_numpy().mean() - exact)


def test_jit_with_python_scalars():
    x = sp.asarray(np.linspace(-1, 1, 11), fmt=q(13))
    f = sp.jit(lambda t: sp.where(t > 0.25, t * 0.5 + 1, -t))
    y = f(x)
    xv = x.to_numpy()
    np.testing.assert_allclose(y.to_numpy(), np.where(xv > 0.25, xv * 0.5 + 1, -xv),
                               atol=2 ** -14, rtol=0)  # one rounding: t * 0.5
    y2 = f(sp.asarray(np.linspace(1, -1, 11), fmt=q(13)))
    np.testing.assert_array_equal(y2.to_numpy(), y.to_numpy()[::-1])


def test_many_tiles_and_dtcm_budget():
    sp.set_machine("spinn3")
    m = sp.machine.current()
    rng = np.random.default_rng(8)
    a = sp.asarray(rng.uniform(-1, 1, (1000, 600)), fmt=q(14))
    b = sp.asarray(rng.uniform(-1, 1, (600,)), fmt=q(14))
    c = sp.asarray(rng.uniform(-1, 1, (1000, 1)), fmt=q(14))
    prog = sp.jit(lambda u, v, w: (u + v, u * w, sp.where(u > v, u, w), sp.divide(u, 3.0),
                                   sp.clip(u, -0.5, 0.5), sp.axpby(u, v, 0.9, 0.1))
                  ).program(a, b, c)
    for call in prog.calls:
        assert np.all(call.dtcm <= m.tile_budget_bytes), call
        assert call.ntiles > m.cores, call
    y = sp.add(a, b, fmt=q(14))
    ref, _ = R.binary("add", a.raw, b.raw, 14, 14, 14)
    np.testing.assert_array_equal(y.raw, ref)
    w = sp.where(a > b, a, c)
    np.testing.assert_array_equal(w.raw, R.where(a.raw > b.raw, a.raw, c.raw, 14, 14, 14)[0])


def test_cycle_formulas():
    x = sp.asarray(np.ones(10_000), fmt=q(12))
    prog = sp.jit(lambda t: (t + t, t / t, t < t)).program(x)
    m = sp.machine.current()
    cyc = [KERNELS[c.kernel].cycles(c, m).sum() for c in prog.calls]
    assert all(v > 0 for v in cyc)
    add, div, lt = cyc
    assert div > 5 * add and lt < add


def test_clip_bound_on_a_tie_rounds_to_even():
    """A Python-number bound halfway between two output codes is rounded as every conversion
    is, ties to even: 0.25 in q14.1 is 0 (0.0), not 1 (0.5); 0.75 is 2 (1.0)."""
    x = raw_array(np.array([-100, 0, 300, 1000]), 10)
    np.testing.assert_array_equal(sp.clip(x, None, 0.25, fmt=q(1)).raw, [0, 0, 0, 0])
    np.testing.assert_array_equal(sp.clip(x, 0.75, None, fmt=q(1)).raw, [2, 2, 2, 2])
