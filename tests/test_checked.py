"""The emulator's checked mode (spinla/checked.py): every tile re-run on only the bytes its DMA
plan declares, inside its DTCM budget, from its own chip's SDRAM image filled by the streams'
packets (spinla/sdram.py).  On here for every kernel family and one short fit of each MNIST
network, under model- and data-parallel placements; and shown to fail, naming call, tile and
core, on a wrong plan or a wrong packet record."""
from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import spinla
from spinla import abi, checked, place, sdram, streams
from spinla.backends import use
from spinla.backends.emulator import EmulatorBackend
from spinla.beside import Beside
from spinla.kernels import KERNELS, dma

from board_workload import run_ops, train_steps


@pytest.fixture
def counted(monkeypatch):
    """Kernel names of every Call the checked mode looked at."""
    seen = []
    real = checked.Checker.check_call

    def spy(self, i, call, *a, **kw):
        seen.append((call.kernel, self.replay.placement.strategy))
        return real(self, i, call, *a, **kw)
    monkeypatch.setattr(checked.Checker, "check_call", spy)
    return seen


@pytest.mark.parametrize("strategy", ["model", "data"])
def test_every_kernel_family_passes_checked(rng, counted, strategy):
    with use(EmulatorBackend(checked=strategy)), spinla.errstate(all="ignore"):
        run_ops(rng)
    assert {k for k, _ in counted} == set(KERNELS) - {"adam_q15"}   # Adam: in training
    assert {s for _, s in counted} == {strategy}


# Each network under one strategy (both for all five would double the file's time): the
# model-parallel streams of the MLPs are the largest (a packet record per transposed row).
NETS = [("mlp1", "data"), ("mlp2", "data"), ("lenet1", "model"), ("lenet4", "data"),
        ("lenet5", "model")]


@pytest.mark.parametrize("net,strategy", NETS)
def test_training_step_passes_checked(net, strategy, counted):
    """Two steps of batch 8 (boosted LeNet-4 trains three LeNet-4s: covered by lenet4)."""
    with use(EmulatorBackend(checked=strategy)), spinla.errstate(all="ignore"):
        train_steps(np.random.default_rng(3), nets=(net,))
    kernels = {k for k, _ in counted}
    assert "adam_q15" in kernels and "gemm_q15" in kernels
    assert {s for _, s in counted} == {strategy}


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


def test_environment_picks_the_strategy(rng, counted, monkeypatch):
    monkeypatch.setenv("SPINLA_CHECKED", "data")
    _matmul(rng)
    assert counted and {s for _, s in counted} == {"data"}
    counted.clear()
    monkeypatch.setenv("SPINLA_CHECKED", "1")        # place()'s default, as `spinla map`
    _matmul(rng)
    assert counted and {s for _, s in counted} == {"best"}


def test_environment_switch(rng, monkeypatch):
    _patched(monkeypatch, "gemm_q15", lambda p: dataclasses.replace(p, scratch=10 ** 9))
    _matmul(rng)                                 # off by default: the fast mode only
    monkeypatch.setenv("SPINLA_CHECKED", "1")
    with pytest.raises(checked.CheckError, match="DTCM"):
        _matmul(rng)


# --- the streams' packets, replayed between the chips' SDRAM images ---------------------------

def _big_matmul(rng):
    """A matmul that model-parallel placement spreads over chips, reading remote rows."""
    a = spinla.asarray(rng.uniform(-1, 1, (256, 200)), fmt="q2.13")
    b = spinla.asarray(rng.uniform(-1, 1, (200, 256)), fmt="q2.13")
    return spinla.matmul(a, b)


