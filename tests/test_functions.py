"""LUT functions (exp, log, tanh, sigmoid, sqrt) and softmax / logsumexp: bit-exact against
the NumPy integer reference (tests/qref_eltwise.py), the documented error bounds against
float64 over every int16 input and every format pair, domain errors, saturation counting,
stochastic rounding, tiling."""
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrays import first_seed, raw_array
import qref_eltwise as R
import spinla as sp
from spinla.fixed import q

ALL = np.arange(-32768, 32768, dtype=np.int64)
FLOAT = {"exp": np.exp, "log": lambda v: np.log(np.where(v > 0, v, 1.0)), "tanh": np.tanh,
         "sigmoid": lambda v: 1.0 / (1.0 + np.exp(-v)), "sqrt": lambda v: np.sqrt(np.abs(v))}
# Documented maxima (output LSBs, nearest rounding, every int16 input, every format pair).
BOUND = {"exp": 0.53, "log": 0.56, "tanh": 0.69, "sigmoid": 0.6, "sqrt": 0.5}


def test_committed_tables_match_generator():
    assert (R.ROOT / "spinla_c" / "tables_q15.h").read_text() == R.gen_tables.header()
    assert R.EXP2[0] == 1 << 30 and R.EXP2[-1] == 1 << 31
    assert R.LN[0] == 0 and R.LN[-1] == R.LN2


@pytest.mark.parametrize("fn", sorted(BOUND))
def test_error_bound_every_input_every_format(fn):
    warnings.simplefilter("ignore", sp.SaturationWarning)
    worst = 0.0
    for fi in range(16):
        x = raw_array(ALL, fi)
        with np.errstate(over="ignore"):  # exp overflows float64 far outside every format
            exact_unscaled = FLOAT[fn](ALL * 2.0 ** -fi)
        valid = {"log": ALL > 0, "sqrt": ALL >= 0}.get(fn, np.ones(ALL.size, bool))
        for fo in range(16):
            raw = getattr(sp, fn)(x, fmt=q(fo)).raw.astype(np.int64)
            ok = valid & (raw > -32768) & (raw < 32767)
            err = np.abs(raw[ok] - exact_unscaled[ok] * 2.0 ** fo)
            worst = max(worst, float(err.max()))
            assert err.max() <= BOUND[fn], (fn, fi, fo, err.max())
    assert worst > 0.49  # the bound is tight: rounding alone reaches 1/2 LSB


@pytest.mark.parametrize("fn", sorted(BOUND))
@pytest.mark.parametrize("fi,fo", [(0, 15), (8, 8), (12, 14), (15, 3)])
def test_bit_exact_every_input(fn, fi, fo):
    sp.reset_stats()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sp.SaturationWarning)
        y = getattr(sp, fn)(raw_array(ALL, fi), fmt=q(fo))
    ref, sat = R.LUT[fn](ALL, fi, fo)
    np.testing.assert_array_equal(y.raw, ref)
    assert sp.stats().saturated[fn] == sat


@pytest.mark.parametrize("fn", sorted(BOUND))
def test_stochastic_bit_exact_and_reproducible(fn):
    x = raw_array(np.arange(-32768, 32768, 7), 11)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sp.SaturationWarning)
        sp.seed(7)
        y, (seed,) = first_seed(lambda t: getattr(sp, fn)(t, fmt=q(13), rounding="stochastic"),
                                x)
        sp.seed(7)
        y2, _ = first_seed(lambda t: getattr(sp, fn)(t, fmt=q(13), rounding="stochastic"), x)
    ref, _ = R.LUT[fn](x.raw.astype(np.int64), 11, 13, "stochastic", seed)
    np.testing.assert_array_equal(y.raw, ref)
    np.testing.assert_array_equal(y.raw, y2.raw)


def test_stochastic_is_unbiased():
    # exp(0.1) at q7.8 lies between two LSBs; stochastic rounding averages to it.
    x = sp.asarray(np.full(40000, 0.1), fmt=q(12))
    y = sp.exp(x, fmt=q(8), rounding="stochastic").to_numpy()
    exact = np.exp(x.to_numpy()[0])
    assert len(np.unique(y)) == 2
    assert abs(y.mean() - exact) < 4 * 2 ** -8 / np.sqrt(y.size)


def test_default_formats():
    assert sp.exp(sp.asarray([0.5], fmt=q(15))).fmt == q(13)   # e < 4
    assert sp.exp(sp.asarray([0.5], fmt=q(12))).fmt == q(8)    # at least q7.8
    assert sp.exp(sp.asarray([0.5], fmt=q(13))).fmt == q(9)    # e^4 = 54.6
    assert sp.log(sp.asarray([0.5])).fmt == q(11)
    assert sp.tanh(sp.asarray([0.5])).fmt == q(14)
    assert sp.sigmoid(sp.asarray([0.5])).fmt == q(14)
    assert sp.sqrt(sp.asarray([0.5], fmt=q(15))).fmt == q(15)
    assert sp.sqrt(sp.asarray([0.5], fmt=q(0))).fmt == q(7)
    assert sp.sqrt(sp.asarray([0.5], fmt=q(8))).fmt == q(11)


