"""Issue 10, items 1-2: the everyday cases that went silently wrong, as regression tests.
Output formats come from what the operands' formats (or an integer array's data, or a weak
Python scalar's value) can hold - spinla.fixed documents the rule."""
import warnings

import numpy as np
import pytest

import spinla as sp
from spinla import q


@pytest.fixture
def a():
    """1000 values in [-1, 0.999): q0.15."""
    return sp.asarray(np.random.default_rng(5).uniform(-1, 0.999, 1000), fmt=15)


def _close(r, ref, lsbs=0.5, extra=0.0):
    ref = np.asarray(ref, float)
    assert np.abs(r.to_numpy() - ref).max() <= lsbs * r.fmt.scale + extra, r.fmt


def test_pixels_divided_by_255():
    px = np.arange(256, dtype=np.uint8).reshape(16, 16)
    r = sp.asarray(px) / 255
    assert r.fmt == q(14)
    _close(r, px / 255)


def test_integer_data_times_a_fraction():
    r = sp.asarray(np.arange(10)) * 0.1
    assert r.fmt == q(15)          # holds [0, 0.9]
    # 0.1 itself is a 16-bit constant (error 2^-16); the product rounds once more
    _close(r, np.arange(10) * 0.1, extra=9 * 2.0 ** -16)
    assert len(set(np.round(r.to_numpy(), 3))) == 10


def test_integer_arrays_promote_to_fixed_with_fixed_operands():
    i, f = sp.asarray(np.arange(10)), sp.asarray(np.linspace(-1, 1, 10))
    iv, fv = np.arange(10), f.to_numpy()
    _close(sp.maximum(i, f), np.maximum(iv, fv))
    _close(sp.where(i > 4, i, f), np.where(iv > 4, iv, fv))
    _close(sp.concat([i, f]), np.concatenate([iv, fv]))
    _close(i * f, iv * fv)
    _close(sp.clip(i, 0.5, 7.25), np.clip(iv, 0.5, 7.25))
    assert sp.mean(i).to_numpy() == 4.5
    assert sp.mean(sp.asarray(np.array([1, 2]))).to_numpy() == 1.5


def test_sums_and_products_of_full_range_operands_do_not_saturate(a):
    sp.reset_stats()
    for r, ref in [(a + a[0], a.to_numpy() + a.to_numpy()[0]), (2 + a, 2 + a.to_numpy()),
                   (a * 10, a.to_numpy() * 10), (a - 5, a.to_numpy() - 5),
                   (a ** 3, a.to_numpy() ** 3), (a - a, 0 * a.to_numpy())]:
        _close(r, ref, lsbs=1.0)
    b = sp.asarray(np.random.default_rng(1).uniform(0, 1, (4, 256)))
    c = sp.asarray(np.random.default_rng(2).uniform(0, 1, (256, 3)))
    m = b @ c
    _close(m, b.to_numpy() @ c.to_numpy())
    assert sp.stats().total_saturated == 0


def test_numpy_scalars_are_arrays_not_weak_scalars(a):
    sp.reset_stats()
    r = a + np.float64(100)
    assert sp.stats().total_saturated == 0
    _close(r, a.to_numpy() + 100)
    assert (a + 0.5).fmt == q(14) and (a + np.float64(0.5)).fmt == q(14)
    assert (a * 100).fmt == q(8)           # a weak 100 adds its own magnitude


def test_format_override_and_int_arithmetic_stay_numpy_like(a):
    assert sp.add(a, a, fmt=q(15)).fmt == q(15)
    i = sp.asarray(np.array([1, 2, 3]))
    assert (i + 1).fmt == sp.INT16 and (i * 2).fmt == sp.INT16
    assert (i / 2).fmt.kind == "fixed"        # true division, as NumPy
    np.testing.assert_array_equal((i / 2).to_numpy(), [0.5, 1, 1.5])
    assert (i * 0.5).fmt.kind == "fixed"


def test_host_rounding_is_half_to_even_and_unbiased():
    halves = np.arange(-1000, 1000) + 0.5
    r = sp.asarray(halves, fmt=0)
    assert np.mean(r.to_numpy() - halves) == 0
    np.testing.assert_array_equal(r.to_numpy()[998:1002], [-2, 0, 0, 2])


def test_each_call_site_warns_and_every_loss_is_counted(a):
    sp.reset_stats()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("default")
        sp.add(a, 1.5, fmt=q(15))             # saturates: site 1
        sp.subtract(2, a, fmt=q(15))           # same kind of op, another site: warned too
        sp.asarray([1.0, 1e-7])                # underflow to zero, warned
    kinds = [x.category for x in w]
    assert kinds.count(sp.SaturationWarning) == 2 and sp.UnderflowWarning in kinds
    s = sp.stats()
    assert s.saturated["add"] > 0 and s.saturated["subtract"] > 0
    assert s.underflowed["asarray"] == 1 and s.rounded["asarray"] >= 1


def test_fit_history_counts_saturation_from_placing_the_data():
    from spinla import nn
    m = nn.Sequential([nn.Dense(2, activation="softmax", input_shape=(3,))], seed=0)
    m.compile(optimizer="adam", loss="categorical_crossentropy")
    x = np.array([[0.5, 1.0, 0.25], [1.99, 0.0, 0.1]] * 4)
    # 32767.5 LSBs of q1.14 round (half to even) to 32768, one step beyond the format:
    # saturated while placing the data, and counted in epoch 0's history
    x[0, 0] = 32767.5 / 2 ** 14
    h = m.fit(x, np.array([0, 1] * 4), epochs=1, batch_size=4, verbose=0, seed=0)
    assert h["saturations"][0].get("asarray", 0) >= 1
