"""The whole-Program runner (spinla_c/host/run_program.c, spinla/emulator.py) against the per-call
walker: every kernel family, stochastic rounding, several run indices and the MNIST networks'
training steps give identical bits and identical saturation records (op and count of every
call, in order); errors and warnings are the same; the arena plan reuses space without
overlapping live buffers, and results never alias it."""
import warnings
import weakref

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import spinla as sp
from spinla import emulator, kernels, nn, runtime, state
from spinla.nn import models

RUNS = (0, 1, 5, 2**31 + 3)


@pytest.fixture
def c_runs(monkeypatch):
    """Counts the calls into spl_run_program, to show the C runner did the work."""
    n = {"calls": 0}
    orig = kernels.lib.spl_run_program

    def counted(*a):
        n["calls"] += 1
        return orig(*a)
    monkeypatch.setattr(kernels.lib, "spl_run_program", counted)
    yield n
    monkeypatch.setattr(kernels.lib, "spl_run_program", orig)


def _recorded(fn):
    """fn()'s result and what it counted: the calls per op it added to the counters, and the
    (op, saturated) of every loss it reported, in order."""
    log, orig = [], runtime.record
    calls = state.stats_obj().calls
    before = dict(calls)

    def rec(op, saturated, *a, **kw):
        if saturated:
            log.append((op, int(saturated)))
        return orig(op, saturated, *a, **kw)
    runtime.record = rec
    try:
        out = fn()
    finally:
        runtime.record = orig
    added = {op: n - before.get(op, 0) for op, n in calls.items() if n != before.get(op, 0)}
    return out, (added, log)


def assert_same(prog, args, runs=RUNS):
    """Both walkers give the same bits and records for `prog` at each run index."""
    for run in runs:
        ref, ref_log = _recorded(lambda: emulator.run_program(prog, args, run_index=run,
                                                              c=False))
        got, got_log = _recorded(lambda: emulator.run_program(prog, args, run_index=run,
                                                              c=True))
        assert got_log == ref_log, (run, prog.summary())
        assert len(got) == len(ref)
        for g, r in zip(got, ref):
            assert g.shape == r.shape and g.dtype == r.dtype == np.int16
            np.testing.assert_array_equal(g, r)
    return ref_log


def check(fn, *arrays, stochastic=None):
    """Trace fn over spinla Arrays and compare the walkers on it; returns the Program."""
    jf = sp.jit(fn)
    prog = jf.program(*arrays)
    if stochastic is not None:
        assert any(c.stochastic for c in prog.calls) == stochastic, prog.summary()
    added, _ = assert_same(prog, [a.buffer.data for a in arrays])
    ops = {}
    for c in prog.calls:
        ops[c.op] = ops.get(c.op, 0) + 1
    assert added == ops                          # every call of the Program counted once
    return prog


def arr(rng, shape, fmt=12, lo=-1.0, hi=1.0):
    return sp.asarray(rng.uniform(lo, hi, shape), fmt=fmt)


# --- every kernel family -----------------------------------------------------------------------

@pytest.mark.parametrize("rounding", ["nearest", "stochastic"])
def test_gemm(rng, c_runs, rounding):
    a, b = arr(rng, (33, 70)), arr(rng, (70, 21))
    ab, bb = arr(rng, (3, 9, 40)), arr(rng, (3, 40, 7))
    with sp.rounding(rounding):
        check(lambda x, y, u, v: (sp.matmul(x, y, fmt=9), sp.matmul(u, v, fmt=10)),
              a, b, ab, bb, stochastic=rounding == "stochastic")
    assert c_runs["calls"] == len(RUNS)


@pytest.mark.parametrize("rounding", ["nearest", "stochastic"])
def test_eltwise(rng, c_runs, rounding):
    a, b, c = arr(rng, (6, 1, 40)), arr(rng, (5, 1), fmt=13), arr(rng, (6, 5, 40), fmt=10)

    def f(x, y, z):
        s = x + y
        return (s * z, x / (sp.abs(y) + 0.5), sp.maximum(x, z), sp.less(x, y),
                sp.where(sp.greater(z, 0), z, -z), sp.clip(z, -0.25, 0.5), sp.square(y),
                sp.negative(x), sp.axpby(z, x, 0.75, -0.5))
    with sp.rounding(rounding):
        check(f, a, b, c, stochastic=rounding == "stochastic")
    assert c_runs["calls"] == len(RUNS)