@pytest.mark.parametrize("fi", range(16))
def test_default_formats_never_saturate_in_range(fi):
    x = raw_array(ALL, fi)
    with warnings.catch_warnings():
        warnings.simplefilter("error", sp.SaturationWarning)
        sp.sqrt(raw_array(ALL[ALL >= 0], fi))
        sp.log(raw_array(ALL[ALL > 0], fi))
        sp.tanh(x)
        sp.sigmoid(x)


def test_tanh_sigmoid_reach_one_exactly():
    y = sp.tanh(sp.asarray([-20.0, 20.0], fmt=q(10)))
    np.testing.assert_array_equal(y.to_numpy(), [-1.0, 1.0])
    assert sp.stats().saturated["tanh"] == 0
    np.testing.assert_array_equal(sp.sigmoid(sp.asarray([-20.0, 20.0])).to_numpy(), [0.0, 1.0])


def test_domain_errors_saturate_and_are_counted():
    x = sp.asarray([-1.0, 0.0, 0.25], fmt=q(12))
    with pytest.warns(sp.SaturationWarning, match="log"):
        y = sp.log(x)
    assert y.raw[0] == -32768 and y.raw[1] == -32768
    assert abs(y.to_numpy()[2] - np.log(0.25)) <= 2 ** -11
    assert sp.stats().saturated["log"] == 2
    with pytest.warns(sp.SaturationWarning, match="sqrt"):
        s = sp.sqrt(x)
    np.testing.assert_array_equal(s.to_numpy()[1:], [0.0, 0.5])
    assert s.raw[0] == -32768 and sp.stats().saturated["sqrt"] == 1


def test_exp_overflow_saturates_counted():
    x = sp.asarray([1.0, 5.0, 6.0], fmt=q(12))
    with pytest.warns(sp.SaturationWarning, match="exp"):
        y = sp.exp(x)  # q7.8: exp(5) = 148 > 128
    assert sp.stats().saturated["exp"] == 2
    assert y.raw[1] == 32767 and abs(y.to_numpy()[0] - np.e) <= 2 ** -9


def test_exp_of_very_negative_is_zero():
    y = sp.exp(sp.asarray([-32768.0, -100.0], fmt=q(0)), fmt=q(15))
    np.testing.assert_array_equal(y.raw, [0, 0])


def test_nan_input_names_op():
    with pytest.raises(ValueError, match="exp"):
        sp.exp(np.array([1.0, np.nan]))


def test_many_tiles_and_dtcm_budget():
    sp.set_machine("spinn3")
    m = sp.machine.current()
    rng = np.random.default_rng(1)
    x = sp.asarray(rng.uniform(-4, 4, 500_000), fmt=q(12))
    prog = sp.jit(lambda t: (sp.exp(t), sp.tanh(t), sp.sqrt(t), sp.softmax(
        sp.reshape(t, (5000, 100))), sp.logsumexp(sp.reshape(t, (100, 5000))))).program(x)
    for c in prog.calls:
        assert np.all(c.dtcm <= m.tile_budget_bytes), c
    lut = [c for c in prog.calls if c.kernel == "lut_q15"]
    assert all(c.ntiles > m.cores for c in lut)
    assert len(np.unique(lut[0].cores)) == m.cores
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sp.SaturationWarning)
        y = sp.tanh(x)
    ref, _ = R.tanh(x.raw.astype(np.int64), 12, 14)
    np.testing.assert_array_equal(y.raw, ref)


def test_cycle_formulas():
    from spinla.kernels import KERNELS
    x = sp.asarray(np.linspace(-1, 1, 5000), fmt=q(14))
    prog = sp.jit(lambda t: (sp.exp(t), sp.sqrt(t), sp.softmax(sp.reshape(t, (50, 100))))
                  ).program(x)
    m = sp.machine.current()
    cyc = {c.params.get("fn", c.kernel): KERNELS[c.kernel].cycles(c, m).sum()
           for c in prog.calls if c.kernel != "view"}
    assert 0 < cyc["exp"] < cyc["sqrt"]  # the bitwise root is the costly one
    assert cyc["softmax_q15"] > cyc["exp"]


# --- softmax / logsumexp ---------------------------------------------------------------------

@given(rows=st.integers(1, 5), n=st.sampled_from([1, 2, 7, 31, 128]),
       fi=st.integers(0, 15), fo=st.integers(8, 15), seed=st.integers(0, 1000))
