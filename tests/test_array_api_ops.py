"""The standard's creation, statistics, searching/sorting/set and manipulation names against
NumPy, on data the formats hold exactly (so most comparisons are exact)."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import spinla as sp
from arrays import raw_array

shapes = st.lists(st.integers(1, 5), min_size=1, max_size=3).map(tuple)


def _rand(shape, frac=10, seed=0, lo=-32768, hi=32768):
    x = np.random.default_rng(seed).integers(lo, hi, size=shape, dtype=np.int16)
    return raw_array(x, frac), x


@given(shapes, st.data())
def test_sort_argsort_stable_like_numpy(shape, data):
    vals = data.draw(st.lists(st.integers(-3, 3), min_size=int(np.prod(shape)),
                              max_size=int(np.prod(shape))))
    x = np.array(vals, np.int16).reshape(shape)
    a = raw_array(x, 12)
    ax = data.draw(st.integers(-len(shape), len(shape) - 1))
    np.testing.assert_array_equal(sp.sort(a, axis=ax).raw, np.sort(x, axis=ax))
    np.testing.assert_array_equal(sp.argsort(a, axis=ax).raw,
                                  np.argsort(x, axis=ax, kind="stable"))
    # descending and stable: ties keep their original order
    want = np.argsort(-x.astype(int), axis=ax, kind="stable")
    np.testing.assert_array_equal(sp.argsort(a, axis=ax, descending=True).raw, want)
    np.testing.assert_array_equal(sp.sort(a, axis=ax, descending=True).raw,
                                  np.take_along_axis(x, want, axis=ax))


def test_searchsorted_unique_nonzero_isin():
    s = sp.asarray([0.0, 0.5, 0.5, 1.25, 3.0])
    v = sp.asarray([-1.0, 0.5, 0.75, 4.0])
    for side in ("left", "right"):
        np.testing.assert_array_equal(sp.searchsorted(s, v, side=side).tolist(),
                                      np.searchsorted(s.to_numpy(), v.to_numpy(), side=side))
    x = np.array([3, 1, 3, 0, 1, 3])
    a = sp.asarray(x)
    vals, first, inv, counts = np.unique(x, return_index=True, return_inverse=True,
                                         return_counts=True)
    assert sp.unique_values(a).tolist() == vals.tolist()
    r = sp.unique_all(a)
    assert r.indices.tolist() == first.tolist() and r.counts.tolist() == counts.tolist()
    assert r.inverse_indices.tolist() == inv.tolist()
    assert sp.unique_counts(a).counts.tolist() == counts.tolist()
    assert sp.unique_inverse(a).inverse_indices.tolist() == inv.tolist()
    m = np.array([[0, 2], [1, 0]])
    got = sp.nonzero(sp.asarray(m))
    assert [g.tolist() for g in got] == [n.tolist() for n in np.nonzero(m)]
    assert sp.count_nonzero(sp.asarray(m)).tolist() == 2
    np.testing.assert_array_equal(sp.count_nonzero(sp.asarray(m), axis=0).tolist(), [1, 1])
    # isin compares exactly across formats (0.5 in q1.14 equals 0.5 in q7.8)
    got = sp.isin(sp.asarray([0.5, 0.25, 1.0], fmt=sp.q(14)), sp.asarray([0.5, 1.0], fmt=sp.q(8)))
    assert got.tolist() == [True, False, True]


def test_host_ops_refuse_to_trace_and_large_indices():
    f = sp.jit(lambda x: sp.sort(x))
    with pytest.raises(RuntimeError, match="runs on the host"):
        f(sp.asarray([2.0, 1.0]))
    with pytest.raises(OverflowError, match="exceeds int16"):
        sp.nonzero(sp.ones((40000,), fmt=sp.int16))


@given(shapes, st.data())
def test_moveaxis_roll_tile_repeat_unstack(shape, data):
    a, x = _rand(shape, seed=len(shape))
    nd = len(shape)
    src = data.draw(st.integers(-nd, nd - 1))
    dst = data.draw(st.integers(-nd, nd - 1))
    np.testing.assert_array_equal(sp.moveaxis(a, src, dst).raw, np.moveaxis(x, src, dst))
    sh = data.draw(st.integers(-7, 7))
    ax = data.draw(st.sampled_from([None] + list(range(nd))))
    np.testing.assert_array_equal(sp.roll(a, sh, axis=ax).raw, np.roll(x, sh, axis=ax))
    reps = tuple(data.draw(st.lists(st.integers(0, 3), min_size=1, max_size=4)))
    np.testing.assert_array_equal(sp.tile(a, reps).raw, np.tile(x, reps))
    r = data.draw(st.integers(0, 3))
    np.testing.assert_array_equal(sp.repeat(a, r, axis=ax).raw, np.repeat(x, r, axis=ax))
    ax0 = data.draw(st.integers(0, nd - 1))
    counts = np.array(data.draw(st.lists(st.integers(0, 2), min_size=shape[ax0],
                                         max_size=shape[ax0])))
    np.testing.assert_array_equal(sp.repeat(a, counts, axis=ax0).raw,
                                  np.repeat(x, counts, axis=ax0))
    parts = sp.unstack(a, axis=ax0)
    assert len(parts) == shape[ax0]
    for i, p in enumerate(parts):
        np.testing.assert_array_equal(p.raw, np.take(x, i, axis=ax0))


def test_expand_dims_tuple_broadcast_arrays_shapes_diff():
    a, x = _rand((2, 3))
    assert sp.expand_dims(a, axis=(0, -1)).shape == np.expand_dims(x, (0, -1)).shape
    assert sp.expand_dims(a, axis=1).shape == (2, 1, 3)
    with pytest.raises(ValueError, match="repeated axis"):
        sp.expand_dims(a, axis=(1, 1))
    b, y = _rand((4, 1, 3), seed=2)
    for got, want in zip(sp.broadcast_arrays(a, b), np.broadcast_arrays(x, y)):
        np.testing.assert_array_equal(got.raw, want)
    assert sp.broadcast_shapes((2, 1), (3, 1, 4)) == (3, 2, 4)
    assert sp.broadcast_shapes() == () == np.broadcast_shapes()
    assert sp.broadcast_shapes((5, 3)) == (5, 3)
    with pytest.raises(ValueError, match="broadcast_shapes"):
        sp.broadcast_shapes((2,), (3,))
    v = sp.asarray([1.0, 4.0, 9.0, 16.0], fmt=sp.q(9))
    np.testing.assert_array_equal(sp.diff(v).to_numpy(), np.diff(v.to_numpy()))
    np.testing.assert_array_equal(sp.diff(v, n=2, prepend=sp.asarray([0.0], fmt=sp.q(9)))
                                  .to_numpy(), np.diff(v.to_numpy(), n=2, prepend=0))


def test_creation():
    np.testing.assert_array_equal(sp.arange(5).tolist(), np.arange(5))
    assert sp.arange(5).fmt == sp.int16
    np.testing.assert_array_equal(sp.arange(1.0, 2.0, 0.25).to_numpy(), np.arange(1, 2, .25))
    np.testing.assert_array_equal(sp.linspace(0, 1, 5).to_numpy(), np.linspace(0, 1, 5))
    np.testing.assert_array_equal(sp.linspace(0, 1, 4, endpoint=False).to_numpy(),
                                  np.linspace(0, 1, 4, endpoint=False))
    assert sp.empty((2, 3)).shape == (2, 3) and sp.empty_like(sp.ones((4,))).shape == (4,)
    gx, gy = sp.meshgrid(sp.arange(3), sp.arange(2))
    nx, ny = np.meshgrid(np.arange(3), np.arange(2))
    np.testing.assert_array_equal(gx.tolist(), nx)
    np.testing.assert_array_equal(gy.tolist(), ny)
    ix, iy = sp.meshgrid(sp.arange(3), sp.arange(2), indexing="ij")
    np.testing.assert_array_equal(ix.tolist(), np.meshgrid(np.arange(3), np.arange(2),
                                                           indexing="ij")[0])
    a, x = _rand((2, 4, 5))
    for k in (-1, 0, 2):
        np.testing.assert_array_equal(sp.tril(a, k=k).raw, np.tril(x, k))
        np.testing.assert_array_equal(sp.triu(a, k=k).raw, np.triu(x, k))
    np.testing.assert_array_equal(sp.from_dlpack(np.arange(3.0)).to_numpy(), [0, 1, 2])
    with pytest.raises(TypeError):
        sp.empty((2, 2.5))


def test_cumulative_sum_is_exact_and_prod_var_std():
    a, x = _rand((3, 8), frac=12, lo=-2000, hi=2000)
    v = a.to_numpy()
    cs = sp.cumulative_sum(a, axis=1)
    assert cs.fmt == sp.q(9)  # three bits of headroom for 8 terms: cannot saturate
    # exact integer sums, rounded once: within half an output LSB
    np.testing.assert_allclose(cs.to_numpy(), np.cumsum(v, axis=1), rtol=0, atol=2**-10)
    ci = sp.cumulative_sum(a, axis=0, include_initial=True)
    np.testing.assert_allclose(ci.to_numpy()[1:], np.cumsum(v, axis=0), rtol=0, atol=2**-11)
    assert ci.to_numpy()[0].tolist() == [0.0] * 8
    p = sp.asarray([1.5, 0.5, -2.0, 1.25], fmt=sp.q(10))
    assert float(sp.prod(p)) == float(np.prod(p.to_numpy()))
    np.testing.assert_array_equal(sp.cumulative_prod(p).to_numpy(), np.cumprod(p.to_numpy()))
    for corr in (0, 1):
        np.testing.assert_allclose(sp.var(a, axis=1, correction=corr).to_numpy(),
                                   np.var(v, axis=1, ddof=corr), atol=2**-7)
    np.testing.assert_allclose(sp.std(a).to_numpy(), np.std(v), atol=2**-6)
    with pytest.raises(ValueError, match="degrees"):
        sp.var(sp.asarray([1.0]), correction=1)


def test_tensordot_vecdot_match_numpy():
    a, x = _rand((2, 3, 4), frac=14, lo=-3000, hi=3000)
    b, y = _rand((4, 3, 5), frac=14, seed=1, lo=-3000, hi=3000)
    u, w = a.to_numpy(), b.to_numpy()
    got = sp.tensordot(a, b, axes=([1, 2], [1, 0]), fmt=sp.q(10))
    np.testing.assert_allclose(got.to_numpy(), np.tensordot(u, w, axes=([1, 2], [1, 0])),
                               atol=2**-11)
    c, _ = _rand((2, 3, 4), frac=14, seed=3, lo=-3000, hi=3000)
    got = sp.vecdot(a, c, axis=1, fmt=sp.q(12))
    np.testing.assert_allclose(got.to_numpy(), np.sum(u * c.to_numpy(), axis=1), atol=2**-13)
