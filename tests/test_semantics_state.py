"""Issue 10, item 4: state stays where it belongs (spinla/state.py).  Rounding mode, seed
stream, observers, statistics, error actions and the machine are per thread and per context;
each fit has its own scope."""
import threading
import warnings

import numpy as np
import pytest

import spinla as sp
from spinla import nn


def _blobs(n=48, classes=4, dim=12, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.uniform(0.1, 0.9, (classes, dim))
    y = rng.integers(0, classes, n)
    return np.clip(centers[y] + rng.normal(0, 0.05, (n, dim)), 0, 1), y


def _fit(out, key, x, y):
    m = nn.Sequential([nn.Dense(16, activation="relu", input_shape=(12,)),
                       nn.Dense(4, activation="softmax")], seed=0)
    m.compile(optimizer=nn.Adam(0.01), loss="categorical_crossentropy")
    h = m.fit(x, y, epochs=2, batch_size=8, seed=3, verbose=0)
    out[key] = ([w.copy() for w in m.get_weights()], h["spinnaker_time_s"])


def test_two_threads_fitting_with_one_seed_match_a_solo_fit():
    x, y = _blobs()
    solo = {}
    _fit(solo, "solo", x, y)
    sp.seed(99)            # the caller's stream must not leak into a seeded fit...
    sp.asarray(np.ones(4), rounding="stochastic")
    res = {}
    ts = [threading.Thread(target=_fit, args=(res, k, x, y)) for k in ("a", "b")]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for k in ("a", "b"):
        for w0, w1 in zip(solo["solo"][0], res[k][0]):
            np.testing.assert_array_equal(w0, w1)
        # ...and each fit's cost meter sees only its own Programs (no doubled costs)
        np.testing.assert_allclose(res[k][1], solo["solo"][1], rtol=1e-12)


def test_rounding_mode_and_errstate_do_not_leak_into_other_threads():
    seen = {}

    def other():
        seen["rounding"] = sp.default_rounding()
        seen["err"] = sp.geterr()["saturate"]

    with sp.rounding("stochastic"), sp.errstate(saturate="raise"):
        t = threading.Thread(target=other)
        t.start()
        t.join()
        assert sp.default_rounding() == "stochastic"
    assert seen == {"rounding": "nearest", "err": "warn"}
    assert sp.default_rounding() == "nearest"


def test_stats_and_observers_are_per_thread():
    sp.reset_stats()

    class Count:
        runs = 0

        def on_run(self, program):
            self.runs += 1

    c = Count()
    with sp.runtime.observing(c):
        t = threading.Thread(target=lambda: sp.add(sp.asarray([1.0]), 1.0))
        t.start()
        t.join()
        assert c.runs == 0                     # the other thread's Program is not ours
        sp.add(sp.asarray([1.0]), 1.0)
    assert c.runs == 1
    assert sp.stats().calls["add"] == 1


def test_machine_is_per_thread():
    sp.set_machine("spinn3")
    seen = {}
    t = threading.Thread(target=lambda: seen.setdefault("m", sp.machine.current().name))
    t.start()
    t.join()
    assert sp.machine.current().name == "spinn3" and seen["m"] == "spinn5"


def test_errstate_actions_and_seterr():
    a = sp.asarray([0.9], fmt=15)
    with sp.errstate(saturate="raise"):
        with pytest.raises(sp.FixedPointError, match="add"):
            sp.add(a, a, fmt=15)
    with sp.errstate(saturate="ignore"), warnings.catch_warnings():
        warnings.simplefilter("error")
        sp.add(a, a, fmt=15)                   # counted, not warned
    old = sp.seterr(underflow="raise")
    try:
        with pytest.raises(sp.FixedPointError, match="underflow"):
            sp.asarray([1.0, 1e-9])
    finally:
        sp.seterr(**old)
    with pytest.raises(ValueError, match="saturate"):
        with sp.errstate(saturate="loud"):
            pass
    with pytest.raises(TypeError, match="overflow"):
        with sp.errstate(overflow="warn"):
            pass


def test_warnings_fire_per_call_site_not_once_per_process():
    a = sp.asarray([0.9], fmt=15)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("default")
        for _ in range(3):
            sp.add(a, a, fmt=15)              # one call site: one warning
        sp.add(a, a, fmt=15)                  # another call site: another warning
        sp.add(2, a, fmt=15)                  # and the same op name again: warned too
    sat = [x for x in w if issubclass(x.category, sp.SaturationWarning)]
    assert len(sat) == 3
    assert all(x.filename == __file__ for x in sat)


def test_profile_counts_only_its_own_thread():
    go, done = threading.Event(), threading.Event()

    def busy():
        go.wait()
        for _ in range(5):
            sp.add(sp.asarray([1.0]), 1.0)
        done.set()

    t = threading.Thread(target=busy)
    t.start()
    with sp.profile() as p:
        go.set()
        done.wait()
        sp.add(sp.asarray([1.0]), 1.0)
    t.join()
    assert p.runs == 1
