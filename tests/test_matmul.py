"""matmul: bit-exact against the NumPy integer reference, bounded against float64."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import qref
import spinla

dims = st.sampled_from([1, 2, 3, 4, 5, 7, 13, 17, 31, 64, 97])


def _rand(rng, shape, fmt, scale):
    return spinla.asarray(np.clip(rng.normal(0, scale, shape), fmt.min, fmt.max), fmt=fmt)


@given(dims, dims, dims, st.integers(8, 15), st.integers(8, 15), st.integers(0, 2**32 - 1))
def test_matmul_bit_exact(m, k, n, fa, fb, seed):
    rng = np.random.default_rng(seed)
    a = _rand(rng, (m, k), spinla.q(fa), 1.0)
    b = _rand(rng, (k, n), spinla.q(fb), 1.0)
    fo = min(fa, fb)
    spinla.reset_stats()
    c = spinla.matmul(a, b, fmt=fo)   # the default format is tested in test_semantics.py
    ref, sat = qref.matmul(a.raw, b.raw, fa, fb, fo)
    assert c.fmt == spinla.q(fo)
    assert np.array_equal(c.raw, ref)
    assert spinla.stats().saturated.get("matmul", 0) == sat


def test_matmul_within_rounding_bound_of_float64(rng):
    a = rng.uniform(-1, 1, (64, 300))
    b = rng.uniform(-0.1, 0.1, (300, 50))
    A, B = spinla.asarray(a, fmt=14), spinla.asarray(b, fmt=15)
    C = spinla.matmul(A, B, fmt=11)
    # Error of the exact product of the quantised inputs: one rounding (half an LSB)...
    exact_q = A.to_numpy() @ B.to_numpy()
    assert np.max(np.abs(C.to_numpy() - exact_q)) <= 2.0 ** -12
    # ...plus the input quantisation, bounded by sum_k |a| e_b + |b| e_a + e_a e_b.
    ea, eb = 2.0 ** -15, 2.0 ** -16
    bound = 2.0 ** -12 + np.abs(a) @ np.full(b.shape, eb) + np.full(a.shape, ea) @ np.abs(b) \
        + a.shape[1] * ea * eb
    assert np.all(np.abs(C.to_numpy() - a @ b) <= bound)


def test_extreme_values_accumulate_exactly():
    # -32768 * -32768 = 2^30 per product: int32 would overflow after two of them.
    a = spinla.asarray(np.full((5, 1000), -32768, np.int64), fmt="int16")
    b = spinla.asarray(np.full((1000, 3), -32768, np.int64), fmt="int16")
    c = spinla.matmul(spinla.astype(a, 0), spinla.astype(b, 0), fmt=0)
    assert np.all(c.raw == 32767)   # exact 1000 * 2^30, saturated, not wrapped
    assert spinla.stats().saturated["matmul"] == 15


@pytest.mark.parametrize("machine", ["spinn3", "spinn5"])
def test_large_matmul_many_tiles_within_dtcm(machine, rng):
    spinla.set_machine(machine)
    a = _rand(rng, (300, 784), spinla.q(12), 0.5)
    b = _rand(rng, (784, 130), spinla.q(13), 0.1)
    prog = spinla.jit(lambda x, y: x @ y).program(a, b)
    m = spinla.machine.current()
    gemm = [c for c in prog.calls if c.kernel == "gemm_q15"][0]
    assert gemm.ntiles > m.cores if machine == "spinn3" else gemm.ntiles >= 64
    for call in prog.calls:
        assert np.all(call.dtcm <= m.tile_budget_bytes)
    ref, _ = qref.matmul(a.raw, b.raw, 12, 13, 12)
    assert np.array_equal(spinla.matmul(a, b, fmt=12).raw, ref)


def test_stochastic_rounding_reproducible_and_unbiased(rng):
    a = spinla.asarray(rng.uniform(-1, 1, (40, 64)), fmt=14)
    b = spinla.asarray(rng.uniform(-1, 1, (64, 40)), fmt=14)
    spinla.seed(3)
    c1 = spinla.matmul(a, b, fmt=6, rounding="stochastic")
    spinla.seed(3)
    c2 = spinla.matmul(a, b, fmt=6, rounding="stochastic")
    c3 = spinla.matmul(a, b, fmt=6, rounding="stochastic")
    assert np.array_equal(c1.raw, c2.raw) and not np.array_equal(c1.raw, c3.raw)
    exact = a.to_numpy() @ b.to_numpy()
    err = c1.to_numpy() - exact
    assert np.all(np.abs(err) < 2.0 ** -6)
    assert abs(err.mean()) < 2.0 ** -6 / 10   # nearest would be biased by up to 2^-7
    # Bits equal the reference's index-hashed bits.
    call = spinla.jit(lambda x, y: spinla.matmul(x, y, fmt=6, rounding="stochastic"))
    prog = call.program(a, b)
    out = call(a, b)
    gemm = [c for c in prog.calls if c.kernel == "gemm_q15"][0]
    seed = spinla.kernels.lib.spl_seed_mix(gemm.seed, 0)
    ref, _ = qref.requant(a.raw.astype(np.int64) @ b.raw.astype(np.int64).T.T, 14 + 14 - 6,
                          "stochastic", seed)
    assert np.array_equal(out.raw, ref)


def test_matmul_shapes_promotion_and_batches(rng):
    a = spinla.asarray(rng.uniform(-1, 1, (3, 4, 5)), fmt=13)
    b = spinla.asarray(rng.uniform(-1, 1, (5, 2)), fmt=13)
    v = spinla.asarray(rng.uniform(-1, 1, 5), fmt=13)
    assert (a @ b).shape == (3, 4, 2)
    assert (a @ v).shape == (3, 4)
    assert (v @ b).shape == (2,)
    bb = spinla.asarray(rng.uniform(-1, 1, (3, 5, 2)), fmt=13)
    c = a @ bb
    assert c.shape == (3, 4, 2)
    np.testing.assert_allclose(c.to_numpy(), a.to_numpy() @ bb.to_numpy(),
                               atol=2.0 ** -(c.fmt.frac + 1))


def test_matmul_errors_are_numpy_like():
    a = spinla.zeros((3, 4), fmt=12)
    b = spinla.zeros((5, 2), fmt=12)
    with pytest.raises(ValueError, match=r"matmul: .*mismatch in its core dimension 0.*size 5 "
                                         r"is different from 4"):
        a @ b
    with pytest.raises(ValueError, match="matmul: Input operand 0 does not have enough"):
        spinla.matmul(spinla.asarray(1.0), b)
    with pytest.raises(TypeError, match="matmul: unsupported operand type"):
        spinla.matmul(a, "x")


def test_no_tiling_fits_error_names_op_shapes_budget():
    a = spinla.zeros((2, 20000), fmt=12)
    b = spinla.zeros((20000, 2), fmt=12)
    with pytest.raises(ValueError, match=r"matmul: no tiling of shapes \(2, 20000\).*budget is "
                                         r"57344 bytes"):
        a @ b
