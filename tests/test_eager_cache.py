"""Eager ops keep their lowering per structure (spinla/ops/_core.py lowered): a sequence of
eager ops (element-wise, table, matmul, conversion, reduction and strided-copy ops) gives the
same bits, formats, statistics and stochastic-rounding seeds with the cache as when every op
is lowered afresh."""
import numpy as np
import pytest

import spinla as sp
from spinla import runtime
from spinla.ops import _core


def _sequence():
    """Eager ops whose formats come from formats, from weak scalars and from data (integer
    arrays, an array divisor), nearest and stochastic, repeated so the cache is hit."""
    rng = np.random.default_rng(7)
    out = []
    a = sp.asarray(rng.normal(0, 0.7, (64, 10)), fmt="q2.13")
    b = sp.asarray(rng.normal(0, 0.7, (64, 10)), fmt="q2.13")
    for step in range(4):
        ints = sp.asarray(rng.integers(-3 * (step + 1), 5 * (step + 1) ** 3, (64, 10)))
        den = sp.asarray(rng.normal(0, 2, (64, 10)) + 0.01 * step, fmt="q4.11")
        out += [a + b, a * b, a - 0.25, 3 * a, a * ints, ints + ints, a / den,
                sp.multiply(a, b, rounding="stochastic"),
                sp.add(a, b, fmt="q1.14", rounding="stochastic"),
                sp.tanh(a, rounding="stochastic"), sp.exp(a), sp.sigmoid(b),
                sp.where(a > b, a, b), sp.clip(a, -0.5, 0.5), a < 0.1, sp.maximum(a, ints),
                sp.add(a[:32], b[32:]), sp.square(a, rounding="stochastic")]
        with sp.rounding("stochastic"):
            out += [a * 0.3, a + b[0], sp.sqrt(sp.abs(a))]
        out += [sp.matmul(a, b.T), sp.matmul(a, b.T, rounding="stochastic"),
                sp.astype(a, "q5.10", rounding="stochastic"), sp.astype(a, "q4.11"),
                sp.sum(a, axis=0), sp.mean(a, axis=1, rounding="stochastic"), sp.max(a),
                a.T, sp.flip(a, axis=0), a[::2, 1:7]]
        a = sp.add(a, b, fmt="q2.13", rounding="stochastic")
    return out


def _run(cache: bool, monkeypatch):
    monkeypatch.setattr(_core, "LOWERING_CACHE", cache)
    _core._LOWERED.clear()
    runtime.seed(1234)
    runtime.reset_stats()
    with sp.errstate(saturate="ignore"):
        res = _sequence()
    st = runtime.stats()
    return ([(r.fmt, r.shape, r.raw.copy()) for r in res], dict(st.calls), dict(st.saturated),
            runtime.next_seed())


def test_cached_lowering_gives_the_bits_of_lowering_afresh(monkeypatch):
    fresh = _run(False, monkeypatch)
    assert not _core._LOWERED
    cached = _run(True, monkeypatch)
    assert len(_core._LOWERED) > 0
    assert len(fresh[0]) == len(cached[0])
    for i, ((f1, s1, r1), (f2, s2, r2)) in enumerate(zip(fresh[0], cached[0])):
        assert (f1, s1) == (f2, s2), i
        np.testing.assert_array_equal(r1, r2, err_msg=f"result {i}")
    assert fresh[1:] == cached[1:]          # calls, saturations, and the seed stream's state


def test_a_repeated_eager_op_reuses_its_tiling_with_new_buffers_and_seeds(monkeypatch):
    monkeypatch.setattr(_core, "LOWERING_CACHE", True)
    calls = []

    class Grab:
        def on_run(self, p):
            calls.extend(p.calls)

    a = sp.asarray(np.linspace(-1, 1, 640).reshape(64, 10), fmt="q1.14")
    with runtime.observing(Grab()):
        x = sp.multiply(a, a, rounding="stochastic")      # products are rounded
        y = sp.multiply(a, a, rounding="stochastic")
    c1, c2 = calls
    assert c1.tiles is c2.tiles and c1.params == c2.params          # one lowering
    assert c1.outputs[0] is x.buffer and c2.outputs[0] is y.buffer  # its own buffers
    assert c1.stochastic and c1.seed != c2.seed                     # the next seed each time
    assert not np.array_equal(x.raw, y.raw)                         # other random bits


@pytest.mark.parametrize("fmt", ["q2.13", "q5.10"])
def test_the_eager_add_on_a_cache_hit_is_the_reference(fmt):
    rng = np.random.default_rng(3)
    a = sp.asarray(rng.normal(0, 1, (64, 10)), fmt=fmt)
    b = sp.asarray(rng.normal(0, 1, (64, 10)), fmt=fmt)
    for _ in range(3):
        c = a + b
    exact = a.raw.astype(np.int64) + b.raw.astype(np.int64)          # at frac f
    shift = a.fmt.frac - c.fmt.frac
    ref = np.round(exact / 2.0 ** shift)                             # half to even
    np.testing.assert_array_equal(c.raw, np.clip(ref, -32768, 32767).astype(np.int16))


