"""The emulator's checked mode (spinla/checked.py): every tile re-run on only the bytes its DMA
plan declares, inside its DTCM budget.  On here for every kernel family and one short fit of
each MNIST network; and shown to fail, naming call, tile and core, on a wrong plan."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import spinla
from spinla import checked
from spinla.backends import use
from spinla.backends.emulator import EmulatorBackend
from spinla.kernels import KERNELS, dma

from board_workload import run_ops, train_steps


@pytest.fixture
def counted(monkeypatch):
    """Kernel names of every Call the checked mode looked at."""
    seen = []
    real = checked.check_call

    def spy(program, i, call, *a, **kw):
        seen.append(call.kernel)
        return real(program, i, call, *a, **kw)
    monkeypatch.setattr(checked, "check_call", spy)
    return seen


def test_every_kernel_family_passes_checked(rng, counted):
    with use(EmulatorBackend(checked=True)), spinla.errstate(all="ignore"):
        run_ops(rng)
    assert set(counted) == set(KERNELS) - {"adam_q15"}     # Adam: in the training steps


@pytest.mark.parametrize("net", ["mlp1", "mlp2", "lenet1", "lenet4", "lenet5"])
def test_training_step_passes_checked(net, counted):
    """Two steps of batch 8 (boosted LeNet-4 trains three LeNet-4s: covered by lenet4)."""
    with use(EmulatorBackend(checked=True)), spinla.errstate(all="ignore"):
        train_steps(np.random.default_rng(3), nets=(net,))
    assert "adam_q15" in counted and "gemm_q15" in counted


def test_checked_gives_the_fast_bits(rng):
    a = rng.uniform(-1, 1, (33, 70))
    b = rng.uniform(-1, 1, (70, 21))
    fast = spinla.matmul(spinla.asarray(a, fmt="q2.13"), spinla.asarray(b, fmt="q2.13"),
                         rounding="stochastic").to_numpy()
    spinla.seed(1234)
    with use(EmulatorBackend(checked=True)):
        slow = spinla.matmul(spinla.asarray(a, fmt="q2.13"), spinla.asarray(b, fmt="q2.13"),
                             rounding="stochastic").to_numpy()
    np.testing.assert_array_equal(fast, slow)


def _matmul(rng):
    a = spinla.asarray(rng.uniform(-1, 1, (64, 40)), fmt="q2.13")
    b = spinla.asarray(rng.uniform(-1, 1, (40, 48)), fmt="q2.13")
    return spinla.matmul(a, b)


def _patched(monkeypatch, kernel, change):
    real = dma.PLANS[kernel]
    monkeypatch.setitem(dma.PLANS, kernel, lambda call, t: change(real(call, t)))


def test_an_under_declared_read_fails_naming_call_tile_and_core(rng, monkeypatch):
    # Drop the last A row from every tile's reads: the tile then computes from poison.
    def shorter(plan):
        a = plan.dmas[0]
        return dataclasses.replace(plan, dmas=(dataclasses.replace(
            a, row_bytes=a.row_bytes - 80),) + plan.dmas[1:])
    _patched(monkeypatch, "gemm_q15", shorter)
    with use(EmulatorBackend(checked=True)):
        with pytest.raises(checked.CheckError,
                           match=r"call 0 \(matmul, gemm_q15\) tile 0 .* on chip \(0, 0\) core 1"
                                 r": output 0 differs from the fast run"):
            _matmul(rng)


def test_a_write_outside_the_plan_fails(rng, monkeypatch):
    def fewer_rows(plan):
        c = plan.dmas[2]
        return dataclasses.replace(plan, dmas=plan.dmas[:2] + (dataclasses.replace(
            c, rows=c.rows - 1),))
    _patched(monkeypatch, "gemm_q15", fewer_rows)
    with use(EmulatorBackend(checked=True)):
        with pytest.raises(checked.CheckError, match="outside its declared DMA writes"):
            _matmul(rng)


def test_a_tile_over_its_dtcm_budget_fails(rng, monkeypatch):
    budget = spinla.machine.get("spinn5").tile_budget_bytes
    _patched(monkeypatch, "gemm_q15", lambda p: dataclasses.replace(p, scratch=budget))
    with use(EmulatorBackend(checked=True)):
        with pytest.raises(checked.CheckError, match=r"needs \d+ bytes of DTCM"):
            _matmul(rng)


def test_environment_switch(rng, monkeypatch):
    _patched(monkeypatch, "gemm_q15", lambda p: dataclasses.replace(p, scratch=10 ** 9))
    _matmul(rng)                                 # off by default: the fast mode only
    monkeypatch.setenv("SPINLA_CHECKED", "1")
    with pytest.raises(checked.CheckError, match="DTCM"):
        _matmul(rng)
