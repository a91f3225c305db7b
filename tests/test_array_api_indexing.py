"""Indexing with NumPy's rules (spinla/ops/selection.py), NumPy interop (__array_function__),
the reflected/in-place operators and repr of a huge array."""
import operator

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import spinla as sp
from arrays import raw_array


def _arr(shape, frac=10, seed=0):
    x = np.random.default_rng(seed).integers(-32768, 32768, size=shape, dtype=np.int16)
    return raw_array(x, frac), x


def test_boolean_scalars_add_an_axis():
    a, x = _arr((3, 4))
    assert a[True].shape == x[True].shape == (1, 3, 4)
    assert a[False].shape == x[False].shape == (0, 3, 4)
    np.testing.assert_array_equal(a[True].raw, x[True])
    np.testing.assert_array_equal(a[1, True].raw, x[1, True])
    s = sp.asarray(2.5)
    assert s[True].shape == (1,) and s[True].tolist() == [2.5]


KEYS = [np.array([2, 0, -1]), [1, 1], np.array([[0, 1], [2, 2]]),
        (slice(None), np.array([3, 0])), (np.array([0, 2]), np.array([1, 3])),
        (Ellipsis, [0]), (np.array([True, False, True]),),
        (np.array([True, False, True]), slice(1, 3)), (None, [1], slice(None, None, -1)),
        np.zeros((3, 4), bool), (np.array([0, 1]), None, np.array([2, 3]))]


@pytest.mark.parametrize("key", KEYS, ids=[repr(k)[:40] for k in KEYS])
def test_advanced_indexing_matches_numpy(key):
    a, x = _arr((3, 4))
    got = a[key]
    assert got.fmt == a.fmt
    np.testing.assert_array_equal(got.raw, x[key])


def test_mask_and_index_arrays_from_spinla():
    a, x = _arr((3, 4))
    m = a > 0
    np.testing.assert_array_equal(a[m].raw, x[x > 0])
    i = sp.asarray([2, 0])
    np.testing.assert_array_equal(a[i].raw, x[[2, 0]])
    np.testing.assert_array_equal(a[sp.asarray(1)].raw, x[1])  # a 0-d int16 index
    with pytest.raises(IndexError, match="integer or boolean"):
        a[sp.asarray([0.5])]


@given(st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 3)), st.data())
def test_random_integer_and_mask_keys(shape, data):
    a, x = _arr(shape, seed=1)
    ax = data.draw(st.integers(0, 2))
    idx = np.array(data.draw(st.lists(st.integers(-shape[ax], shape[ax] - 1), max_size=5)),
                   dtype=np.int64)
    key = (slice(None),) * ax + (idx,)
    np.testing.assert_array_equal(a[key].raw, x[key])
    mask = np.array(data.draw(st.lists(st.booleans(), min_size=shape[0], max_size=shape[0])))
    np.testing.assert_array_equal(a[mask].raw, x[mask])


def test_index_operator_and_bad_keys():
    a, x = _arr((5,))
    np.testing.assert_array_equal(a[np.int64(3)].raw, x[3])
    with pytest.raises(IndexError, match="valid indices"):
        a[1.5]
    with pytest.raises(IndexError, match="out of bounds"):
        a[np.array([7])]
    with pytest.raises(TypeError):
        a[1.5:3]


def test_take_any_axis_and_take_along_axis():
    a, x = _arr((3, 4, 2))
    for ax in range(3):
        idx = np.array([1, 0, 1])
        np.testing.assert_array_equal(sp.take(a, idx, axis=ax).raw, np.take(x, idx, axis=ax))
    ind = np.argsort(x, axis=1)
    np.testing.assert_array_equal(sp.take_along_axis(a, ind, axis=1).raw,
                                  np.take_along_axis(x, ind, axis=1))
    np.testing.assert_array_equal(sp.take(a[0, :, 0], np.array([3, -1]), axis=None).raw,
                                  x[0, :, 0][[3, -1]])


