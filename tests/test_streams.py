"""DMA plans of every kernel family (spinla/kernels/dma.py) and the per-core streams built from
them (spinla/streams.py, in spinla.h's layout)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import spinla
from spinla import abi, streams
from spinla.kernels import KERNELS, dma
from spinla.place import chip_xy, place

from board_workload import Recorder, run_ops, train_steps


@pytest.fixture(scope="module")
def programs():
    """Every Program of the workload and of a short fit of MLP-1 and LeNet-5, on spinn5."""
    spinla.set_machine("spinn5")
    rec = Recorder()
    rng = np.random.default_rng(7)
    with spinla.runtime.observing(rec), spinla.errstate(all="ignore"):
        run_ops(rng)
        train_steps(rng)
    return rec.programs


def test_every_kernel_states_its_dma_plan_and_has_a_kernel_id():
    ids = abi.enum("SPL_KERNEL_")
    assert set(KERNELS) <= set(dma.PLANS)
    assert set(KERNELS) - {"view"} <= set(ids)
    assert len(set(ids.values())) == len(ids)


def test_plans_cover_every_family(programs):
    seen = {c.kernel for p in programs for c in p.calls}
    assert seen == set(KERNELS), f"workload misses {set(KERNELS) - seen}"


def test_dma_annotations_equal_the_plans(programs):
    """The cost model's per-tile bytes (dma_in, dma_out) are the plans' totals, so the cost
    model and the descriptors a core runs cannot disagree."""
    for p in programs:
        for c in p.calls:
            r, w = dma.totals(c)
            assert np.array_equal(r, np.asarray(c.dma_in)), (c.op, c.kernel, r, c.dma_in)
            assert np.array_equal(w, np.asarray(c.dma_out)), (c.op, c.kernel, w, c.dma_out)


def test_transfers_stay_inside_their_buffers(programs):
    for p in programs:
        for c in p.calls:
            for t in range(c.ntiles):
                for d in dma.plan(c, t).dmas:
                    if isinstance(d.operand, str):
                        size = 4 * len(c.params[d.operand])
                    else:
                        size = (c.inputs if d.dir == dma.READ else c.outputs)[d.operand].nbytes
                    if d.indexed:
                        # Its rows are named at run time (checked mode and the host runner
                        # check the numbers); whole rows of the operand, from its start.
                        assert d.offset == 0 and size % d.stride == 0, (c.op, d, size)
                        assert d.row_bytes <= d.stride, (c.op, d)
                        continue
                    s, e = d.byte_ranges()
                    assert s.min() >= 0 and e.max() <= size, (c.op, c.kernel, t, d, size)


def test_box_reads_a_transpose_as_one_2d_transfer():
    ds = dma.box(dma.READ, 0, 5, (4, 784), (1, 256))   # a column block of a (784, 256) array
    assert ds == [dma.Dma(dma.READ, 0, 10, 784, 8, 512)]
    flipped = dma.box(dma.READ, 0, 9, (10,), (-1,))
    assert flipped == [dma.block(dma.READ, 0, 0, 20)]
    rep = dma.box(dma.READ, 0, 0, (3, 4), (0, 1))      # a row broadcast three times
    assert sum(d.nbytes for d in rep) == 24 and all(d.offset == 0 for d in rep)


def _largest(programs, name):
    return max((p for p in programs if name in p.name), key=lambda p: len(p.calls))


@pytest.fixture(scope="module")
def lenet5_streams(programs):
    """LeNet-5's training step placed on a SpiNN-5, its placement and its streams."""
    prog = _largest(programs, "lenet5_train")
    m = spinla.machine.get("spinn5")
    pl = place(prog, m)
    return prog, m, pl, prog.streams(m, pl)


