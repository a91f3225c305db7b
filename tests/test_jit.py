"""Tracing: one Program per signature, run many times, same results as eager execution."""
import numpy as np
import pytest

import spinla


def test_traced_program_matches_eager_and_is_reused(rng):
    w = spinla.asarray(rng.uniform(-0.5, 0.5, (20, 7)), fmt=13)

    def f(x):
        # fmt= explicit: matmul's default format uses its operands' data when known (eager)
        # and their formats while tracing (spinla.fixed)
        return spinla.matmul(x, w, fmt=11).T[1:3]

    step = spinla.jit(f)
    for i in range(3):
        x = spinla.asarray(rng.uniform(-1, 1, (5, 20)), fmt=13)
        assert np.array_equal(step(x).raw, f(x).raw)
    assert len(step.programs) == 1
    prog = step.program(x)
    assert prog.runs == 3 and len(prog.calls) >= 3
    step(spinla.asarray(rng.uniform(-1, 1, (6, 20)), fmt=13))
    assert len(step.programs) == 2   # new shape, new trace


def test_jit_returns_structures_and_rejects_non_arrays():
    step = spinla.jit(lambda a, b: {"s": (a @ b, [a.T])})
    a = spinla.ones((2, 2), fmt=12)
    out = step(a, a)
    assert set(out) == {"s"} and out["s"][0].shape == (2, 2) and out["s"][1][0].shape == (2, 2)
    with pytest.raises(TypeError, match="argument 0 must be a spinla Array"):
        step(np.ones((2, 2)), a)
    bad = spinla.jit(lambda a: 3)
    with pytest.raises(TypeError, match="must return spinla Arrays"):
        bad(a)


def test_placeholder_values_are_unknown_while_tracing():
    def f(a):
        a.to_numpy()
        return a
    with pytest.raises(RuntimeError, match="placeholder inside spinla.jit"):
        spinla.jit(f)(spinla.ones((2,), fmt=12))


def test_stochastic_bits_differ_between_runs_but_replay_with_the_seed(rng):
    x = spinla.asarray(rng.uniform(-1, 1, (30, 30)), fmt=14)
    step = spinla.jit(lambda a: spinla.astype(a, 4, rounding="stochastic"))
    r1, r2 = step(x).raw, step(x).raw
    assert not np.array_equal(r1, r2)
    spinla.seed(1234)
    step2 = spinla.jit(lambda a: spinla.astype(a, 4, rounding="stochastic"))
    assert np.array_equal(step2(x).raw, r1)