def test_copies_views_and_gathers(rng, c_runs):
    a, b = arr(rng, (4, 6, 5)), arr(rng, (4, 6, 5), fmt=11)

    def f(x, y):
        return (sp.permute_dims(x, (2, 0, 1)), sp.flip(x, axis=1), sp.concat([x, y], axis=1),
                sp.stack([x, y]), sp.pad(x, ((1, 0), (0, 2), (1, 1))),
                sp.broadcast_to(x[:, :1], (4, 6, 5)), x[:, ::2, 1:4], sp.roll(y, 2, axis=2),
                sp.take(x, np.array([3, 0, 0, 2]), axis=0),
                sp.reshape(x, (24, 5))[3:9], x.reshape(-1)[7:30].reshape(23, 1), x, y[0].T)
    prog = check(f, a, b)
    kinds = {c.kernel for c in prog.calls}
    assert {"copy_q15", "view", "gather_rows_q15"} <= kinds, kinds
    assert c_runs["calls"] == len(RUNS)


@pytest.mark.parametrize("rounding", ["nearest", "stochastic"])
def test_requant_lut_reduce_softmax(rng, c_runs, rounding):
    a, p = arr(rng, (7, 9, 11), fmt=11, lo=-3, hi=3), arr(rng, (5, 30), lo=0.01, hi=1)

    def f(x, y):
        return (sp.astype(x, 4), sp.exp(x), sp.tanh(x), sp.sigmoid(x), sp.log(y), sp.sqrt(y),
                sp.sum(x, axis=1), sp.mean(x, axis=(0, 2)), sp.max(x, axis=2),
                sp.min(x, axis=0), sp.argmax(x, axis=1), sp.argmin(y, axis=1),
                sp.softmax(x, axis=-1), sp.logsumexp(y, axis=1))
    with sp.rounding(rounding):
        prog = check(f, a, p, stochastic=rounding == "stochastic")
    kinds = {c.kernel for c in prog.calls}
    assert {"requant_q15", "lut_q15", "reduce_q15", "softmax_q15"} <= kinds, kinds
    assert c_runs["calls"] == len(RUNS)


@pytest.mark.parametrize("rounding", ["nearest", "stochastic"])
def test_split_sum(rng, c_runs, rounding):
    """A sum split into int64 partials and a combining call, over a constant buffer (bound by
    pointer each run)."""
    from spinla.fixed import q
    from spinla.kernels import reduce as kred
    from spinla.program import Buffer, Program
    raw = rng.integers(-32768, 32768, (2, 900, 5)).astype(np.int16)
    x, out = Buffer(raw.shape, q(12), data=raw), Buffer((2, 5), q(9))
    calls = kred.lower("sum", x, out, outer=2, n=900, inner=5, shift=3, rounding=rounding,
                       machine=sp.machine.spinn5(), label="sum", nparts=6)
    for i, c in enumerate(calls):
        c.seed = 1000 + i
    assert [c.kernel for c in calls] == ["reduce_part_q15", "conv2d_gw_reduce_q15"]
    assert_same(Program(calls=calls, outputs=[out], name="sum"), [])
    assert c_runs["calls"] == len(RUNS)


def test_warp(rng, c_runs):
    x = arr(rng, (5, 12, 10, 2))
    A = np.eye(2)[None] + rng.uniform(-0.2, 0.2, (5, 2, 2))
    theta = sp.asarray(sp.encode_affine(A, rng.uniform(-2, 2, (5, 2))), fmt=sp.INT16)
    check(lambda u, t: sp.warp_affine(u, t), x, theta)
    assert c_runs["calls"] == len(RUNS)