def test_streams_round_trip_and_cover_every_tile(lenet5_streams):
    prog, m, pl, st = lenet5_streams
    none = abi.const("SPL_KERNEL_NONE")
    ids = abi.enum("SPL_KERNEL_")
    tiles, sends, recvs = {}, {}, []
    for (x, y, core), blob in st.items():
        s = streams.parse(blob)
        h = s["header"]
        assert (h["chip_x"], h["chip_y"], h["core"]) == (x, y, core)
        assert h["dtcm_bytes"] == m.dtcm_bytes
        calls = [ph["call"] for ph in s["phases"]]
        assert calls == sorted(calls), "phases run in Call order"
        for ph in s["phases"]:
            assert ph["barrier"] == ph["call"]
            for pk in ph["send"]:
                assert (pk["src_x"], pk["src_y"], pk["src_core"]) == (x, y, core)
                sends[pk["key"]] = pk
            for pk in ph["recv"]:
                assert (pk["dst_x"], pk["dst_y"]) == (x, y)
                assert core == 0, "only a chip's monitor receives (and counts arrivals)"
                recvs.append(pk)
            if ph["kernel"] == none:
                continue
            call = prog.calls[ph["call"]]
            assert ph["kernel"] == ids[call.kernel]
            assert ph["fields"] == call.tiles[ph["tile"]].tolist()
            chip, pc = m.core_location(int(pl.calls[ph["call"]].cores[ph["tile"]]))
            assert pc == core
            plan = dma.plan(call, ph["tile"])
            assert [(d["rows"], d["row_bytes"], d["stride"]) for d in ph["dmas"]] == \
                [(d.rows, d.row_bytes, d.stride) for d in plan.dmas]
            assert ph["dtcm_bytes"] == plan.dtcm
            key = (ph["call"], ph["tile"], x, y)
            assert key not in tiles
            tiles[key] = core
    # Each tile once, on the chip of its core; a call placed 'local' on each of its copies.
    want = {(i, t, *chip_xy(m, int(chip))) for i, (c, cp) in enumerate(zip(prog.calls,
                                                                           pl.calls))
            if c.kernel != "view" for _, cores in cp.copy_cores(m)
            for t, chip in enumerate(np.asarray(cores) // m.app_cores_per_chip)}
    assert set(tiles) == want
    # Every packet a chip expects is sent once, under the same keys and bytes.
    assert recvs, "a multi-chip placement moves some bytes between chips"
    fields = ("npackets", "buffer", "offset", "rows", "row_bytes", "stride")
    for pk in recvs:
        sent = sends[pk["key"]]
        assert [sent[f] for f in fields] == [pk[f] for f in fields]
    for pk in sends.values():
        assert pk["npackets"] == -(-pk["rows"] * pk["row_bytes"] // m.packet_payload_bytes)
        assert pk["rows"] == 1 or pk["stride"] > pk["row_bytes"], "touching rows are one row"
    assert any(pk["rows"] > 1 for pk in sends.values()), "strided remote reads are one record"
    keys = sorted((pk["key"], pk["npackets"]) for pk in sends.values())
    assert all(k0 + n0 <= k1 for (k0, n0), (k1, _) in zip(keys, keys[1:])), "key ranges overlap"


def test_stream_dma_bytes_are_the_calls_bytes(lenet5_streams):
    """Summed over all streams, each Call's DMA bytes are its annotations' (once per copy
    of a call placed 'local')."""
    prog, m, pl, st = lenet5_streams
    rd, wr = {}, {}
    for blob in st.values():
        for ph in streams.parse(blob)["phases"]:
            for d in ph["dmas"]:
                tgt = wr if d["dir"] == abi.const("SPL_DMA_WRITE") else rd
                tgt[ph["call"]] = tgt.get(ph["call"], 0) + d["rows"] * d["row_bytes"]
    for i, c in enumerate(prog.calls):
        if c.kernel != "view":
            k = len(pl.calls[i].copy_cores(m))
            assert rd.get(i, 0) == k * int(np.sum(c.dma_in)), (i, c.op)
            assert wr.get(i, 0) == k * int(np.sum(c.dma_out)), (i, c.op)


def test_parse_rejects_a_foreign_blob():
    with pytest.raises(ValueError, match="not a spinla stream"):
        streams.parse(bytes(abi.struct("spl_stream_header_t").size))


def test_cli_map_writes_streams(tmp_path, capsys):
    from spinla import cli
    out = tmp_path / "streams"
    assert cli.main(["map", "mlp1", "--machine", "spinn3", "--batch", "16", "--no-png",
                     "--streams", str(out)]) == 0
    files = sorted(p.name for p in out.iterdir())
    assert "buffers.json" in files
    bins = [out / f for f in files if f.endswith(".bin")]
    assert bins and all(f.name.startswith("core-") for f in bins)
    import json
    table = json.loads((out / "buffers.json").read_text())
    for f in bins:
        s = streams.parse(f.read_bytes())
        x, y, c = (int(v) for v in f.stem.split("-")[1:])
        assert (s["header"]["chip_x"], s["header"]["chip_y"], s["header"]["core"]) == (x, y, c)
        assert s["header"]["nbuffers"] == len(table)
        for ph in s["phases"]:
            for d in ph["dmas"]:
                end = d["offset"] + (d["rows"] - 1) * d["stride"] + d["row_bytes"]
                assert 0 <= d["offset"] and end <= table[d["buffer"]]["bytes"]


@given(st.lists(st.tuples(st.integers(1, 5), st.integers(-40, 40)), min_size=1, max_size=4),
       st.integers(0, 50))
def test_box_transfers_cover_the_box_exactly(dims, offset):
    """Every element of a strided box (repeats included) is moved once per use, and nothing
    else: the transfers' element multiset is the box's."""
    shape = [n for n, _ in dims]
    strides = [s for _, s in dims]
    idx = np.asarray(offset + sum(
        np.meshgrid(*[s * np.arange(n) for n, s in dims], indexing="ij")).reshape(-1))
    base = -min(0, int(idx.min()))            # keep every address non-negative
    got = []
    for d in dma.box(dma.READ, 0, offset + base, shape, strides):
        s, e = d.byte_ranges()
        got += [np.arange(a // 2, z // 2) for a, z in zip(s.tolist(), e.tolist())]
    got = np.sort(np.concatenate(got)) if got else np.zeros(0, np.int64)
    np.testing.assert_array_equal(got, np.sort(idx + base))


@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 30), st.integers(1, 4)),
                min_size=1, max_size=12))
def test_strided_records_move_exactly_the_remote_bytes(parts):
    """Byte ranges per chip (disjoint within a chip) as strided packet records: each record's
    rows expand to exactly the ranges' bytes, per chip, and no record has touching rows."""
    seen, c, lo, hi = set(), [], [], []
    for chip, a, n in parts:
        mine = {(chip, b) for b in range(4 * a, 4 * a + n)}
        if mine & seen or any((chip, b) in seen for b in (4 * a - 1, 4 * a + n)):
            continue
        seen |= mine
        c.append(chip), lo.append(4 * a), hi.append(4 * a + n)
    got = set()
    for chip, s, n, rb, stride in zip(*streams._strided(*(np.asarray(v, np.int64)
                                                           for v in (c, lo, hi)))):
        assert n == 1 or stride > rb
        rows = {(chip, s + r * stride + b) for r in range(n) for b in range(rb)}
        assert not rows & got
        got |= rows
    assert got == seen


def test_a_transposed_remote_read_is_one_record():
    """Rows of a column block homed on one other chip: one strided record, not one per row."""
    d = dma.Dma(dma.READ, 0, 10, 784, 8, 512)
    parts = (np.asarray([1]), np.asarray([0]), np.asarray([784 * 512]))
    chips, starts, rows, row_bytes, strides = streams._remote_records(d, parts, 0)
    assert (chips, starts, rows, row_bytes, strides) == ([1], [10], [784], [8], [512])


@given(offset=st.integers(0, 40), nrows=st.integers(1, 8), row_bytes=st.integers(1, 9),
       stride=st.integers(0, 20), cuts=st.lists(st.integers(1, 199), max_size=6),
       owners=st.lists(st.integers(0, 3), min_size=7, max_size=7), me=st.integers(0, 3))
def test_remote_records_are_the_rows_other_chips_hold(offset, nrows, row_bytes, stride, cuts,
                                                     owners, me):
    """A transfer's rows against a home split into parts over chips: the records expand to
    exactly the bytes the rows read from parts of other chips, each on its chip."""
    edges = sorted(set(cuts) | {0, 200})
    chips = np.asarray(owners[:len(edges) - 1])
    parts = (chips, np.asarray(edges[:-1]), np.asarray(edges[1:]))
    d = dma.Dma(dma.READ, 0, offset, nrows, row_bytes, stride)
    want = {(int(chips[np.searchsorted(edges, b, side="right") - 1]), b)
            for r in range(nrows) for b in range(offset + r * stride,
                                                 offset + r * stride + row_bytes)}
    want = {(c, b) for c, b in want if c != me}
    got = set()
    for c, s, n, rb, step in zip(*streams._remote_records(d, parts, me)):
        got |= {(c, s + r * step + b) for r in range(n) for b in range(rb)}
    assert got == want
