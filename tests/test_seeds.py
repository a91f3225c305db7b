"""Stochastic-rounding seeds are fixed when Calls run eagerly or when a trace is finalised
(spinla.runtime.assign_seeds), never while lowering: a traced Program's seeds are the
context's stream in program order over the calls it keeps, whatever was lowered and dropped
while tracing; eager ops draw the stream as they run; same seed, same bits."""
import numpy as np

import spinla as sp
from spinla import runtime, state
from spinla.fixed import q
from spinla.kernels import eltwise, lib
from spinla.program import Buffer


def _stream(base, k):
    """The first k values of the seed stream of `base` (runtime.next_seed)."""
    return [int(lib.spl_seed_mix(base & 0xFFFFFFFF, i)) for i in range(1, k + 1)]


def _x():
    return sp.asarray(np.linspace(-1, 1, 48).reshape(6, 8), fmt=q(12))


def test_lowering_draws_no_seed():
    sp.seed(3)
    a, y = Buffer((4,), q(12)), Buffer((4,), q(12))
    call = eltwise.lower("multiply", (a, a), y, machine=sp.machine.current(),
                         label="multiply", rounding="stochastic")
    assert call.stochastic and call.seed == 0
    assert state.seeds().counter == 0


def test_traced_seeds_are_the_stream_in_program_order():
    x = _x()

    def f(t):
        u = sp.multiply(t, t, rounding="stochastic")
        return sp.exp(sp.add(u, t, rounding="stochastic"), rounding="stochastic")
    sp.seed(21)
    prog = sp.jit(f).program(x)
    seeds = [c.seed for c in prog.calls if c.stochastic]
    assert len(seeds) == 3 and seeds == _stream(21, 3)
    assert state.seeds().counter == 3


def test_calls_dropped_from_a_trace_take_no_seed():
    x = _x()

    def keep(t):
        return sp.exp(t, rounding="stochastic")

    def with_dead(t):
        sp.multiply(t, t, rounding="stochastic")     # lowered, traced, never used
        return sp.exp(t, rounding="stochastic")
    sp.seed(5)
    p1 = sp.jit(keep).program(x)
    sp.seed(5)
    p2 = sp.jit(with_dead).program(x)
    assert [c.kernel for c in p2.calls] == [c.kernel for c in p1.calls]
    assert [c.seed for c in p2.calls] == [c.seed for c in p1.calls] == _stream(5, 1)
    sp.seed(5)
    r1 = sp.jit(keep)(x)
    sp.seed(5)
    r2 = sp.jit(with_dead)(x)
    np.testing.assert_array_equal(r1.raw, r2.raw)


def test_eager_ops_draw_the_stream_as_they_run():
    x = _x()
    sp.seed(9)
    seen = []

    class Obs:
        def on_run(self, program):
            seen.extend(c.seed for c in program.calls if c.stochastic)
    with state.observing(Obs()):
        sp.multiply(x, x, rounding="stochastic")
        sp.add(x, x)                                  # nearest: takes no seed
        sp.exp(x, rounding="stochastic")
    assert seen == _stream(9, 2)


def test_same_seed_same_bits_eager_and_traced():
    x = _x()

    def f(t):
        return sp.mean(sp.multiply(t, t, rounding="stochastic"), axis=0, fmt=q(5),
                       rounding="stochastic")
    outs = []
    for _ in range(2):
        sp.seed(77)
        e = f(x)
        j = sp.jit(f)
        outs.append((e.raw.copy(), j(x).raw.copy(), j(x).raw.copy()))
    for a, b in zip(*outs):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(outs[0][1], outs[0][2])   # each run its own stream


def test_assign_seeds_copies_shared_calls():
    a, y = Buffer((4,), q(12)), Buffer((4,), q(12))
    call = eltwise.lower("multiply", (a, a), y, machine=sp.machine.current(),
                         label="multiply", rounding="stochastic")
    sp.seed(1)
    c1, = runtime.assign_seeds([call])
    c2, = runtime.assign_seeds([call])
    assert call.seed == 0 and c1.seed != c2.seed and c1 is not call