@pytest.mark.parametrize("rounding", ["nearest", "stochastic"])
def test_conv_and_pool_families(rng, c_runs, rounding):
    x = arr(rng, (3, 12, 12, 6))
    w = arr(rng, (5, 5, 6, 16), fmt=14, lo=-0.1, hi=0.1)
    d = arr(rng, (3, 8, 8, 16), fmt=13, lo=-0.2, hi=0.2)
    table = sp.LENET5_C3_TABLE

    def f(u, k, delta):
        y = sp.conv2d(u, k, table=table)
        return (y, sp.conv2d_grad_input(delta, k, u.shape, table=table),
                sp.conv2d_grad_weight(u, delta, k.shape, table=table),
                sp.conv2d(u, k, stride=2, padding="same"),
                sp.avg_pool2d(u, 3, 2), sp.avg_pool2d_grad(delta, (3, 16, 16, 16), 2),
                *sp.max_pool2d(u, 2, return_indices=True),
                sp.max_pool2d_grad(delta[:, :4, :4], sp.max_pool2d(delta, 2,
                                                                 return_indices=True)[1],
                                   delta.shape, 2))
    with sp.rounding(rounding):
        prog = check(f, x, w, d, stochastic=rounding == "stochastic")
    kinds = {c.kernel for c in prog.calls}
    assert {"conv2d_pack_q15", "conv2d_q15", "conv2d_gw_q15", "conv2d_gw_reduce_q15",
            "avg_pool2d_q15", "max_pool2d_q15", "avg_pool2d_grad_q15",
            "max_pool2d_grad_q15"} <= kinds, kinds
    assert c_runs["calls"] == len(RUNS)


@pytest.mark.parametrize("rounding", ["nearest", "stochastic"])
def test_optimisers(rng, c_runs, rounding):
    from spinla.nn import optimizers as o
    w, g = arr(rng, (40, 30), fmt=13), arr(rng, (40, 30), fmt=12, lo=-0.3, hi=0.3)
    v = arr(rng, (40, 30), fmt=15, lo=-0.01, hi=0.01)
    m, r = arr(rng, (40, 30), fmt=14, lo=-0.1, hi=0.1), arr(rng, (40, 30), fmt=14, lo=0, hi=0.3)
    lr = o.lr_array(20000)

    def f(w_, g_, v_, m_, r_, lr_):
        return (o.sgd_update(w_, g_, lr_, 8, rounding=rounding),
                *o.sgd_update(w_, g_, lr_, 8, v=v_, momentum=0.9, rounding=rounding),
                *o.adam_update(w_, g_, m_, r_, lr_, 8, rounding=rounding))
    prog = check(f, w, g, v, m, r, lr, stochastic=rounding == "stochastic")
    assert {c.kernel for c in prog.calls} == {"sgd_q15", "adam_q15"}
    assert c_runs["calls"] == len(RUNS)


