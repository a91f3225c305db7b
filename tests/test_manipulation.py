"""Data-movement ops are exact copies: compare with NumPy on the int16 storage."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import spinla

shapes = hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=7)


def _arr(shape, seed=0):
    x = np.random.default_rng(seed).integers(-32768, 32768, shape)
    return spinla.asarray(x, fmt="int16"), x


@given(shapes, st.data())
def test_permute_flip_reshape(shape, data):
    a, x = _arr(shape)
    axes = data.draw(st.permutations(range(len(shape))))
    assert np.array_equal(spinla.permute_dims(a, axes).raw, np.transpose(x, axes))
    assert np.array_equal(spinla.flip(a).raw, np.flip(x))
    assert np.array_equal(spinla.flip(a, axis=0).raw, np.flip(x, 0))
    assert np.array_equal(spinla.reshape(a, (-1,)).raw, x.reshape(-1))


@given(hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=9), st.data())
def test_basic_indexing_matches_numpy(shape, data):
    a, x = _arr(shape)
    key = tuple(data.draw(st.one_of(
        st.integers(-s, s - 1),
        st.builds(slice, st.none() | st.integers(-s, s), st.none() | st.integers(-s, s),
                  st.none() | st.sampled_from([1, 2, 3, -1, -2])))) for s in shape)
    assert np.array_equal(a[key].raw, x[key])
    assert np.array_equal(a[..., None, 0].raw, x[..., None, 0])


def test_index_errors():
    a, x = _arr((3, 4))
    with pytest.raises(IndexError, match="out of bounds for axis 1 with size 4"):
        a[0, 4]
    with pytest.raises(IndexError, match="too many indices"):
        a[0, 0, 0]
    # integer-array indexing is supported now (tests/test_array_api_indexing.py); a float
    # index is still refused
    assert np.array_equal(a[np.array([0, 1])].raw, x[[0, 1]])
    with pytest.raises(IndexError, match="valid indices"):
        a[1.5]


def test_pad_concat_stack_broadcast_take():
    a, x = _arr((2, 3))
    assert np.array_equal(spinla.pad(a, ((1, 0), (2, 1))).raw, np.pad(x, ((1, 0), (2, 1))))
    b, y = _arr((2, 5), seed=1)
    assert np.array_equal(spinla.concat([a, b], axis=1).raw, np.concatenate([x, y], 1))
    assert np.array_equal(spinla.stack([a, a], axis=1).raw, np.stack([x, x], 1))
    assert np.array_equal(spinla.broadcast_to(a[0], (4, 3)).raw, np.broadcast_to(x[0], (4, 3)))
    assert np.array_equal(spinla.take(a, np.array([1, 0, 1]), axis=0).raw, x[[1, 0, 1]])
    with pytest.raises(ValueError, match="concat: all the input array dimensions"):
        spinla.concat([a, b], axis=0)
    with pytest.raises(ValueError, match=r"broadcast_to: cannot broadcast shape \(2, 3\)"):
        spinla.broadcast_to(a, (3, 3))
    with pytest.raises(IndexError, match="take: index out of range"):
        spinla.take(a, np.array([2]), axis=0)


def test_pad_uses_the_format_of_the_array():
    a = spinla.asarray([[0.5]], fmt=12)
    p = spinla.pad(a, 1, constant_values=0.25)
    assert p.raw.tolist() == [[1024] * 3, [1024, 2048, 1024], [1024] * 3]


def test_concat_aligns_formats():
    a = spinla.asarray([1.5], fmt=14)
    b = spinla.asarray([3.0], fmt=12)
    c = spinla.concat([a, b])
    assert c.fmt == spinla.q(12) and c.to_numpy().tolist() == [1.5, 3.0]


def test_astype_rounds_and_saturates():
    a = spinla.asarray([0.1, -0.1, 3.0], fmt=13)
    b = spinla.astype(a, 8)
    assert b.to_numpy().tolist() == [round(0.1 * 256) / 256, round(-0.1 * 256) / 256, 3.0]
    with pytest.warns(spinla.SaturationWarning, match="astype"):
        c = spinla.astype(a, 14)
    assert c.raw[2] == 32767 and spinla.stats().saturated["astype"] == 1