def _edited(monkeypatch, edit):
    """Streams as built, then edited by edit(cores) for the gemm's Program; returns what edit
    returned (the record it changed)."""
    real = streams.build
    seen = {}
    monkeypatch.setattr(checked, "_REPLAYS", Beside())     # no replay built before the edit

    def build(program, machine, placement=None):
        cores, bt = real(program, machine, placement)
        if any(c.kernel == "gemm_q15" for c in program.calls) and not seen:
            seen["edit"] = edit(cores)
        return cores, bt
    monkeypatch.setattr(streams, "build", build)
    return seen


def _edited_fails(monkeypatch, rng, edit):
    """Streams edited by edit(cores) for the model-placed gemm of _big_matmul, whose checked
    run must then fail: (what edit returned, the pytest ExceptionInfo)."""
    got = _edited(monkeypatch, edit)
    with use(EmulatorBackend(checked="model")):
        with pytest.raises(checked.CheckError) as e:
            _big_matmul(rng)
    return got["edit"], e


def _monitor_sends(cores):
    """(core, phase, record) of every send a monitor makes (reads served from its SDRAM)."""
    return [(k, ph, pk) for k, phases in sorted(cores.items()) for ph in phases
            if ph.kernel == abi.const("SPL_KERNEL_NONE") for pk in ph.send]


def _range(pk):
    """Buffer and the first and last byte + 1 of a packet record's rows."""
    return pk["buffer"], pk["offset"], \
        pk["offset"] + (pk["rows"] - 1) * pk["stride"] + pk["row_bytes"]


@pytest.mark.parametrize("strategy", ["model", "data"])
def test_packets_are_replayed(rng, monkeypatch, strategy):
    """A traced layer placed over many chips: its tiles read rows homed on other chips (the
    weights under model-parallel placement; under data-parallel placement, with `x` the batch
    split over the replicas, the calls that are not batch-separable read the replicas' rows),
    which only the packets bring."""
    got = _edited(monkeypatch, lambda cores: len(_monitor_sends(cores)))
    a = spinla.asarray(rng.uniform(-1, 1, (256, 200)), fmt="q2.13")
    b = spinla.asarray(rng.uniform(-1, 1, (200, 256)), fmt="q2.13")
    layer = spinla.jit(lambda x, w: spinla.tanh(spinla.matmul(x, w)) + 1, batch_args=1)
    with use(EmulatorBackend(checked=strategy)):
        out = layer(a, b).to_numpy()
    np.testing.assert_array_equal(out, layer(a, b).to_numpy())
    assert got["edit"] > 0


def test_a_dropped_send_fails_naming_the_packet(rng, monkeypatch):
    def drop(cores):
        _, ph, pk = _monitor_sends(cores)[0]
        ph.send.remove(pk)
        return pk
    pk, e = _edited_fails(monkeypatch, rng, drop)
    o = pk["offset"]
    assert re.search(rf"call 0 \(matmul, gemm_q15\): core \(\d+, \d+, 0\) expects packets "
                     rf"key {pk['key']}\.\.\d+ \(buffer {pk['buffer']} (bytes \[{o}, \d+\)|"
                     rf"\d+ rows of \d+ bytes \d+ apart from byte {o})\), which no core sends",
                     str(e.value)), str(e.value)


def test_a_dropped_recv_leaves_poison_that_the_reader_names(rng, monkeypatch):
    """A multicast that two chips expect, dropped from one: that chip's tiles read bytes it
    does not hold; the error names the chip, the core and the buffer bytes."""
    def drop(cores):
        holders = {}
        for k, phases in sorted(cores.items()):
            for ph in phases:
                for pk in ph.recv:
                    holders.setdefault(pk["key"], []).append((k, ph, pk))
        k, ph, pk = next(v[0] for v in holders.values() if len(v) > 1)
        ph.recv.remove(pk)
        return k, pk
    ((x, y, _), pk), e = _edited_fails(monkeypatch, rng, drop)
    b, lo, hi = _range(pk)
    m = re.search(rf"call 0 \(matmul, gemm_q15\) tile \d+ .* on chip \({x}, {y}\) core \d+: "
                  rf"reads bytes \[(\d+), (\d+)\).* of buffer {b} .*that chip \({x}, {y}\) does "
                  rf"not hold", str(e.value))
    assert m, str(e.value)
    assert lo <= int(m.group(1)) < int(m.group(2)) <= hi