@given(st.data())
def test_random_chains(data):
    """Random chains of element-wise, matmul, copy and reduction ops: temporaries come and go
    in the arena in every order."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    n, k = data.draw(st.integers(1, 17)), data.draw(st.integers(1, 17))
    rounding = data.draw(st.sampled_from(["nearest", "stochastic"]))
    steps = data.draw(st.lists(st.sampled_from(["add", "mul", "mm", "T", "sum", "tanh",
                                                "flip", "slice"]), min_size=1, max_size=8))
    a, b = arr(rng, (n, k)), arr(rng, (k, k), fmt=13)

    def f(x, y):
        outs, cur = [], x
        for s in steps:
            if s == "add":
                cur = cur + x if cur.shape == x.shape else cur * 0.5
            elif s == "mul":
                cur = cur * cur
            elif s == "mm" and cur.shape[-1] == k:
                cur = sp.matmul(cur, y, fmt=11)
            elif s == "T":
                cur = cur.T
            elif s == "sum":
                outs.append(sp.sum(cur, axis=0))
            elif s == "tanh":
                cur = sp.tanh(cur)
            elif s == "flip":
                cur = sp.flip(cur, axis=0)
            elif s == "slice":
                outs.append(cur[: max(1, cur.shape[0] // 2)])
        return (cur, *outs)
    with sp.rounding(rounding):
        jf = sp.jit(f)
        prog = jf.program(a, b)
    run = data.draw(st.integers(0, 2**32 - 1))
    assert_same(prog, [a.buffer.data, b.buffer.data], runs=(run,))


# --- the MNIST networks' training steps --------------------------------------------------------

@pytest.mark.parametrize("net", ["mlp1", "mlp2", "lenet1", "lenet4", "lenet5"])
def test_training_step_of_each_mnist_network(net, monkeypatch):
    """One epoch of 3 small batches (so eager and traced Programs both run) with the C runner
    and with SPINLA_PROGRAM_C=0: the same weights, optimiser state, counts and records."""
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (24, 28, 28)).astype(np.uint8)
    y = rng.integers(0, 10, 24)
    progs, orig = [], emulator.run_program

    def spy(program, args, **kw):
        progs.append(program)
        return orig(program, args, **kw)
    monkeypatch.setattr(emulator, "run_program", spy)
    res = {}
    for c in ("0", "1"):
        monkeypatch.setenv("SPINLA_PROGRAM_C", c)
        sp.reset_stats()
        m = getattr(models, net)(seed=3)
        _, log = _recorded(lambda: m.fit(x, y, epochs=1, batch_size=8, seed=5, verbose=0))
        res[c] = (m.get_weights(), m._ts, log, sp.stats())
        steps = [p for p in progs if p.name.endswith("train_step")]
        progs.clear()
    (w0, ts0, log0, s0), (w1, ts1, log1, s1) = res["0"], res["1"]
    assert steps and any(c.stochastic for c in steps[0].calls)
    assert log1 == log0 and sum(log0[0].values()) > 3 * len(steps[0].calls) // 2
    assert str(s1) == str(s0)
    for a, b in zip(w1, w0):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(ts1[1], ts0[1]):            # the optimiser state, bit for bit
        for u, v in zip(a, b):
            np.testing.assert_array_equal(u.raw, v.raw)
    for prog in steps:                           # the C runner ran them: planned, not left
        key = (kernels.threads_key(), len(prog.calls))          # to the per-call walker
        assert emulator._PLANS.get(prog, lambda: None, key) is not None


def test_sgd_momentum_model(monkeypatch):
    rng = np.random.default_rng(2)
    x, y = rng.uniform(0, 1, (16, 12)), rng.integers(0, 4, 16)
    res = {}
    for c in ("0", "1"):
        monkeypatch.setenv("SPINLA_PROGRAM_C", c)
        m = nn.Sequential([nn.Dense(8, activation="tanh", input_shape=(12,)),
                           nn.Dense(4, activation="softmax")], seed=0)
        m.compile(optimizer=nn.SGD(0.05, momentum=0.9), loss="categorical_crossentropy")
        _, log = _recorded(lambda: m.fit(x, y, epochs=2, batch_size=4, seed=1, verbose=0))
        res[c] = (m.get_weights(), log)
    assert res["0"][1] == res["1"][1]
    for a, b in zip(res["0"][0], res["1"][0]):
        np.testing.assert_array_equal(a, b)


# --- errors, warnings, plan --------------------------------------------------------------------

def _saturating():
    x = sp.asarray(np.full((4, 4), 3.0), fmt=12)
    return sp.jit(lambda a: (a * 0.5, sp.astype(a, 14), a - 0.25)), x


def test_errstate_raise_and_warn_match_between_walkers():
    out = {}
    for c in (False, True):
        f, x = _saturating()
        prog = f.program(x)
        sp.reset_stats()
        with sp.errstate(saturate="raise"), pytest.raises(sp.FixedPointError) as e:
            emulator.run_program(prog, [x.buffer.data], c=c)
        raised = (str(e.value), str(sp.stats()), prog.runs)
        sp.reset_stats()
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            emulator.run_program(prog, [x.buffer.data], c=c, run_index=0)
        out[c] = (raised, [(str(m.message), m.category, m.filename, m.lineno) for m in w],
                  str(sp.stats()))
    assert out[True] == out[False]
    assert "16 value(s)" in out[True][0][0] and out[True][0][2] == 0   # raised: not counted a run
    assert out[True][1], "the program should saturate and warn"


def test_results_do_not_alias_the_arena_or_each_other(rng):
    a = arr(rng, (16, 16))
    f = sp.jit(lambda x: (sp.tanh(x * 0.5) + 0.125, sp.sum(x * x, axis=0)))
    r1 = [o.raw.copy() for o in f(a)]
    first = f(a)
    f(arr(rng, (16, 16)))                       # reuses the arena
    for o, r in zip(first, r1):
        np.testing.assert_array_equal(o.raw, r)
    prog = f.program(a)
    plan = emulator._PLANS.get(prog, lambda: None, (kernels.threads_key(), len(prog.calls)))
    assert plan is not None and plan.arena_bytes > 0


def test_outputs_are_recycled_only_when_nobody_holds_them(rng):
    """A run reuses an earlier run's output array only once the caller has dropped it: held
    results keep their bits, and a dropped one's array comes back (no fresh pages)."""
    x = arr(rng, (64, 64))
    f = sp.jit(lambda v: sp.tanh(v * 0.5) + 0.125)
    held = f(x)
    want = held.raw.copy()
    for _ in range(3):
        again = f(arr(rng, (64, 64)))               # `held` is still referenced
        assert not np.shares_memory(again.raw, held.raw)
        np.testing.assert_array_equal(held.raw, want)
    prog = f.program(x)
    dropped = emulator.run_program(prog, [x.buffer.data])[0]
    want = dropped.copy()
    gone = weakref.ref(dropped)
    del dropped
    got = emulator.run_program(prog, [x.buffer.data])[0]
    assert got is gone()                              # recycled (else gone() is None) ...
    np.testing.assert_array_equal(got, want)          # ... and fully rewritten
    view = got[::2]                                   # a view keeps its base in use
    del got
    other = emulator.run_program(prog, [x.buffer.data])[0]
    assert not np.shares_memory(other, view)
    np.testing.assert_array_equal(view, want[::2])


