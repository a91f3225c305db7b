"""Data-parallel placement states what it runs (spinla.place, issue 9): a Call runs
data-parallel only where each tile reads its partitioned inputs from the one chip it runs on
(its replica's batch slice), the gradient all-reduce is the Program's own calls (partials on
the replicas, combining tiles reading the other replicas' slices as packets, the optimiser's
updated weights multicast to every replica), and the cost model prices exactly the transfers
the streams carry."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import spinla
from spinla import mapping, streams, tiling
from spinla.cost import cost_of
from spinla.place import OPTIMISER_KERNELS, place, reads


@pytest.fixture(scope="module")
def lenet1_data():
    """LeNet-1's training step at batch 16 on a SpiNN-5, placed data-parallel on 4 replicas."""
    m = spinla.machine.get("spinn5")
    prog = mapping.train_step_program("lenet1", 16, "spinn5")
    pl = place(prog, m, "data", replicas=4)
    return prog, m, pl


def _chip(m, cores):
    return np.asarray(cores, np.int64) // m.app_cores_per_chip


def test_the_batch_is_split_into_slices_one_per_replica(lenet1_data):
    prog, m, pl = lenet1_data
    assert len(pl.replicas) == 4
    x = prog.batch_inputs[0]
    reshaped = [c.outputs[0] for c in prog.calls if c.kernel == "view" and c.inputs[0] is x]
    h = pl.homes[(reshaped or [x])[0].id]
    row = x.nbytes // x.shape[0]
    assert not h.replicated and h.chips.tolist() == pl.replicas
    assert (np.diff(h.starts) == 4 * row).all() and h.stops[-1] == x.nbytes


def test_each_data_mode_tile_reads_only_its_replicas_rows(lenet1_data):
    prog, m, pl = lenet1_data
    ndata = 0
    for c, cp, hin in zip(prog.calls, pl.calls, pl.homes_in):
        if cp.mode != "data" or c.kernel == "view":
            continue
        ndata += 1
        chip = _chip(m, cp.cores)
        for i, b in enumerate(c.inputs):
            h = hin[b.id]
            if h.replicated:
                assert set(chip.tolist()) <= set(h.chips.tolist()), (c, b)
                continue
            tile, s, e = reads(c, i, exact=True)
            keep = e > s
            tile, s, e = tile[keep], s[keep], e[keep]
            k = np.searchsorted(h.stops, s, side="right")
            assert (h.starts[k] <= s).all() and (e <= h.stops[k]).all(), (c, b)
            assert (h.chips[k] == chip[tile]).all(), f"{c}: a tile reads another chip's rows"
    assert ndata >= len(prog.calls) // 3, "most of LeNet-1's step is batch-separable"


def test_calls_that_are_not_batch_separable_are_model_parallel_and_listed(lenet1_data):
    prog, m, pl = lenet1_data
    assert pl.not_data
    for i, op, why in pl.not_data:
        assert pl.calls[i].mode == "model" and prog.calls[i].op == op and why
    # The gradient combining calls read every replica's partials: never data mode.
    combine = [i for i, c in enumerate(prog.calls) if c.kernel == "conv2d_gw_reduce_q15"
               and c.inputs[0].shape[0] > 1]
    assert combine and all(pl.calls[i].mode == "model" for i in combine)


def _parsed(prog, m, pl):
    return {k: streams.parse(v) for k, v in prog.streams(m, pl).items()}


def test_streams_carry_the_reduce_scatter_and_the_all_gather(lenet1_data):
    prog, m, pl = lenet1_data
    parsed = _parsed(prog, m, pl)
    mc = spinla.abi.const("SPL_PACKET_MULTICAST")
    sends, recvs = {}, {}
    for (x, y, core), s in parsed.items():
        for ph in s["phases"]:
            for pk in ph["send"]:
                sends[pk["key"]] = (ph["call"], pk)
            for pk in ph["recv"]:
                recvs.setdefault(ph["call"], []).append(pk)
    for call, pks in recvs.items():
        for pk in pks:
            c, sent = sends[pk["key"]]
            assert c == call
            assert (sent["npackets"], sent["bytes"], sent["buffer"], sent["offset"]) == \
                (pk["npackets"], pk["bytes"], pk["buffer"], pk["offset"])
    # Reduce-scatter: the combining tiles of a weight gradient receive other chips' partials.
    combine = [i for i, c in enumerate(prog.calls) if c.kernel == "conv2d_gw_reduce_q15"
               and c.inputs[0].shape[0] > 1]
    assert any(recvs.get(i) for i in combine)
    # All-gather: each optimiser whose weights are replicated sends its tiles' updated
    # weights as multicasts that every other replica's monitor receives.
    gathered = 0
    for i, (c, cp) in enumerate(zip(prog.calls, pl.calls)):
        h = cp.outputs.get(0)
        if c.kernel not in OPTIMISER_KERNELS or h is None or not h.replicated:
            continue
        writers = set(_chip(m, cp.cores).tolist())
        copies = set(h.chips.tolist())
        # Every copy hears the update from some other writer; a lone writer's own copy is
        # written locally.
        want = copies - writers if len(writers) == 1 else copies
        if not want:
            continue
        # (sent by the application cores that ran the tiles; monitors send what is read)
        mine = {pk["key"] for call, pk in sends.values()
                if call == i and pk["dst_x"] == mc and pk["src_core"] != 0}
        got = {(pk["dst_x"], pk["dst_y"]) for pk in recvs.get(i, ()) if pk["key"] in mine}
        assert got == {spinla.place.chip_xy(m, h_) for h_ in want}, c
        gathered += 1
    assert gathered >= 2


def test_the_cost_model_prices_the_packets_the_streams_carry(lenet1_data):
    """Call by call: the cost model charges packets exactly where the streams move bytes
    between chips, and the data-parallel figures carry no transfer the streams do not."""
    prog, m, pl = lenet1_data
    cost = cost_of(prog, m, placement=pl)
    parsed = _parsed(prog, m, pl)
    moved = np.zeros(len(prog.calls))
    for s in parsed.values():
        for ph in s["phases"]:
            moved[ph["call"]] += sum(pk["bytes"] for pk in ph["recv"])
    for i, (c, row) in enumerate(zip(prog.calls, cost.calls)):
        assert (row.packets > 0) == (moved[i] > 0), (i, c, row.packets, moved[i])
        if row.packets:
            # each received byte is in some packet; a stream's record rounds up per range
            assert row.packets >= moved[i] / m.packet_payload_bytes / 64, (i, c)


@settings(max_examples=60, deadline=None)
@given(rows=st.integers(1, 64), row=st.integers(1, 300), per=st.integers(1, 2000))
def test_aligned_ranges_cover_without_crossing_a_power_of_two_slice(rows, row, per):
    s, e = tiling.aligned_ranges(rows * row, per, row)
    assert s[0] == 0 and e[-1] == rows * row and (s[1:] == e[:-1]).all() and (e > s).all()
    assert (e - s <= max(per, 1)).all() or (e - s == row).all()
    q = 1
    while rows % (2 * q) == 0:
        q *= 2
    # a slice of rows // R rows for R a power of two dividing rows and no smaller than the
    # tiles' row groups: whole ranges
    group = max(1, (per // row))
    group = 1 << int(np.log2(group)) if per >= row else 1
    for r in (1, 2, 4, 8):
        if rows % r == 0 and rows // r >= group and (rows // r) % group == 0:
            bounds = np.arange(0, rows, rows // r) * row
            assert np.isin(bounds, s).all()
