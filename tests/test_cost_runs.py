"""A profile's totals over many runs: cost_of keeps a Program's Cost beside it and the
profile adds the runs up when read (spinla.cost.add_runs); both must give exactly the figures
of pricing every Program afresh and adding the runs one at a time."""
import gc

import numpy as np

import spinla
from spinla import cost as costmod
from spinla import machine as mach
from spinla import runtime as rt
from spinla.nn import models


class _Grab:
    def __init__(self):
        self.progs = []

    def on_run(self, p):
        self.progs.append(p)


def _uncached_total(progs, machine_name):
    """The profile's total the slow way: each distinct Program priced afresh (no remembered
    Cost, no shared prices), then `(total + cost).compact()` run by run."""
    m = mach.get(machine_name)
    fresh = {}
    total = costmod.Cost(machine=machine_name)
    for p in progs:
        if id(p) not in fresh:
            costmod.forget_costs()
            pm = p.machine if isinstance(p.machine, mach.Machine) else m
            fresh[id(p)] = costmod.cost_of(p, pm)
        total = (total + fresh[id(p)]).compact()
    return total


def test_profile_of_a_multi_run_fit_equals_the_uncached_run_by_run_total():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (320, 28, 28)).astype(np.uint8)
    y = rng.integers(0, 10, 320)
    grab = _Grab()
    with spinla.errstate(saturate="ignore"), rt.observing(grab):
        with spinla.profile("spinn5") as p:
            models.mlp1(seed=0).fit(x, y, epochs=2, batch_size=64, seed=0, verbose=0)
            mid = p.total.to_dict()       # read part-way: later runs add to it
            spinla.add(spinla.asarray(np.ones((64, 10))), 1.0)
    steps = [q for q in grab.progs if q.name.endswith("train_step")]
    assert len(steps) == 10 and len({id(q) for q in steps}) == 1     # one traced Program
    got = p.total
    ref = _uncached_total(grab.progs, "spinn5")
    assert p.runs == ref.runs == len(grab.progs)
    assert got.to_dict() == ref.to_dict()
    assert [r.to_dict() for r in p.ops] == [r.to_dict() for r in ref.calls]
    before_add = _uncached_total(grab.progs[:-1], "spinn5")
    assert mid == before_add.to_dict()


def test_add_runs_equals_adding_one_at_a_time_for_mixed_costs():
    a = spinla.asarray(np.linspace(-1, 1, 600).reshape(60, 10), fmt="q1.14")
    b = spinla.asarray(np.linspace(0, 2, 600).reshape(10, 60), fmt="q2.13")
    grab = _Grab()
    with rt.observing(grab):
        f = spinla.jit(lambda u, v: spinla.tanh(spinla.matmul(u, v) + 0.5), name="f")
        for _ in range(3):
            f(a, b)
        spinla.add(a, a)
        spinla.astype(a, "q3.12", rounding="stochastic")
        f(a, b)
    costs = [costmod.cost_of(q, "spinn3") for q in grab.progs]
    start = costmod.Cost(machine="spinn3")
    slow = start
    for c in costs:
        slow = (slow + c).compact()
    fast = costmod.add_runs(start, costs)
    assert fast.to_dict() == slow.to_dict()
    assert costmod.add_runs(fast, []) is fast


def test_costs_beside_a_program_go_with_it():
    a = spinla.asarray(np.ones((8, 8)))
    f = spinla.jit(lambda u: u + u, name="g")
    f(a)
    prog = f.program(a)
    c = spinla.cost_of(prog, "spinn3")
    assert spinla.cost_of(prog, "spinn3") is c                  # remembered
    assert not hasattr(prog, "_cost_cache")                     # beside it, not in it
    n = len(costmod._BESIDE)
    del f, prog
    gc.collect()
    assert len(costmod._BESIDE) < n
