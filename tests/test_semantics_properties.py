"""Issue 10, item 7: for random formats and data, every arithmetic op and reduction agrees
with NumPy float64 (on the quantised inputs) within its output format's rounding bound, or
the loss is counted in spinla.stats() - never silently wrong.  Default formats come from the
operands' ranges (spinla.fixed), so saturation happens only where no 16-bit format holds
the range."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import spinla as sp
from spinla.fixed import Format

FRAC = st.integers(0, 15)


@st.composite
def fixed_arrays(draw, shape=None, kind=None):
    """A fixed-point (or, sometimes, integer) array with data spanning its format."""
    if shape is None:
        shape = draw(st.sampled_from([(1,), (5,), (3, 4), (2, 3, 2)]))
    n = math.prod(shape)
    kind = kind or draw(st.sampled_from(["fixed"] * 4 + ["int"]))
    if kind == "int":
        lim = draw(st.sampled_from([10, 300, 32767]))
        codes = draw(st.lists(st.integers(-lim, lim), min_size=n, max_size=n))
        return sp.asarray(np.array(codes, dtype=np.int64).reshape(shape))
    f = draw(FRAC)
    codes = draw(st.lists(st.integers(-32768, 32767), min_size=n, max_size=n))
    return sp.asarray(np.ldexp(np.array(codes, float), -f).reshape(shape), fmt=f)


def _check(op, r, ref, extra=0.0, rel_lsb=0.5):
    """|r - ref| <= rel_lsb output LSB (+ extra), except outputs clamped to the format's
    range, which must be counted as saturations of `op`."""
    got = r.to_numpy().astype(float)
    ref = np.broadcast_to(np.asarray(ref, float), got.shape)
    f = r.fmt
    lsb = 1.0 if f.kind != "fixed" else f.scale
    lo, hi = (-32768.0, 32767.0) if f.kind != "fixed" else (f.min, f.max)
    err = np.abs(got - ref)
    bad = err > rel_lsb * lsb + extra + 1e-12
    clamped = bad & (((got == hi) & (ref > hi)) | ((got == lo) & (ref < lo)))
    assert not np.any(bad & ~clamped), (op, f, got[bad & ~clamped], ref[bad & ~clamped])
    if clamped.any():
        assert sp.stats().saturated[op] >= int(clamped.sum()), (op, "saturation not counted")


BINARY = {"add": np.add, "subtract": np.subtract, "multiply": np.multiply,
          "maximum": np.maximum, "minimum": np.minimum}


@pytest.mark.parametrize("op", sorted(BINARY))
@given(a=fixed_arrays(shape=(3, 4)), b=fixed_arrays(shape=(4,)))
def test_binary_ops_agree_with_float64(op, a, b):
    sp.reset_stats()
    r = getattr(sp, op)(a, b)
    _check(op, r, BINARY[op](a.to_numpy(), b.to_numpy()))
    if op in ("add", "subtract", "maximum", "minimum") and r.fmt.kind == "fixed" and \
            r.fmt.frac > 0:
        assert sp.stats().saturated[op] == 0   # the range rule makes these unable to clamp


@given(a=fixed_arrays(shape=(6,)), b=fixed_arrays(shape=(6,)))
def test_divide_agrees_with_float64(a, b):
    sp.reset_stats()
    bv = b.to_numpy()
    r = sp.divide(a, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        ref = a.to_numpy() / bv
    ok = bv != 0            # x / 0 saturates, counted (tests/test_elementwise.py)
    got = r.to_numpy()
    _check("divide", sp.asarray(got[ok], fmt=r.fmt) if ok.any() else r[:0], ref[ok])


@given(a=fixed_arrays(shape=(5,)), c=st.one_of(
    st.integers(-300, 300), st.sampled_from([0.5, -0.25, 0.125, 3.0, 10.0, -5.0, 100.0])))
def test_weak_scalars_hold_their_value(a, c):
    """Python scalars (exactly representable ones here) take part with their own value."""
    for op, fn in (("add", np.add), ("subtract", np.subtract), ("multiply", np.multiply)):
        sp.reset_stats()
        _check(op, getattr(sp, op)(a, c), fn(a.to_numpy(), c))
        sp.reset_stats()
        _check(op, getattr(sp, op)(c, a), fn(c, a.to_numpy()))
    if c != 0:
        sp.reset_stats()
        _check("divide", a / c, a.to_numpy() / c)


@given(a=fixed_arrays(shape=(7,)))
def test_unary_and_powers(a):
    x = a.to_numpy()
    for name, fn, ref in (("square", sp.square, x * x), ("negative", sp.negative, -x),
                          ("abs", sp.abs, np.abs(x))):
        sp.reset_stats()
        _check(name, fn(a), ref)
    sp.reset_stats()
    p = a ** 3
    # two roundings (x*x, then *x): the first one's error is multiplied by |x|
    e1 = sp.square(a).fmt.scale / 2 if a.fmt.kind == "fixed" else 0.0
    _check("multiply", p, x ** 3, extra=e1 * np.abs(x).max())


@given(a=fixed_arrays(), c=fixed_arrays(shape=(3,)))
def test_where_clip_concat_hold_both_ranges(a, c):
    cond = a > 0
    sp.reset_stats()
    _check("where", sp.where(cond, a, c[:1]), np.where(cond.to_numpy(), a.to_numpy(),
                                                       c.to_numpy()[:1]))
    r = sp.concat([sp.reshape(a, (-1,)), c])
    np.testing.assert_allclose(r.to_numpy(), np.concatenate([a.to_numpy().ravel(),
                                                             c.to_numpy()]),
                               atol=r.fmt.scale / 2 if r.fmt.kind == "fixed" else 0)
    _check("clip", sp.clip(a, -0.75, 2.5), np.clip(a.to_numpy(), -0.75, 2.5))


@pytest.mark.parametrize("red", ["sum", "mean", "max", "min"])
@given(a=fixed_arrays(shape=(4, 6)), axis=st.sampled_from([None, 0, 1, (0, 1)]))
def test_reductions_agree_with_float64(red, a, axis):
    sp.reset_stats()
    r = getattr(sp, red)(a, axis=axis)
    ref = getattr(np, red)(a.to_numpy(), axis=axis)
    n = a.size if axis in (None, (0, 1)) else a.shape[axis]
    _check(red, r, ref, rel_lsb=0.5 + n * 2.0 ** -32)
    if red in ("mean", "max", "min"):
        assert sp.stats().saturated[red] == 0


@given(a=fixed_arrays(shape=(3, 8)), b=fixed_arrays(shape=(8, 2)))
def test_matmul_agrees_with_float64(a, b):
    sp.reset_stats()
    r = a @ b
    _check("matmul", r, a.to_numpy() @ b.to_numpy())
    if r.fmt.kind == "fixed" and r.fmt.frac > 0:
        assert sp.stats().saturated["matmul"] == 0


@given(f=FRAC, data=st.lists(st.floats(-1e6, 1e6, allow_subnormal=True), min_size=1,
                             max_size=20))
def test_asarray_counts_every_loss(f, data):
    sp.reset_stats()
    x = np.array(data)
    r = sp.asarray(x, fmt=f)
    got, fmt = r.to_numpy(), Format(f)
    over = (x > fmt.max + fmt.scale / 2) | (x < fmt.min - fmt.scale / 2)
    assert np.all(np.abs(got - x)[~over] <= fmt.scale / 2)
    s = sp.stats()
    assert s.saturated["asarray"] == int(over.sum())
    assert s.rounded["asarray"] == int(np.count_nonzero((got != x) & ~over))
    assert s.underflowed["asarray"] == int(np.count_nonzero((got == 0) & (x != 0)))


@given(a=fixed_arrays(shape=(6,), kind="fixed"), b=fixed_arrays(shape=(6,), kind="fixed"),
       alpha=st.sampled_from([0.5, -0.25, 0.9, 3.0, -2.0]),
       beta=st.sampled_from([0.125, 1.0, -0.75, 10.0]))
def test_axpby_agrees_with_float64(a, b, alpha, beta):
    sp.reset_stats()
    r = sp.axpby(a, b, alpha, beta)
    # alpha and beta are 16-bit constants (finest format holding each): their rounding
    # error, times |a| and |b|, adds to the one rounding of the result
    from spinla.fixed import frac_for
    e = [2.0 ** -(frac_for(abs(c)) + 1) for c in (alpha, beta)]
    extra = e[0] * np.abs(a.to_numpy()).max() + e[1] * np.abs(b.to_numpy()).max()
    _check("axpby", r, alpha * a.to_numpy() + beta * b.to_numpy(), extra=extra)
    assert sp.stats().saturated["axpby"] == 0 or r.fmt.frac == 0


@given(a=fixed_arrays(shape=(4, 5)), axis=st.sampled_from([None, 0, 1]))
def test_argmax_argmin_match_numpy(a, axis):
    x = a.to_numpy()
    np.testing.assert_array_equal(sp.argmax(a, axis=axis).to_numpy(), np.argmax(x, axis=axis))
    np.testing.assert_array_equal(sp.argmin(a, axis=axis).to_numpy(), np.argmin(x, axis=axis))
