"""The fused optimiser kernels (spinla_c/optim_q15.c): bit-exact against the NumPy integer
reference (tests/qref_optim.py), close to float64 SGD/Adam, unbiased stochastic rounding,
tiles within DTCM, saturation counted, bad input rejected."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import qref_optim as R
import spinla as sp
from spinla.kernels import KERNELS, lib
from spinla.kernels import optim as kopt
from spinla.nn.optimizers import adam_update, lr_array, sgd_update
from spinla.program import Buffer


def arr(a, frac):
    a = np.ascontiguousarray(a, dtype=np.int16)
    return sp.Array(Buffer(a.shape, sp.q(frac), data=a))


def run_seed(jitted, *args):
    """(outputs, the seed the emulator gives the program's only call on this run)."""
    prog = jitted.program(*args)
    (call,) = prog.calls
    seed = int(lib.spl_seed_mix(call.seed, prog.runs)) if call.stochastic else 0
    return jitted(*args), seed, call


def rand_tensors(rng, n, g_scale=3000):
    w = rng.integers(-32768, 32768, n).astype(np.int16)
    g = rng.integers(-g_scale, g_scale + 1, n).astype(np.int16)
    m = rng.integers(-4000, 4001, n).astype(np.int16)
    r = np.abs(rng.normal(0, 3000, n)).clip(0, 32767).astype(np.int16)
    return w, g, m, r


# --- bit-exact against the integer reference ---------------------------------------------

@pytest.mark.parametrize("machine", ["spinn3", "spinn5"])
@pytest.mark.parametrize("mode", ["stochastic", "nearest"])
@pytest.mark.parametrize("n", [1, 7, 1009, 20011])
def test_adam_bit_exact(machine, mode, n):
    sp.set_machine(machine)
    rng = np.random.default_rng(n)
    w, g, m, r = rand_tensors(rng, n)
    for fw, fg, fs, E, L in [(13, 10, 10, 10, 20000), (13, 9, 12, 11, 31000), (12, 7, 9, 9, 5)]:
        j = sp.jit(lambda W, G, M, Rr, lr: adam_update(W, G, M, Rr, lr, E, rounding=mode))
        args = (arr(w, fw), arr(g, fg), arr(m, fs), arr(r, fs), lr_array(L))
        sp.reset_stats()
        out, seed, call = run_seed(j, *args)
        wo, mo, ro, sat = R.adam(w, g, m, r, L, call.params, mode, seed)
        np.testing.assert_array_equal(out[0].raw, wo)
        np.testing.assert_array_equal(out[1].raw, mo)
        np.testing.assert_array_equal(out[2].raw, ro)
        assert sp.stats().saturated.get("adam_update", 0) == sat
        assert all(d <= sp.machine.current().tile_budget_bytes for d in call.dtcm)


@pytest.mark.parametrize("mode", ["stochastic", "nearest"])
@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("n", [3, 4099])
def test_sgd_bit_exact(mode, momentum, n):
    sp.set_machine("spinn3")
    rng = np.random.default_rng(n)
    w, g, _, _ = rand_tensors(rng, n)
    v = rng.integers(-20000, 20001, n).astype(np.int16)
    for fw, fg, fv, E in [(13, 10, 17 - 2, 12), (13, 6, 13, 9)]:
        def step(W, G, V, lr):
            return sgd_update(W, G, lr, E, v=V if momentum else None, momentum=momentum,
                              rounding=mode)
        j = sp.jit(step)
        args = (arr(w, fw), arr(g, fg), arr(v, fv), lr_array(12345))
        sp.reset_stats()
        out, seed, call = run_seed(j, *args)
        out = out if isinstance(out, tuple) else (out,)
        wo, vo, sat = R.sgd(w, g, v, 12345, call.params, mode, seed)
        np.testing.assert_array_equal(out[0].raw, wo)
        if momentum:
            np.testing.assert_array_equal(out[1].raw, vo)
        assert sp.stats().saturated.get("sgd_update", 0) == sat


@given(st.integers(0, 2**62 - 1))
def test_table_sqrt_matches_reference_and_is_accurate(v):
    got = int(lib.spl_sqrt_u62(v))
    assert got == int(R.sqrt_u62(np.array([v], np.uint64))[0])
    exact = math.isqrt(v)
    assert abs(got - exact) <= max(1, exact * 2.0 ** -18)


@given(st.integers(0, 2**30 - 1), st.integers(1, 2**32 - 1))
def test_table_ratio_matches_reference_and_is_accurate(num, den):
    got = int(lib.spl_ratio_q16(num, den))
    assert got == int(R.ratio_q16(np.array([num], np.uint64), np.array([den], np.uint64))[0])
    exact = num * 65536 / den
    assert abs(got - exact) <= exact * 2.0 ** -18 + 1


def test_kernel_run_with_explicit_seed():
    """The registered emulator binding itself, fed a seed directly."""
    rng = np.random.default_rng(5)
    w, g, m, r = rand_tensors(rng, 333)
    j = sp.jit(lambda W, G, M, Rr, lr: adam_update(W, G, M, Rr, lr, 10, rounding="stochastic"))
    args = (arr(w, 13), arr(g, 10), arr(m, 11), arr(r, 11), lr_array(9000))
    (call,) = j.program(*args).calls
    for seed in (0, 1, 0xDEADBEEF):
        outs = [np.empty(333, np.int16) for _ in range(3)]
        sat = KERNELS["adam_q15"].run(call, [w, g, m, r, np.array([9000], np.int16)], outs, seed)
        ref = R.adam(w, g, m, r, 9000, call.params, "stochastic", seed)
        for o, e in zip(outs, ref[:3]):
            np.testing.assert_array_equal(o, e)
        assert sat == ref[3]


# --- against float64 ------------------------------------------------------------------------

def test_adam_tracks_float_adam():
    """50 Adam steps on a fixed gradient sequence against float64 Adam (with the kernel's eps
    floor of one LSB of r).  Each step's weight rounding is unbiased with variance <= 1/4
    LSB^2, so after T steps the difference is a random walk of rms <= sqrt(T)/2 LSB (3.5 for
    T = 50) with zero mean; the table square root and reciprocal (2^-18) add nothing
    visible."""
    rng = np.random.default_rng(0)
    n, steps, fw, fg, fs = 4000, 50, 13, 8, 11
    b1, b2, lr = 0.9, 0.999, 1e-3
    w0 = rng.normal(0, 0.3, n)
    grads = rng.normal(0, 1, (steps, n)) * rng.uniform(0.05, 2, n) + rng.normal(0, 0.5, n)
    gq = np.clip(np.round(grads * 2 ** fg), -32768, 32767).astype(np.int16)
    E = kopt.lr_exponent(lr)
    W, M, Rr = sp.asarray(w0, fmt=fw), sp.zeros((n,), fmt=fs), sp.zeros((n,), fmt=fs)
    j = sp.jit(lambda W, G, M, Rr, lr: adam_update(W, G, M, Rr, lr, E, beta1=b1, beta2=b2,
                                                  eps=1e-7, rounding="stochastic"))
    wf, mf, vf = W.to_numpy().copy(), np.zeros(n), np.zeros(n)
    eps = 2.0 ** -fs  # the kernel's floor: one LSB of r
    for t in range(1, steps + 1):
        lr_t = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        W, M, Rr = j(W, arr(gq[t - 1], fg), M, Rr, lr_array(kopt.lr_mantissa(lr_t, E)))
        g = gq[t - 1] * 2.0 ** -fg
        mf = b1 * mf + (1 - b1) * g
        vf = b2 * vf + (1 - b2) * g * g
        wf -= lr_t * mf / (np.sqrt(vf) + eps)
    err = (W.to_numpy() - wf) * 2 ** fw
    assert np.abs(wf - w0).mean() * 2 ** fw > 100            # the weights moved a lot
    assert np.sqrt(np.mean(err ** 2)) <= math.sqrt(steps) / 2 + 0.5
    assert abs(err.mean()) < 0.25                               # no drift (std ~0.05)
    assert np.abs(err).max() < 6 * (math.sqrt(steps) / 2 + 0.5)


def test_sgd_one_step_within_one_lsb_of_float():
    rng = np.random.default_rng(1)
    n = 5000
    w = rng.integers(-20000, 20000, n).astype(np.int16)
    g = rng.integers(-30000, 30000, n).astype(np.int16)
    for mode, bound in (("nearest", 0.5), ("stochastic", 1.0)):
        lr, E = 0.003, kopt.lr_exponent(0.003)
        L = kopt.lr_mantissa(lr, E)
        out = sgd_update(arr(w, 13), arr(g, 9), lr_array(L), E, rounding=mode)
        exact = w * 2.0 ** -13 - L * 2.0 ** -(15 + E) * g * 2.0 ** -9
        assert np.abs(out.to_numpy() - exact).max() * 2 ** 13 <= bound
        assert abs(L * 2.0 ** -(15 + E) - lr) / lr < 2 ** -12


def test_sgd_momentum_matches_float_velocity():
    """20 momentum steps against float64.  Rounding noise is unbiased: the weight's own
    rounding adds variance <= 1/4 LSB^2 a step; the velocity's (<= 1/4 of its LSB^2, i.e.
    (2^(fw - fv) / 2)^2 weight-LSB^2) reaches the weight amplified by up to 1/(1 - mu)."""
    rng = np.random.default_rng(2)
    n, mu, lr, T, fw, fv = 3000, 0.9, 0.01, 20, 13, 15
    E = kopt.lr_exponent(lr)
    W, V = sp.asarray(rng.normal(0, 0.5, n), fmt=fw), sp.zeros((n,), fmt=fv)
    wf, vf = W.to_numpy().copy(), np.zeros(n)
    j = sp.jit(lambda W, G, V, lr: sgd_update(W, G, lr, E, v=V, momentum=mu,
                                              rounding="stochastic"))
    for _ in range(T):
        g = rng.normal(0, 1, n)
        G = sp.asarray(g, fmt=11)
        W, V = j(W, G, V, lr_array(kopt.lr_mantissa(lr, E)))
        gq = G.to_numpy()
        vf = mu * vf - lr * gq
        wf = wf + vf
    err = (W.to_numpy() - wf) * 2 ** fw
    bound = math.sqrt(T * (0.25 + (0.5 * 2.0 ** (fw - fv) / (1 - mu)) ** 2))
    assert np.sqrt(np.mean(err ** 2)) <= bound
    assert abs(err.mean()) < 0.25
    verr = (V.to_numpy() - vf) * 2 ** fv
    assert np.sqrt(np.mean(verr ** 2)) <= math.sqrt(0.25 / (1 - mu * mu)) + 0.1


def test_stochastic_rounding_keeps_sub_lsb_updates():
    """An update of 0.1 LSB per step: stochastic rounding moves the weight by ~0.1 LSB per
    step on average, round-to-nearest never moves it (Gupta et al. 2015)."""
    n, steps = 4000, 100
    w = np.zeros(n, np.int16)
    g = np.full(n, -1, np.int16)            # g = -2^-10
    E = 10
    L = 3277                                # lr = 3277 2^-25 ~ 0.1 LSB of q2.13 per 2^-10
    moved = {}
    for mode in ("stochastic", "nearest"):
        W = arr(w, 13)
        j = sp.jit(lambda W, G, lr: sgd_update(W, G, lr, E, rounding=mode))
        for _ in range(steps):
            W = j(W, arr(g, 10), lr_array(L))
        moved[mode] = W.raw.astype(np.int64).mean()
    expect = steps * L * 2.0 ** -(15 + E) * 2 ** -10 * 2 ** 13
    assert abs(moved["stochastic"] - expect) < 0.05 * expect
    assert moved["nearest"] == 0


def test_stochastic_rounding_reproducible():
    rng = np.random.default_rng(3)
    w, g, m, r = rand_tensors(rng, 999)
    outs = []
    for _ in range(2):
        sp.seed(77)
        args = (arr(w, 13), arr(g, 10), arr(m, 10), arr(r, 10), lr_array(20000))
        j = sp.jit(lambda *a: adam_update(*a, 10, rounding="stochastic"))
        outs.append([o.raw.copy() for o in j(*args)])
    for a, b in zip(*outs):
        np.testing.assert_array_equal(a, b)


# --- saturation, tiling, errors ----------------------------------------------------------------

def test_saturation_counted_and_warned():
    w = np.full(100, 32700, np.int16)
    g = np.full(100, -30000, np.int16)
    with pytest.warns(sp.SaturationWarning, match="sgd_update"):
        out = sgd_update(arr(w, 13), arr(g, 8), lr_array(30000), 6, rounding="nearest")
    assert (out.raw == 32767).all()
    assert sp.stats().saturated["sgd_update"] == 100


def test_adam_clips_gradients_beyond_the_state_format():
    g = np.array([30000, -30000, 10], np.int16)
    z = np.zeros(3, np.int16)
    with pytest.warns(sp.SaturationWarning):
        w, m, r = adam_update(arr(z, 13), arr(g, 8), arr(z, 12), arr(z, 12), lr_array(100), 10)
    assert sp.stats().saturated["adam_update"] >= 2
    # the clipped gradient enters m as the state's largest value times (1 - b1)
    assert abs(m.raw[0] - round(0.1 * 32767)) <= 1 and abs(m.raw[1] + round(0.1 * 32767)) <= 1


def test_tiles_fit_dtcm_with_many_tiles():
    sp.set_machine("spinn3")
    n = 300_000
    z = np.zeros(n, np.int16)
    j = sp.jit(lambda *a: adam_update(*a, 10))
    (call,) = j.program(arr(z, 13), arr(z, 10), arr(z, 10), arr(z, 10), lr_array(1)).calls
    budget = sp.machine.current().tile_budget_bytes
    assert call.ntiles > sp.machine.current().cores
    assert max(call.dtcm) <= budget
    assert np.array_equal(np.sort(np.concatenate([np.arange(a, b) for a, b in call.tiles])),
                          np.arange(n))
    cyc = KERNELS["adam_q15"].cycles(call, sp.machine.current())
    assert cyc.shape == (call.ntiles,) and (cyc > 0).all()


def test_bad_input():
    z = arr(np.zeros(4, np.int16), 13)
    lr = lr_array(5)
    with pytest.raises(ValueError, match="shape"):
        sgd_update(z, arr(np.zeros(5, np.int16), 10), lr, 10)
    with pytest.raises(ValueError, match="lr"):
        sgd_update(z, z, arr(np.zeros(2, np.int16), 15), 10)
    with pytest.raises(ValueError, match="lr"):
        sgd_update(z, z, arr(np.zeros(1, np.int16), 14), 10)
    with pytest.raises(ValueError, match="velocity"):
        sgd_update(z, z, lr, 10, momentum=0.9)
    with pytest.raises(ValueError, match="format"):
        adam_update(z, arr(np.zeros(4, np.int16), 10), arr(np.zeros(4, np.int16), 9),
                    arr(np.zeros(4, np.int16), 9), lr, 10)
    with pytest.raises(ValueError, match="share"):
        adam_update(z, z, arr(np.zeros(4, np.int16), 13), arr(np.zeros(4, np.int16), 14),
                    lr, 10)
    with pytest.raises(ValueError, match="rounding"):
        sgd_update(z, z, lr, 10, rounding="up")
    with pytest.raises(ValueError, match="learning rate"):
        kopt.lr_mantissa(1.0, 10)
    with pytest.raises(ValueError):
        kopt.lr_exponent(0.0)
    with pytest.raises(ValueError, match="momentum"):
        kopt.sgd_params(frac_w=13, frac_g=10, lr_exp=10, momentum=1.5, frac_v=15)