def test_numpy_functions_dispatch_to_spinla():
    a = sp.asarray(np.arange(12).reshape(3, 4) * 0.25)
    v = a.to_numpy()
    for fn, kw in [(np.sum, {}), (np.mean, {"axis": 0}), (np.max, {"axis": 1}),
                   (np.min, {}), (np.prod, {"axis": 0}), (np.cumsum, {"axis": 1}),
                   (np.var, {"axis": 1, "ddof": 1}), (np.std, {})]:
        r = fn(a, **kw)
        assert isinstance(r, sp.Array), fn.__name__
        np.testing.assert_allclose(r.to_numpy(), fn(v, **kw), atol=0.02, err_msg=fn.__name__)
    r = np.sum(a, axis=0, out=None, dtype=None, keepdims=True)
    assert isinstance(r, sp.Array) and r.shape == (1, 4)
    with pytest.raises(TypeError, match="out="):
        np.sum(a, out=np.zeros(()))
    assert isinstance(np.concatenate([a, a]), sp.Array)
    assert isinstance(np.where(a > 1, a, 0.0), sp.Array)
    np.testing.assert_array_equal(np.sort(a, axis=0).to_numpy(), np.sort(v, axis=0))
    np.testing.assert_array_equal(np.clip(a, 0.5, 2).to_numpy(), np.clip(v, 0.5, 2))
    assert np.transpose(a).shape == (4, 3) and isinstance(np.transpose(a), sp.Array)
    assert [t.tolist() for t in np.where(a > 2)] == [list(t) for t in np.where(v > 2)]
    np.testing.assert_array_equal(np.round(a).to_numpy(), np.round(v))  # half to even
    t = np.tensordot(a[:2, :2], a[:2, :2], axes=([0], [0]))  # values within q2.13's range
    np.testing.assert_allclose(t.to_numpy(), np.tensordot(v[:2, :2], v[:2, :2], axes=([0], [0])),
                               atol=2**-12)
    with pytest.raises(TypeError, match="decimals"):
        np.round(a, 2)
    # NumPy functions spinla does not implement see the values (as through __array__) and
    # return NumPy's own result, not a spinla Array
    r = np.percentile(a, 50)
    assert not isinstance(r, sp.Array) and r == np.percentile(v, 50)
    assert np.allclose(a, v)


def test_reflected_and_inplace_operators():
    a = sp.asarray([1.5, -2.0, 3.0], fmt=sp.q(10))
    v = a.to_numpy()
    np.testing.assert_array_equal((0.5 - a).to_numpy(), 0.5 - v)
    np.testing.assert_array_equal((7 // sp.asarray([2, 3])).tolist(), [3, 2])
    np.testing.assert_array_equal((7 % sp.asarray([2, 3])).tolist(), [1, 1])
    np.testing.assert_array_equal((1 & sp.asarray([1, 2, 3])).tolist(), [1, 0, 1])
    b = a
    b += 1
    np.testing.assert_array_equal(b.to_numpy(), v + 1)
    np.testing.assert_array_equal(a.to_numpy(), v)  # rebinding, the original is unchanged
    b *= 2
    np.testing.assert_array_equal(b.to_numpy(), (v + 1) * 2)
    c = a.copy()
    assert c is not a and c.buffer is not a.buffer
    np.testing.assert_array_equal(c.raw, a.raw)


def test_repr_of_a_huge_array_does_not_convert_it(monkeypatch):
    big = sp.zeros((1000, 1000), fmt=sp.q(8))
    small = sp.asarray([0.5, 1.25])

    def boom(self):
        raise AssertionError("to_numpy called for repr")
    assert "0.5" in repr(small)
    monkeypatch.setattr(sp.Array, "to_numpy", boom)
    text = repr(big)
    assert "..." in text and "fmt=q7.8" in text and len(text) < 2000


def test_operator_index_for_int16_scalars():
    i = sp.asarray(2)
    assert operator.index(i) == 2 and list(range(5))[i] == 2