def test_softmax_bit_exact(rows, n, fi, fo, seed):
    raw = np.random.default_rng(seed).integers(-32768, 32768, (rows, n))
    sp.reset_stats()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sp.SaturationWarning)
        y = sp.softmax(raw_array(raw, fi), fmt=q(fo))
    ref, sat = R.softmax(raw, fi, fo)
    np.testing.assert_array_equal(y.raw, ref)
    assert sp.stats().saturated["softmax"] == sat


@given(n=st.sampled_from([1, 3, 10, 100, 1000]), fi=st.integers(4, 15),
       seed=st.integers(0, 1000))
def test_softmax_float_bound(n, fi, seed):
    rng = np.random.default_rng(seed)
    x = raw_array(rng.integers(-32768, 32768, (4, n)) >> rng.integers(0, 12), fi)
    y = sp.softmax(x)  # q1.14
    xf = x.to_numpy()
    e = np.exp(xf - xf.max(axis=1, keepdims=True))
    exact = e / e.sum(axis=1, keepdims=True)
    assert y.fmt == q(14)
    assert np.abs(y.to_numpy() - exact).max() <= 0.53 * 2 ** -14
    assert sp.stats().saturated["softmax"] == 0


def test_softmax_one_hot_is_exactly_one_without_saturation():
    x = sp.asarray([[0.0, -30.0, -30.0], [5.0, 5.0, 5.0]], fmt=q(10))
    with warnings.catch_warnings():
        warnings.simplefilter("error", sp.SaturationWarning)
        y = sp.softmax(x)
    assert y.to_numpy()[0, 0] == 1.0 and y.to_numpy()[0, 1] == 0.0
    np.testing.assert_allclose(y.to_numpy()[1], 1 / 3, atol=2 ** -15)


def test_softmax_other_axis_and_stochastic():
    rng = np.random.default_rng(3)
    xf = rng.normal(size=(6, 5, 4))
    x = sp.asarray(xf, fmt=q(12))
    y = sp.softmax(x, axis=1)
    xq = x.to_numpy()
    e = np.exp(xq - xq.max(axis=1, keepdims=True))
    np.testing.assert_allclose(y.to_numpy(), e / e.sum(axis=1, keepdims=True),
                               atol=0.53 * 2 ** -14)
    xr = sp.asarray(xf.reshape(30, 4), fmt=q(12))
    sp.seed(11)
    ys, (seed,) = first_seed(lambda t: sp.softmax(t, rounding="stochastic"), xr)
    ref, _ = R.softmax(xr.raw, 12, 14, "stochastic", seed)
    np.testing.assert_array_equal(ys.raw, ref)


def test_softmax_long_rows_stream():
    sp.set_machine("spinn3")
    x = sp.asarray(np.random.default_rng(0).normal(size=(2, 20000)), fmt=q(12))
    call = sp.jit(lambda t: sp.softmax(t)).program(x).calls[0]
    assert call.params["streamed"]
    assert np.all(call.dtcm <= sp.machine.current().tile_budget_bytes)
    y = sp.softmax(x, fmt=q(15))
    np.testing.assert_array_equal(y.raw, R.softmax(x.raw, 12, 15)[0])
    assert abs(y.to_numpy().sum(axis=1) - 1).max() < 20000 * 2 ** -15


@given(n=st.sampled_from([1, 2, 9, 64, 500]), fi=st.integers(0, 15),
       seed=st.integers(0, 1000))
def test_logsumexp_bit_exact_and_bound(n, fi, seed):
    raw = np.random.default_rng(seed).integers(-32768, 32768, (3, n))
    x = raw_array(raw, fi)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sp.SaturationWarning)
        y = sp.logsumexp(x)
    fo = y.fmt.frac
    assert fo == min(fi, sp.fixed.frac_for(x.fmt.max + np.log(n)))
    ref, sat = R.logsumexp(raw, fi, fo)
    np.testing.assert_array_equal(y.raw, ref)
    assert sat == 0
    xf = x.to_numpy()
    m = xf.max(axis=1)
    exact = m + np.log(np.exp(xf - m[:, None]).sum(axis=1))
    assert np.abs(y.to_numpy() - exact).max() <= 2 ** -(fo + 1) + 3e-6 + n * 2.0 ** -30


def test_logsumexp_axes_keepdims():
    xf = np.random.default_rng(5).normal(size=(3, 4, 5))
    x = sp.asarray(xf, fmt=q(12))
    xq = x.to_numpy()
    y = sp.logsumexp(x, axis=(0, 2), keepdims=True)
    assert y.shape == (1, 4, 1)
    exact = np.log(np.exp(xq).sum(axis=(0, 2), keepdims=True))
    assert np.abs(y.to_numpy() - exact).max() <= 2 ** -(y.fmt.frac + 1) + 1e-5
    assert sp.logsumexp(x, axis=None).shape == ()
    with pytest.raises(ValueError, match="logsumexp"):
        sp.logsumexp(sp.zeros((3, 0)), axis=1)
    with pytest.raises(np.exceptions.AxisError, match="softmax"):
        sp.softmax(x, axis=3)