def test_constants_are_bound_each_run(rng):
    w = arr(rng, (6, 6))
    f = sp.jit(lambda x: sp.matmul(x, w, fmt=10))
    x = arr(rng, (3, 6))
    prog = f.program(x)
    emulator.run_program(prog, [x.buffer.data])
    w.buffer.data = arr(rng, (6, 6)).buffer.data       # the host copy replaced after planning
    assert_same(prog, [x.buffer.data], runs=(2,))


def test_fallback_for_inputs_c_cannot_bind(rng, c_runs):
    a = arr(rng, (8, 8))
    f = sp.jit(lambda x: sp.tanh(x) + x)
    prog = f.program(a)
    fortran = np.asfortranarray(a.buffer.data)
    ref = emulator.run_program(prog, [fortran], c=False)
    got = emulator.run_program(prog, [fortran], c=True)
    assert c_runs["calls"] == 0
    np.testing.assert_array_equal(got[0], ref[0])


def test_switch_keeps_the_python_walker(rng, c_runs, monkeypatch):
    a = arr(rng, (8, 8))
    f = sp.jit(lambda x: sp.tanh(x) + x)
    monkeypatch.setenv("SPINLA_PROGRAM_C", "0")
    f(a)
    assert c_runs["calls"] == 0
    monkeypatch.delenv("SPINLA_PROGRAM_C")
    f(a)
    assert c_runs["calls"] == 1


@given(st.lists(st.tuples(st.integers(0, 12), st.integers(0, 6), st.integers(0, 5000)),
                min_size=1, max_size=40))
def test_arena_layout_never_overlaps_live_buffers(spec):
    roots = [emulator._Root("temp", None, nbytes, None, first) for first, _, nbytes in spec]
    for r, (first, span, _) in zip(roots, spec):
        r.last = first + span
    size = emulator._arena_layout(roots, 20)
    for i, r in enumerate(roots):
        assert r.offset % emulator.ALIGN == 0 and r.offset + r.nbytes <= size
        for q in roots[i + 1:]:
            live_together = r.first <= q.last and q.first <= r.last
            if live_together and r.nbytes and q.nbytes:
                assert r.offset + r.nbytes <= q.offset or q.offset + q.nbytes <= r.offset
    # space is reused: never more than the sum of the blocks
    assert size <= sum(-(-max(r.nbytes, 1) // emulator.ALIGN) * emulator.ALIGN for r in roots)


def test_plan_follows_the_thread_setting(rng, monkeypatch):
    """Bindings bake in thread counts and per-thread scratch: a new SPINLA_THREADS re-plans."""
    x = arr(rng, (2, 10, 10, 3))
    w = arr(rng, (3, 3, 3, 8), fmt=14, lo=-0.2, hi=0.2)
    f = sp.jit(lambda u, k: sp.conv2d(u, k))
    prog = f.program(x, w)
    args = [x.buffer.data, w.buffer.data]
    plans = []
    for n in ("1", "2"):
        monkeypatch.setenv("SPINLA_THREADS", n)
        assert_same(prog, args, runs=(3,))
        plans.append(emulator._PLANS.get(prog, lambda: None,
                                         (kernels.threads_key(), len(prog.calls))))
    assert plans[0] is not None and plans[1] is not None and plans[0] is not plans[1]
