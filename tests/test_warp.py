"""warp_affine / encode_affine: bit-exact against qref_warp, exact identity, translations and
flips, the 1/2-LSB bound against float64 bilinear interpolation (and the encoding bound against
the float map), no saturation at the range's edges, tiling and cost, argument errors, jit."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import qref_warp as R
import spinla
from spinla.kernels import warp as kwarp
from spinla.tiling import TilingError

sides = st.sampled_from([1, 2, 3, 5, 8, 13, 28])


def _theta(rng, n, wild):
    """int16 theta: anything representable (wild) or distortions near the identity."""
    if wild:
        return rng.integers(-32768, 32768, (n, 6)).astype(np.int16)
    A = np.eye(2) + rng.uniform(-0.4, 0.4, (n, 2, 2))
    return kwarp.encode_affine(A, rng.uniform(-4, 4, (n, 2)))


def _raw(rng, shape, fmt):
    return spinla.asarray(rng.integers(-32768, 32768, shape).astype(np.int16) * fmt.scale,
                          fmt=fmt)


def _identity(n):
    return kwarp.encode_affine(np.tile(np.eye(2), (n, 1, 1)), np.zeros((n, 2)))


@given(st.integers(1, 3), sides, sides, st.sampled_from([None, 1, 2, 3]),
       st.sampled_from([0, 7, 12, 15, "int"]), st.booleans(), st.integers(0, 2**32 - 1))
def test_bit_exact_against_reference(n, h, w, c, frac, wild, seed):
    rng = np.random.default_rng(seed)
    fmt = spinla.INT16 if frac == "int" else spinla.q(frac)
    x = _raw(rng, (n, h, w) if c is None else (n, h, w, c), fmt)
    th = _theta(rng, n, wild)
    spinla.reset_stats()
    y = spinla.warp_affine(x, th)
    assert y.shape == x.shape and y.fmt == x.fmt
    ref = R.warp_affine(x.raw, th)
    assert np.array_equal(y.raw, ref)
    # A convex combination of the sample's values and the zero background: never beyond them,
    # so nothing saturates.
    flat = x.raw.reshape(n, -1).astype(np.int64)
    lo, hi = np.minimum(flat.min(1), 0), np.maximum(flat.max(1), 0)
    yf = y.raw.reshape(n, -1)
    assert np.all(yf >= lo[:, None]) and np.all(yf <= hi[:, None])
    assert spinla.stats().saturated.get("warp_affine", 0) == 0
    assert spinla.stats().calls["warp_affine"] == 1


@pytest.mark.parametrize("shape", [(3, 28, 28), (2, 7, 4), (2, 1, 1), (2, 5, 6, 3), (1, 4, 9)])
def test_identity_returns_the_input_exactly(shape, rng):
    x = _raw(rng, shape, spinla.q(12))
    assert np.array_equal(spinla.warp_affine(x, _identity(shape[0])).raw, x.raw)


def test_integer_translations_and_flips_are_exact_permutations(rng):
    x = _raw(rng, (3, 7, 9, 2), spinla.q(14))
    # Output (r, c) samples the source at (r + ty, c + tx): content moves by (-ty, -tx).
    t = np.array([[3.0, -2.0], [-9.0, 0.0], [0.0, 7.0]])
    y = spinla.warp_affine(x, kwarp.encode_affine(np.tile(np.eye(2), (3, 1, 1)), t)).raw
    for i, (tx, ty) in enumerate(t.astype(int)):
        expect = np.zeros_like(x.raw[i])
        src = x.raw[i][max(ty, 0):7 + min(ty, 0), max(tx, 0):9 + min(tx, 0)]
        expect[max(-ty, 0):max(-ty, 0) + src.shape[0],
               max(-tx, 0):max(-tx, 0) + src.shape[1]] = src
        assert np.array_equal(y[i], expect)
    # Flips about the centre and quarter turns of a square image land on pixel centres.
    xs = _raw(rng, (4, 6, 6), spinla.q(13))
    A = np.array([[[-1, 0], [0, 1]], [[1, 0], [0, -1]], [[0, -1], [1, 0]], [[-1, 0], [0, -1]]])
    y = spinla.warp_affine(xs, kwarp.encode_affine(A, np.zeros((4, 2)))).raw
    r = xs.raw
    assert np.array_equal(y[0], r[0][:, ::-1]) and np.array_equal(y[1], r[1][::-1])
    # y[r, c] = x[c, 5 - r]: NumPy's counter-clockwise quarter turn.
    assert np.array_equal(y[2], np.rot90(r[2])) and np.array_equal(y[3], r[3][::-1, ::-1])


def _distortions(rng, n):
    """Rotation, scaling, squeezing, shearing and translation, as in LeCun et al. 1998."""
    ang = rng.uniform(-0.3, 0.3, n)
    s = rng.uniform(0.8, 1.25, (n, 2))
    sh = rng.uniform(-0.3, 0.3, n)
    rot = np.stack([np.cos(ang), -np.sin(ang), np.sin(ang), np.cos(ang)], 1).reshape(n, 2, 2)
    shear = np.zeros((n, 2, 2))
    shear[:, 0, 0] = shear[:, 1, 1] = 1
    shear[:, 0, 1] = sh
    A = rot @ shear @ (np.eye(2) * s[:, None, :])
    return A, rng.uniform(-3, 3, (n, 2))


@pytest.mark.parametrize("shape,frac", [((16, 28, 28), 14), ((6, 9, 12, 3), 11)])
def test_float64_bilinear_within_half_an_lsb(shape, frac, rng):
    f = spinla.q(frac)
    x = spinla.asarray(rng.uniform(0, 1.9, shape) * (f.max / 2), fmt=f)
    A, t = _distortions(rng, shape[0])
    th = kwarp.encode_affine(A, t)
    y = spinla.warp_affine(x, th).to_numpy()
    # The documented bound: the exact interpolation at the encoded point, rounded once.
    exact = R.warp_affine_float(x.to_numpy(), *R.decode_affine(th))
    err = np.abs(y - exact)
    assert err.max() <= f.scale / 2 * (1 + 1e-9)
    assert err.max() > f.scale / 4          # it does round (the test is not vacuous)
    # Against the float map itself, add the encoding: the point moves by at most
    # 2^-13 (|c - cx| + |r - cy|) + 2^-9 pixels per axis, times the image's slope.
    xp = np.pad(x.to_numpy(), [(0, 0), (1, 1), (1, 1)] + [(0, 0)] * (len(shape) - 3))
    slope = max(np.abs(np.diff(xp, axis=1)).max(), np.abs(np.diff(xp, axis=2)).max())
    h, w = shape[1:3]
    move = 2.0 ** -13 * ((h - 1) / 2 + (w - 1) / 2) + 2.0 ** -9
    meant = R.warp_affine_float(x.to_numpy(), A, t)
    assert np.abs(y - meant).max() <= f.scale / 2 + 2 * move * slope + 1e-12


def test_range_edges_never_saturate():
    f = spinla.q(15)
    A = np.array([[[1.1, 0.2], [-0.1, 0.9]]] * 2)
    th = kwarp.encode_affine(A, np.array([[0.3, 0.7], [-0.45, 0.2]]))
    for v in (-32768, 32767):
        x = spinla.asarray(np.full((2, 12, 12), v * f.scale), fmt=f)
        y = spinla.warp_affine(x, th).raw
        assert np.array_equal(y, R.warp_affine(x.raw, th))
        assert np.sum(y == v) > 50                       # interior: exactly v again
        assert np.all(y * np.sign(v) >= 0) and np.all(np.abs(y.astype(int)) <= abs(v))
    # Extremes side by side: every sum of four weighted values stays in range.
    cb = np.where(np.indices((12, 12)).sum(0) % 2 == 0, -32768, 32767).astype(np.int16)
    x = spinla.asarray(np.stack([cb, cb]) * f.scale, fmt=f)
    y = spinla.warp_affine(x, th)
    assert np.array_equal(y.raw, R.warp_affine(x.raw, th))
    assert spinla.stats().total_saturated == 0


def test_encode_affine_rounds_to_nearest_and_rejects_out_of_range():
    lsb = 2.0 ** -12
    A = np.array([[[1, 0.5 * lsb], [-0.5 * lsb, 1.5 * lsb]], [[-8, 8 - lsb], [0, 0]]])
    t = np.array([[0.5 / 256, -0.5 / 256], [-128, 128 - 1 / 256]])
    th = spinla.encode_affine(A, t)
    assert th.dtype == np.int16 and th.shape == (2, 6)
    assert th.tolist() == [[4096, 1, 0, 2, 1, 0], [-32768, 32767, 0, 0, -32768, 32767]]
    with pytest.raises(ValueError, match=r"encode_affine: sample 1: a01 = 8\.0 is outside"):
        spinla.encode_affine(np.array([np.eye(2), [[0, 8], [0, 1]]]), np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"sample 2: ty = -128\.5 is outside .*q7\.8"):
        tt = np.zeros((3, 2))
        tt[2, 1] = -128.5
        spinla.encode_affine(np.tile(np.eye(2), (3, 1, 1)), tt)
    with pytest.raises(ValueError, match="sample 0: a10 = nan"):
        spinla.encode_affine(np.array([[[1, 0], [np.nan, 1]]]), np.zeros((1, 2)))
    with pytest.raises(ValueError, match=r"A must have shape \(N, 2, 2\), got \(2, 2\)"):
        spinla.encode_affine(np.eye(2), np.zeros((1, 2)))
    with pytest.raises(ValueError, match=r"t must have shape \(N, 2\) = \(1, 2\)"):
        spinla.encode_affine(np.eye(2)[None], np.zeros(2))


def test_bad_inputs_raise_before_any_work(rng):
    x = _raw(rng, (2, 5, 5), spinla.q(12))
    th = _identity(2)
    cases = [
        (ValueError, r"warp_affine: x must be \(N, H, W\) or \(N, H, W, C\), got shape \(5, 5\)",
         x.raw[0], th),
        (ValueError, r"theta must have shape \(N, 6\) = \(2, 6\) for x of shape \(2, 5, 5\), "
                     r"got \(3, 6\)", x, _identity(3)),
        (ValueError, r"got \(2, 5\)", x, th[:, :5].copy()),
        (TypeError, "theta must be int16 .* dtype float64", x, th.astype(np.float64)),
        (TypeError, "format int16, from spinla.encode_affine\\), got format q3.12", x,
         spinla.asarray(th / 4096, fmt=12)),
        (TypeError, "got list", x, th.tolist()),
        (TypeError, "x must hold numbers, got a bool16 array", spinla.asarray(x.raw > 0), th),
        (ValueError, "image sides must be at most 16384", np.zeros((1, 1, 16385), np.int16),
         th[:1]),
    ]
    spinla.reset_stats()
    for err, msg, xa, ta in cases:
        with pytest.raises(err, match=msg):
            spinla.warp_affine(xa, ta)
    assert not spinla.stats().calls
    with pytest.raises(TilingError, match=r"warp_affine: no tiling of shapes \(1, 128, 128\)"):
        spinla.warp_affine(spinla.zeros((1, 128, 128), fmt=12), th[:1])
    empty = spinla.warp_affine(spinla.zeros((0, 4, 4), fmt=12), np.zeros((0, 6), np.int16))
    assert empty.shape == (0, 4, 4) and empty.fmt == spinla.q(12)


def test_tiles_cover_the_samples_and_fit_dtcm(rng):
    spinla.set_machine("spinn3")                 # 64 cores: several samples per tile
    m = spinla.machine.current()
    x = _raw(rng, (700, 28, 28), spinla.q(15))
    A, t = _distortions(rng, 700)
    th = spinla.asarray(kwarp.encode_affine(A, t), fmt=spinla.INT16)
    prog = spinla.jit(spinla.warp_affine).program(x, th)
    (call,) = prog.calls
    tl = call.tiles
    assert tl[0, 0] == 0 and tl[-1, 1] == 700 and np.array_equal(tl[1:, 0], tl[:-1, 1])
    assert (tl[:, 1] - tl[:, 0]).max() > 1 and np.all(call.dtcm <= m.tile_budget_bytes)
    assert np.array_equal(call.dma_out, (tl[:, 1] - tl[:, 0]) * 2 * 784)
    cyc = spinla.kernels.KERNELS[call.kernel].cycles(call, m)
    per_elem = spinla.kernels.cycle_table.TABLE["warp"]["per_elem"].value
    assert np.all(cyc > 784 * (tl[:, 1] - tl[:, 0]) * per_elem)
    cost = spinla.cost_of(prog)
    assert 0 < cost.time_s < 1 and cost.energy_j > 0
    assert np.array_equal(spinla.warp_affine(x, th).raw, R.warp_affine(x.raw, th.raw))


def test_inside_jit(rng):
    x = _raw(rng, (4, 10, 10, 2), spinla.q(14))
    step = spinla.jit(lambda a, th: spinla.avg_pool2d(spinla.warp_affine(a, th)))
    for _ in range(2):
        A, t = _distortions(rng, 4)
        th = spinla.asarray(kwarp.encode_affine(A, t), fmt=spinla.INT16)
        eager = spinla.avg_pool2d(spinla.warp_affine(x, th))
        assert np.array_equal(step(x, th).raw, eager.raw)
    assert len(step.programs) == 1 and step.program(x, th).runs == 2
    assert step.program(x, th).calls[0].kernel == "warp_affine_q15"
    # A NumPy theta becomes a constant of the traced Program.
    const = kwarp.encode_affine(A, t)
    fixed = spinla.jit(lambda a: spinla.warp_affine(a, const))
    assert np.array_equal(fixed(x).raw, R.warp_affine(x.raw, const))
    assert spinla.stats().calls["warp_affine"] == 5
