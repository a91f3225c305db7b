"""The current backend is per context (spinla.backends keeps it in a ContextVar, like the rest
of spinla.state): `backends.use` in one thread does not change what another thread runs on."""
import threading

import numpy as np

import spinla
from spinla import backends
from spinla.backends.emulator import EmulatorBackend


class Counting(EmulatorBackend):
    def __init__(self):
        super().__init__()
        self.programs = []

    def run(self, program, args, run_index):
        self.programs.append(program.name)
        return super().run(program, args, run_index)


def test_use_in_one_thread_does_not_affect_another():
    mine, theirs = Counting(), Counting()
    inside = threading.Barrier(2, timeout=30)
    seen = {}
    errors = []

    def worker(name, be):
        try:
            if be is None:
                inside.wait()                       # the other thread is inside its `use`
                seen[name] = backends.current()
                spinla.add(spinla.asarray(np.ones(3) / 4), 0.5)
                inside.wait()
            else:
                with backends.use(be):
                    inside.wait()
                    seen[name] = backends.current()
                    spinla.multiply(spinla.asarray(np.ones(3) / 4), 0.5)
                    inside.wait()
                seen[name + "_after"] = backends.current()
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=("a", mine)),
               threading.Thread(target=worker, args=("b", None))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert seen["a"] is mine
    assert seen["b"] is not mine and not isinstance(seen["b"], Counting)
    assert seen["a_after"] is seen["b"]         # both contexts share the default emulator
    assert mine.programs == ["multiply"]        # the other thread's add ran elsewhere
    assert mine.bytes_up["asarray"] == 6 and theirs.programs == []


def test_nested_use_restores_the_outer_backend():
    a, b = Counting(), Counting()
    default = backends.current()
    with backends.use(a):
        with backends.use(b):
            assert backends.current() is b
        assert backends.current() is a
    assert backends.current() is default