def _tiles(cores):
    """(core, Phase) of every tile phase."""
    return [(k, ph) for k, phases in sorted(cores.items()) for ph in phases
            if ph.kernel != abi.const("SPL_KERNEL_NONE")]


def test_a_reader_not_ordered_after_an_arrival_fails(rng, monkeypatch):
    """A tile whose phase waits for one arrival fewer than it reads (as when only the first
    core of a chip to read a multicast was ordered after it): on a board its read races the
    packets; the replay, which has the bytes, fails naming the tile, chip, core and bytes."""
    def early(cores):
        # A reader on a core of a chip where other cores read packet-delivered bytes too.
        readers = {}
        for k, ph in _tiles(cores):
            if ph.wait:
                readers.setdefault(k[:2], set()).add(k)
        k, ph = next((k, ph) for k, ph in _tiles(cores) if ph.wait and len(readers[k[:2]]) > 1)
        ph.wait -= 1
        return k, ph.tile
    ((x, y, core), tile), e = _edited_fails(monkeypatch, rng, early)
    assert re.search(rf"call 0 \(matmul, gemm_q15\) tile {tile} .* on chip \({x}, {y}\) core "
                     rf"{core}: reads bytes \[\d+, \d+\).* of buffer \d+ .*that packets bring "
                     rf"to chip \({x}, {y}\) in this Call as its arrival \d+, but its phase waits "
                     rf"for \d+ arrivals: nothing orders the read after them", str(e.value)), \
        str(e.value)


def test_a_recv_held_by_an_application_core_fails(rng, monkeypatch):
    """Arrivals are counted by the chip's monitor: a recv moved into a tile's phase has
    nobody counting it for the chip's other cores."""
    def move(cores):
        (x, y, _), mon = next((k, ph) for k, phases in sorted(cores.items()) if k[2] == 0
                              for ph in phases if ph.recv)
        k, ph = next((k, ph) for k, ph in _tiles(cores) if k[:2] == (x, y))
        ph.recv.append(mon.recv.pop(0))
        return k, ph.recv[-1]
    (k, pk), e = _edited_fails(monkeypatch, rng, move)
    assert re.search(rf"core {re.escape(str(k))} expects packets key {pk['key']}\.\..*: only "
                     r"its chip's monitor \(core 0\) receives packets", str(e.value)), str(e.value)


def test_a_placement_that_forgets_remote_bytes_fails(rng, monkeypatch):
    """Both records of one transfer missing (as if the builder never saw the remote bytes):
    only the per-chip images can tell."""
    def forget(cores):
        _, ph, pk = _monitor_sends(cores)[0]
        ph.send.remove(pk)
        for phases in cores.values():
            for p in phases:
                p.recv[:] = [r for r in p.recv if r["key"] != pk["key"]]
        return pk
    got = _edited(monkeypatch, forget)
    with use(EmulatorBackend(checked="model")):
        with pytest.raises(checked.CheckError, match=r"reads bytes \[\d+, \d+\).* does not "
                                                     r"hold: no Home puts them there"):
            _big_matmul(rng)
    assert got["edit"]


def test_a_wrong_destination_chip_fails(rng, monkeypatch):
    """A multicast turned into a packet for one chip that does not expect it."""
    def misroute(cores):
        _, _, pk = _monitor_sends(cores)[0]
        # The chips expecting this packet's keys (core keys are (x, y, p)).
        expecting = {(k[0], k[1]) for k, phases in cores.items() for ph in phases
                     for r in ph.recv if r["key"] == pk["key"]}
        pk["dst_x"], pk["dst_y"] = next((x, y) for x in range(7, -1, -1) for y in range(5, -1, -1)
                                        if (x, y) not in expecting)
        return pk
    pk, e = _edited_fails(monkeypatch, rng, misroute)
    assert re.search(rf"sends packets key {pk['key']}\.\..* to chip \({pk['dst_x']}, "
                     rf"{pk['dst_y']}\); core .* expects them", str(e.value)), str(e.value)


