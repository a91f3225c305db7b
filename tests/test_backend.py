"""The backend seam (spinla.backends): every host-to-machine transfer goes through upload and
is recorded; runtime runs Programs through the current backend; the pure-Python parts import
without the compiled extension."""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import spinla
from spinla import backends, state
from spinla.backends.emulator import EmulatorBackend
from spinla.cost import transfer_cost
from spinla import machine as mach


class Recorder:
    def __init__(self):
        self.seen = []

    def on_transfer(self, t):
        self.seen.append(t)


def test_uploads_are_recorded_per_kind():
    rec = Recorder()
    with state.observing(rec):
        spinla.asarray(np.ones((3, 4)))                    # 24 bytes, asarray
        spinla.zeros((5,))                                 # 10 bytes, constant
        spinla.add(spinla.asarray(np.ones(2)), 1.5)        # 4 bytes asarray + 2 constant
    kinds = [(t.kind, t.nbytes) for t in rec.seen]
    assert kinds == [("asarray", 24), ("constant", 10), ("asarray", 4), ("constant", 2)]
    assert all(t.direction == "up" for t in rec.seen)


def test_nn_data_and_learning_rate_go_through_upload():
    from spinla.nn import data as nndata
    from spinla.nn.optimizers import lr_array
    rec = Recorder()
    with state.observing(rec):
        nndata.place_x(np.zeros((4, 28, 28), np.uint8), spinla.q(8))
        lr_array(123)
    assert [(t.kind, t.nbytes) for t in rec.seen] == [("dataset", 4 * 28 * 28 * 2),
                                                     ("scalar", 2)]


def test_upload_rejects_unknown_kind_and_non_int16():
    b = EmulatorBackend()
    with pytest.raises(ValueError, match="unknown transfer kind"):
        b.upload(np.zeros(3, np.int16), spinla.q(8), kind="teleport")
    with pytest.raises(TypeError, match="int16"):
        b.upload(np.zeros(3), spinla.q(8), kind="asarray")


def test_runtime_runs_programs_on_the_current_backend():
    class Counting(EmulatorBackend):
        def __init__(self):
            super().__init__()
            self.runs = []

        def run(self, program, args, run_index):
            self.runs.append((program.name, run_index))
            return super().run(program, args, run_index)

    be = Counting()
    with backends.use(be):
        x = spinla.asarray(np.arange(6.0).reshape(2, 3) / 8)
        y = spinla.multiply(x, x)
        f = spinla.jit(lambda a: spinla.add(a, a), name="twice")
        f(x)
        f(x)
    assert be.bytes_up["asarray"] == 12
    assert ("twice", 0) in be.runs and ("twice", 1) in be.runs
    assert any(name == "multiply" for name, _ in be.runs)
    np.testing.assert_array_equal(np.asarray(y), (np.arange(6.0).reshape(2, 3) / 8) ** 2)
    assert backends.current() is not be
    with pytest.raises(TypeError, match="Backend"):
        with backends.use("emulator"):
            pass


def test_profile_prices_uploads_over_the_host_link():
    m = mach.spinn5()
    with spinla.profile(m) as p:
        spinla.asarray(np.ones((100, 50)))                 # 10,000 bytes
    assert p.host_bytes == {"asarray": 10_000}
    assert p.host_transfer_s == pytest.approx(10_000 * 8 / 100e6)
    assert transfer_cost(10_000, mach.spinn5(10)) == pytest.approx(p.host_transfer_s / 10)
    assert "host-to-board" in p.report() and p.to_dict()["host_upload_bytes"] == p.host_bytes


def test_lowering_placement_and_cost_import_without_the_c_extension(tmp_path):
    code = textwrap.dedent("""
        import importlib.abc, sys
        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name == "spinla._kernels":
                    raise ImportError("C extension blocked for this test")
        sys.meta_path.insert(0, Block())
        import spinla.cost, spinla.machine, spinla.program, spinla.tiling
        from spinla.kernels import conv, copy, eltwise, gemm, lut, optim, pool, reduce
        from spinla.kernels import requant, softmax, warp
        from spinla.program import Buffer
        from spinla.fixed import Format
        m = spinla.machine.spinn5()
        a, b, c = Buffer((64, 32), Format(12)), Buffer((48, 32), Format(12)), Buffer((64, 48), Format(12))
        call = gemm.lower(a, b, c, shift=12, rounding="nearest", machine=m)
        print(spinla.cost.cost_of(call, m).macs, "spinla._kernels" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(float(64 * 48 * 32)), "False"]
