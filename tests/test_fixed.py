"""Formats, host-side quantisation and the random bits shared by host and kernels."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import spinla
from spinla import fixed
from spinla.kernels import lib


def test_format_names_and_ranges():
    f = spinla.q(12)
    assert f.name == "q3.12" and f.max == 32767 / 4096 and f.min == -8.0
    assert fixed.parse_format("Q3.12") == f == fixed.parse_format(12)
    with pytest.raises(TypeError):
        fixed.parse_format("float32")
    with pytest.raises(ValueError):
        spinla.q(16)


def test_frac_for_picks_finest_format_that_holds_the_value():
    assert fixed.frac_for(1.0) == 14          # q1.14 holds 1.0 exactly
    assert fixed.frac_for(0.99) == 15
    assert fixed.frac_for(100.0) == 8         # q7.8 holds up to 127.99
    assert fixed.frac_for(0.0) == 15


@given(st.lists(st.floats(-7.9, 7.9), min_size=1, max_size=50))
def test_nearest_rounding_error_is_half_an_lsb(xs):
    x = np.asarray(xs)
    q, sat = fixed.quantize(x, spinla.q(12))
    assert sat == 0
    assert np.all(np.abs(fixed.dequantize(q, spinla.q(12)) - x) <= 2.0 ** -13)


def test_nearest_ties_round_half_to_even():
    q, _ = fixed.quantize(np.array([0.5, -0.5, 1.5, -1.5, 2.5]) / 4096, spinla.q(12))
    assert q.tolist() == [0, 0, 2, -2, 2]


def test_quantize_saturates_and_counts():
    q, sat = fixed.quantize(np.array([100.0, -100.0, 1.0]), spinla.q(12))
    assert sat == 2 and q.tolist() == [32767, -32768, 4096]


def test_stochastic_quantisation_is_unbiased_and_reproducible():
    x = np.full(20000, 0.3 / 4096)   # 0.3 of an LSB
    q1, _ = fixed.quantize(x, spinla.q(12), "stochastic", seed=7)
    q2, _ = fixed.quantize(x, spinla.q(12), "stochastic", seed=7)
    q3, _ = fixed.quantize(x, spinla.q(12), "stochastic", seed=8)
    assert np.array_equal(q1, q2) and not np.array_equal(q1, q3)
    assert set(np.unique(q1)) <= {0, 1}
    assert abs(q1.mean() - 0.3) < 0.02


@given(st.integers(0, 2**32 - 1), st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=20))
def test_numpy_random_bits_equal_the_c_kernel_bits(seed, idx):
    ours = fixed.rand_u32(seed, np.asarray(idx, dtype=np.uint64).astype(np.uint32))
    theirs = [lib.spl_rand_u32(seed, i) for i in idx]
    assert ours.tolist() == theirs


def test_asarray_rejects_nan_inf_and_bad_types():
    with pytest.raises(ValueError, match="asarray.*NaN"):
        spinla.asarray([1.0, np.nan])
    with pytest.raises(ValueError, match="asarray.*NaN or infinity"):
        spinla.asarray([np.inf])
    with pytest.raises(TypeError, match="asarray: unsupported dtype"):
        spinla.asarray(np.array(["a"]))
    with pytest.raises(TypeError, match="asarray: unsupported dtype complex"):
        spinla.asarray(np.array([1j]))


def test_asarray_out_of_range_saturates_counted_and_warned():
    with pytest.warns(spinla.SaturationWarning, match="asarray"):
        a = spinla.asarray([10.0, 1.0], fmt="q2.13")
    assert a.raw.tolist() == [32767, 8192]
    assert spinla.stats().saturated["asarray"] == 1


def test_array_attributes_and_conversions():
    a = spinla.asarray(np.arange(6.0).reshape(2, 3) / 8, fmt=12)
    assert a.shape == (2, 3) and a.ndim == 2 and a.size == 6 and a.dtype == spinla.q(12)
    assert np.array_equal(np.asarray(a), np.arange(6.0).reshape(2, 3) / 8)
    assert a.__array_namespace__() is spinla
    assert a.T.shape == (3, 2)
    assert float(a[1, 2]) == 5 / 8
    assert "q3.12" in repr(a)
    ints = spinla.asarray(np.array([3, -2]))
    assert ints.fmt == spinla.INT16 and ints.to_numpy().dtype == np.int64
