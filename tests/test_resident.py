"""A training set resident on every chip: the per-step gather by row numbers known only at run
time (nn.data.place_rows / gather_rows, kernel gather_rows_indexed_q15), the resident inputs'
homes, and calls placed 'local' (whole on every chip, spinla.place), checked as the board
would run them."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import spinla
from spinla import checked, mapping, place
from spinla.backends import upload, use
from spinla.backends.emulator import EmulatorBackend
from spinla.cost import cost_of, resident_load_cost, transfer_cost
from spinla.fixed import INT16
from spinla.nn.data import gather_rows, place_rows

from board_workload import train_steps


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 40), cols=st.integers(1, 9), k=st.integers(0, 50), seed=st.integers(0, 99))
def test_gather_rows_is_numpy_take(n, cols, k, seed):
    rng = np.random.default_rng(seed)
    table = rng.uniform(-1, 1, (n, cols))
    rows = rng.integers(0, n, k)
    a = spinla.asarray(table, fmt="q2.13")
    got = gather_rows(a, place_rows(rows, n))
    assert got.shape == (k, cols) and got.fmt == a.fmt
    np.testing.assert_array_equal(got.to_numpy(), np.take(a.to_numpy(), rows, axis=0))


def test_place_rows_checks_the_numbers_before_anything_is_sent():
    with pytest.raises(IndexError, match=r"\[0, 5\)"):
        place_rows(np.array([0, 5]), 5)
    with pytest.raises(IndexError):
        place_rows(np.array([-1]), 5)
    with pytest.raises(TypeError, match="1-d integer"):
        place_rows(np.array([0.5]), 5)
    with pytest.raises(TypeError, match="pairs"):
        gather_rows(spinla.zeros((4, 3)), spinla.asarray(np.zeros(4, np.int16), fmt="int16"))


def test_a_number_out_of_range_gathers_zeros_and_is_counted():
    """The board's gather does not check its numbers; the host's reads nothing outside the
    table: the row is zeros and counted (spinla.stats), never silent."""
    table = spinla.asarray(np.full((3, 4), 0.5), fmt="q1.14")
    bad = np.ascontiguousarray([1, 7, 2], "<i4").view(np.int16).reshape(3, 2)
    rows = spinla.Array(upload(bad, INT16, kind="order"))
    with spinla.errstate(all="ignore"):
        got = gather_rows(table, rows).to_numpy()
    np.testing.assert_array_equal(got, [[0.5] * 4, [0.0] * 4, [0.5] * 4])
    assert spinla.stats().saturated.get("gather_rows") == 1


@pytest.fixture(scope="module")
def mlp1_step():
    spinla.set_machine("spinn5")
    prog = mapping.train_step_program("mlp1", 64, "spinn5")
    return prog, place.place(prog, "spinn5")


def test_the_resident_set_is_on_every_chip_and_the_batch_is_not_broadcast(mlp1_step):
    prog, pl = mlp1_step
    m = pl.machine
    assert prog.resident_inputs[0].shape == (60_000, 28, 28)
    for b in prog.resident_inputs[:3]:
        h = pl.homes[b.id]
        assert h.replicated and sorted(h.chips.tolist()) == list(range(m.chips))
    # Each chip gathers the batch from its own copy: the three gathers run 'local', and the
    # forward product finds the images on every chip (no broadcast: compute-bound).
    gathers = [i for i, c in enumerate(prog.calls) if c.kernel == "gather_rows_indexed_q15"]
    assert len(gathers) == 3 and all(pl.calls[i].mode == "local" for i in gathers)
    c = cost_of(prog, m, placement=pl)
    i = next(i for i, c in enumerate(prog.calls) if c.kernel == "gemm_q15")
    images = pl.homes_in[i][prog.calls[i].inputs[0].id]
    assert images.replicated and len(images.chips) == m.chips
    assert c.calls[i].bound == "compute"
    # A local call's cores are busy on every chip: charged for all of them.
    g = c.calls[gathers[0]]
    assert g.chips_used == m.chips and g.cores_used % m.chips == 0


def test_mapping_prices_the_set_on_every_chip(mlp1_step):
    prog, pl = mlp1_step
    d = mapping.mapping(prog, "mlp1", 64, "spinn5")
    assert d["sdram_peak_bytes_per_chip"] > mapping.MNIST_TRAIN_BYTES
    assert d["dataset_load_every_chip_once_s"] >= transfer_cost(mapping.MNIST_TRAIN_BYTES,
                                                                "spinn5")
    order_s, _ = resident_load_cost(60_000 * 4, "spinn5")
    assert d["order_load_per_epoch_s"] == order_s > 0
    assert d["time_per_epoch_s"] == pytest.approx(d["time_per_step_s"] * d["steps_per_epoch"]
                                                  + order_s)


def test_local_calls_pass_the_checked_replay(monkeypatch):
    """A short fit under model placement: every copy of a 'local' call is re-run on its own
    chip's image, and its outputs must be on every chip after it, with no packet."""
    modes = []
    real = checked.Checker.check_call

    def spy(self, i, call, *a, **kw):
        modes.append(self.replay.placement.calls[i].mode)
        return real(self, i, call, *a, **kw)
    monkeypatch.setattr(checked.Checker, "check_call", spy)
    with use(EmulatorBackend(checked="model")), spinla.errstate(all="ignore"):
        train_steps(np.random.default_rng(5), nets=("mlp1",))
    assert "local" in modes