def test_a_repeated_eager_op_binds_its_kernel_once(monkeypatch):
    """The copies of one lowering share its kernel binding (built for the cached template),
    and it is the binding the op would get afresh: every copy gives the exact rounded sum."""
    from spinla.kernels import KERNELS, eltwise, run_bound
    counted = []
    real = eltwise.bind

    def counting(call):
        counted.append(call)
        return real(call)
    kernel = KERNELS["eltwise_q15"]
    monkeypatch.setitem(KERNELS, "eltwise_q15", kernel.__class__(
        kernel.name, lambda call, ins, outs, seed: run_bound(call, counting, ins, outs, seed),
        kernel.cycles, kernel.doc, counting))
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, (64, 10))
    y = rng.uniform(-1, 1, (64, 10))
    a, b = sp.asarray(x, fmt="q2.13"), sp.asarray(y, fmt="q2.13")
    outs = [np.asarray(a + b) for _ in range(5)]
    # the first op's own Call, then the cached template once for the four copies
    assert len(counted) == 2
    # the exact sum of the two q2.13 values, rounded once (half to even) to the result format
    expect = np.asarray(sp.asarray(np.asarray(a) + np.asarray(b), fmt=(a + b).fmt))
    for o in outs:
        np.testing.assert_array_equal(o, expect)


def test_unobserved_eager_ops_run_straight_with_the_bits_of_a_program(monkeypatch):
    """With nobody observing, the emulator runs an eager op's one Call straight through its
    kernel (EmulatorBackend.run_op, emulator.run_call), and a repeated op's kept lowering
    without even copying it (runtime.emit_kept, emulator.run_kept); with an observer every op
    is a Program of its own, run, counted and notified.  All give the same bits, formats,
    statistics and seed stream, and the straight ways are the ones taken when nothing
    observes."""
    from spinla import emulator
    straight, kept = [], []
    real_call, real_kept = emulator.run_call, emulator.run_kept

    def counting_call(call, outputs):
        straight.append(call.op)
        return real_call(call, outputs)

    def counting_kept(call, inputs, outputs, op, seed):
        kept.append(op)
        return real_kept(call, inputs, outputs, op, seed)
    monkeypatch.setattr(emulator, "run_call", counting_call)
    monkeypatch.setattr(emulator, "run_kept", counting_kept)
    unwatched = _run(True, monkeypatch)
    n_straight, n_kept = len(straight), len(kept)

    programs = []

    class Watch:
        def on_run(self, p):
            programs.append(p)
    with runtime.observing(Watch()):
        watched = _run(True, monkeypatch)
    assert n_straight > 20 and n_kept > 80                  # both ways taken unobserved
    assert (len(straight), len(kept)) == (n_straight, n_kept)       # neither while watched
    assert len(programs) >= n_straight + n_kept
    assert len(unwatched[0]) == len(watched[0])
    for i, ((f1, s1, r1), (f2, s2, r2)) in enumerate(zip(unwatched[0], watched[0])):
        assert (f1, s1) == (f2, s2), i
        np.testing.assert_array_equal(r1, r2, err_msg=f"result {i}")
    assert unwatched[1:] == watched[1:]


def test_a_saturating_straight_eager_op_is_counted_and_raises():
    a = sp.asarray(np.full((4, 4), 3.5), fmt="q2.13")
    runtime.reset_stats()
    with sp.errstate(saturate="ignore"):
        sp.add(a, a, fmt="q2.13")
    assert runtime.stats().saturated["add"] == 16
    with sp.errstate(saturate="raise"), pytest.raises(sp.FixedPointError, match="add"):
        sp.add(a, a, fmt="q2.13")


def test_a_split_sum_is_kept_with_fresh_partials_for_each_copy(monkeypatch):
    """A lowering into several Calls (the split sum: partials, then their combination) is kept
    too; each copy gets its own intermediate Buffer, and gives the exact column sums."""
    monkeypatch.setattr(_core, "LOWERING_CACHE", True)
    _core._LOWERED.clear()
    calls = []

    class Grab:
        def on_run(self, p):
            calls.append(p.calls)
    rng = np.random.default_rng(5)
    xs = [rng.integers(-300, 300, (64, 10)) for _ in range(3)]
    with runtime.observing(Grab()):
        sums = [sp.sum(sp.asarray(x, fmt="q12.3"), axis=0) for x in xs]
    assert [len(c) for c in calls] == [2, 2, 2] and len(_core._LOWERED) == 1
    parts = [c[0].outputs[0] for c in calls]
    assert len({id(p) for p in parts}) == 3                         # fresh partials
    assert all(c[1].inputs[0] is c[0].outputs[0] for c in calls)     # wired as lowered
    assert calls[1][0].tiles is calls[2][0].tiles                    # one tiling
    for s, x in zip(sums, xs):
        np.testing.assert_array_equal(np.asarray(s), x.sum(axis=0))   # exact: integer sums


def test_a_stochastic_eager_op_binds_once(monkeypatch):
    """Seeding a Call copies it (runtime.assign_seeds); the copy binds as the lowering's
    template does, so repeated stochastic eager ops build their binding once."""
    from spinla.kernels import KERNELS, run_bound
    counted = []
    kernel = KERNELS["eltwise_q15"]

    def counting(call):
        counted.append(call)
        return kernel.bind(call)
    monkeypatch.setitem(KERNELS, "eltwise_q15", kernel.__class__(
        kernel.name, lambda call, ins, outs, seed: run_bound(call, counting, ins, outs, seed),
        kernel.cycles, kernel.doc, counting))
    monkeypatch.setattr(_core, "LOWERING_CACHE", True)
    _core._LOWERED.clear()
    a = sp.asarray(np.linspace(-1, 1, 640).reshape(64, 10), fmt="q1.14")
    outs = [sp.multiply(a, a, rounding="stochastic") for _ in range(5)]
    assert len(counted) == 2           # the first op's own Call, then the template once
    assert len({o.raw.tobytes() for o in outs}) == 5                # new seeds every time