def _home_away(monkeypatch):
    """The gemm's output homed whole on chip 47, away from every tile that writes it: each
    tile's writes must then go there as packets."""
    real = place.output_home

    def away(call, j, cp, machine, homes):
        if call.kernel == "gemm_q15":
            return place.Home.whole([machine.chips - 1], call.outputs[j].nbytes)
        return real(call, j, cp, machine, homes)
    monkeypatch.setattr(place, "output_home", away)


def test_writes_homed_elsewhere_travel_as_packets(rng, monkeypatch):
    _home_away(monkeypatch)
    got = _edited(monkeypatch, lambda cores: sum(
        len(ph.send) for v in cores.values() for ph in v
        if ph.kernel != abi.const("SPL_KERNEL_NONE")))
    with use(EmulatorBackend(checked="model")):
        _big_matmul(rng)
    assert got["edit"] > 0


def test_writes_sent_to_the_wrong_chip_fail_at_their_home(rng, monkeypatch):
    """A tile's write packets sent (and expected) on chip 46 instead of their home, 47: the
    records pair up, but the home chip lacks the bytes after the Call."""
    _home_away(monkeypatch)
    none = abi.const("SPL_KERNEL_NONE")

    def misroute(cores):
        (x, y, c), ph = next((k, ph) for k, phases in sorted(cores.items()) for ph in phases
                             if ph.kernel != none and ph.send)
        pk = ph.send[0]
        home = next(p for (hx, hy, hc), phases in cores.items() if hc == 0
                    and (hx, hy) == (pk["dst_x"], pk["dst_y"]) for p in phases
                    if p.call == ph.call)
        rec = next(r for r in home.recv if r["key"] == pk["key"])
        home.recv.remove(rec)
        pk = ph.send[0] = dict(pk, dst_x=pk["dst_x"] - 1)
        cores.setdefault((pk["dst_x"], pk["dst_y"], 0), []).append(
            streams.Phase(ph.call, none, 0, np.zeros(0, np.int32), recv=[dict(pk)]))
        return pk
    pk, e = _edited_fails(monkeypatch, rng, misroute)
    assert re.search(r"call 0 \(matmul, gemm_q15\): output 0 bytes \[\d+, \d+\).* are "
                     rf"homed on chip \({pk['dst_x'] + 1}, {pk['dst_y']}\) but are not there "
                     r"after the Call \(written by \(\d+, \d+\) core \d+", str(e.value)), \
        str(e.value)


@given(offset=st.integers(0, 60), nrows=st.integers(1, 6), row_bytes=st.integers(0, 9),
       stride=st.integers(-12, 12))
def test_rows_view_is_the_transfers_bytes(offset, nrows, row_bytes, stride):
    buf = np.arange(64, dtype=np.uint8)
    d = dma.Dma(dma.READ, 0, offset, nrows, row_bytes, stride)
    s, e = d.byte_ranges()
    v = sdram.rows(buf, offset, nrows, row_bytes, stride)
    if row_bytes and (s.min() < 0 or e.max() > buf.size):
        assert v is None
    else:
        assert v.tolist() == [buf[a:z].tolist() for a, z in zip(s, e)]


@given(st.lists(st.tuples(st.integers(0, 50), st.integers(1, 7)), min_size=1, max_size=6))
def test_ranges_index_concatenates_the_ranges(ranges):
    o, n = zip(*ranges)
    want = [b for a, k in ranges for b in range(a, a + k)]
    assert sdram.ranges_index(o, n).tolist() == want
