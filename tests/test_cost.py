"""The cost model (spinla.cost) and the profiler (spinla.profile): hand-computed formulas on
hand-built Calls, structural properties on lowered Programs, and the profile report."""
import dataclasses
import json

import numpy as np
import pytest

import spinla
from spinla import machine as mach
from spinla.cost import cost_of
from spinla.fixed import Format
from spinla.kernels import cycle_table
from spinla.kernels import gemm
from spinla.program import Buffer, Call, Program

F = Format(12)


def gemm_call(tiles, cores, k=32, m=64, n=64):
    """A gemm_q15 Call over hand-chosen (batch, m0, m1, n0, n1) tiles on hand-chosen cores."""
    t = np.asarray(tiles, np.int32)
    tm = (t[:, 2] - t[:, 1]).astype(np.int64)
    tn = (t[:, 4] - t[:, 3]).astype(np.int64)
    a, bt, c = Buffer((m, k), F), Buffer((n, k), F), Buffer((m, n), F)
    return Call(kernel="gemm_q15", op="matmul", inputs=(a, bt), outputs=(c,),
                params=dict(m=m, n=n, k=k, shift=12, rounding="nearest"), tiles=t,
                cores=np.asarray(cores, np.int32), macs=tm * tn * k, elems=tm * tn,
                dma_in=2 * (tm + tn) * k, dma_out=2 * tm * tn,
                dtcm=2 * (tm + tn) * k + 2 * tm * tn)


def copy_call(ntiles, elems, cores, packets=None):
    """A copy_q15 Call: ntiles tiles of `elems` elements, 2 bytes in and out per element."""
    e = np.full(ntiles, elems, np.int64)
    return Call(kernel="copy_q15", op="permute_dims", inputs=(Buffer((ntiles * elems,), F),),
                outputs=(Buffer((ntiles * elems,), F),), params=dict(pieces=[], fill=None),
                tiles=np.zeros((ntiles, 3), np.int32), cores=np.asarray(cores, np.int32),
                macs=np.zeros(ntiles, np.int64), elems=e, dma_in=2 * e, dma_out=2 * e,
                dtcm=4 * e, packets=packets)


def gemm_tile_cycles(mt, nt, k):
    return float(cycle_table.predict("gemm", m=mt, n=nt, k=k))


def test_one_gemm_tile_by_hand():
    m = mach.spinn5()
    k = 32
    c = cost_of(gemm_call([(0, 0, 16, 0, 16)], [0], k=k), m)
    comp = gemm_tile_cycles(16, 16, k)                         # cycle_table's formula
    dma_bytes = 2 * (16 + 16) * k + 2 * 16 * 16                 # 2,560 bytes
    dma = dma_bytes * m.clock_hz / m.sdram_bandwidth_bytes_per_s  # one busy core: whole chip
    assert comp > dma                                          # compute bound
    busy = comp + 3 * m.dma_setup_cycles                       # two inputs, one output
    cycles = busy + m.barrier_cycles
    cc = c.calls[0]
    assert cc.cycles_max == pytest.approx(busy)
    assert c.cycles == pytest.approx(cycles)
    assert c.time_s == pytest.approx(cycles / m.clock_hz)
    assert c.macs == 16 * 16 * k and c.dma_bytes == dma_bytes
    assert c.packets == 0 and c.chips_used == 1 and c.cores_used == 1
    assert cc.bound == "compute"
    # the whole board is charged at its measured idle power for the phase (26.84 W,
    # SpiNNMachine), the busy core adds the measured 0.034 W per active core
    assert m.board_idle_power_w == 26.84 and m.core_active_power_w == 0.034
    assert c.energy_j == pytest.approx(26.84 * c.time_s + 0.034 * busy / m.clock_hz)
    assert c.utilisation_used_cores == pytest.approx(16 * 16 * k / cycles)
    assert c.utilisation_machine == pytest.approx(16 * 16 * k / cycles / m.cores)
    assert list(c.core_cycles) == pytest.approx([busy])


def test_dma_bound_tile_shares_the_chips_sdram():
    # A machine with slow SDRAM makes the tile DMA bound; two busy cores on one chip each get
    # half of the bandwidth, so each tile's DMA takes twice as long as alone.
    m = mach.spinn5().with_(sdram_bandwidth_bytes_per_s=4e6)
    one = cost_of(gemm_call([(0, 0, 16, 0, 16)], [0]), m).calls[0]
    two = cost_of(gemm_call([(0, 0, 16, 0, 16), (0, 16, 32, 0, 16)], [0, 1]), m).calls[0]
    setup = 3 * m.dma_setup_cycles
    dma1 = 2560 * m.clock_hz / 4e6
    assert one.cycles_max == pytest.approx(dma1 + setup)
    assert two.cycles_max == pytest.approx(2 * dma1 + setup)
    assert one.bound == two.bound == "sdram"
    assert two.sdram_bound_cycles == pytest.approx(2 * dma1)


def test_phase_is_max_over_cores_not_sum():
    m = mach.spinn5()
    tiles = [(0, 0, 16, 0, 16), (0, 16, 32, 0, 16)]
    apart = cost_of(gemm_call(tiles, [0, 1]), m)     # same chip, two cores
    same = cost_of(gemm_call(tiles, [0, 0]), m)      # one core runs both tiles
    work_apart = apart.cycles - m.barrier_cycles
    work_same = same.cycles - m.barrier_cycles
    assert work_same == pytest.approx(2 * work_apart)
    assert apart.macs == same.macs
    assert apart.cores_used == 2 and same.cores_used == 1
    assert apart.utilisation_used_cores == pytest.approx(same.utilisation_used_cores * (
        same.cycles / apart.cycles) / 2)
    # program time is the sum of its phases
    prog = Program(calls=[gemm_call(tiles, [0, 1]), gemm_call(tiles, [0, 0])], machine=m)
    assert cost_of(prog, strategy="lowered").time_s == pytest.approx(apart.time_s + same.time_s)


def test_sdram_bound_binds_for_a_copy_heavy_call():
    m = mach.spinn5()
    elems = 4096
    c = cost_of(copy_call(16, elems, np.arange(16)), m)      # one chip, every core busy
    cc = c.calls[0]
    chip_bytes = 16 * 4 * elems
    sdram = chip_bytes * m.clock_hz / m.sdram_bandwidth_bytes_per_s
    compute = float(cycle_table.predict("copy", contig=elems, strided=0, runs=1, fill=0))
    assert sdram > 2 * compute                                # copies wait on SDRAM
    assert cc.bound == "sdram"
    assert cc.sdram_bound_cycles == pytest.approx(sdram)
    assert c.cycles >= sdram + m.barrier_cycles
    assert c.cycles == pytest.approx(sdram + 2 * m.dma_setup_cycles + m.barrier_cycles)
    # the same bytes on twice the bandwidth take half the SDRAM time
    fast = cost_of(copy_call(16, elems, np.arange(16)),
                   m.with_(sdram_bandwidth_bytes_per_s=2 * m.sdram_bandwidth_bytes_per_s))
    assert fast.calls[0].sdram_bound_cycles == pytest.approx(sdram / 2)


def test_multichip_packets_and_link_bound():
    # Call 1 writes Y on chips 0 and 1 (cores 0..31); call 2 reads all of Y on chips 2 and 3.
    # copy_q15 does not state which bytes a tile reads, so each tile's reads are taken as
    # spread over Y: each reading chip needs min(its tiles' reads, Y) bytes, half from each
    # writing chip, as 4-byte packets.
    m = mach.spinn5()
    elems = 4096
    first = copy_call(32, elems, np.arange(32))
    second = copy_call(32, elems, np.arange(32, 64))
    second.inputs = first.outputs
    prog = Program(calls=[first, second], machine=m, name="two copies")
    c = cost_of(prog, strategy="lowered")
    one, two = c.calls
    assert one.packets == 0 and one.chips_used == 2   # its input is laid out for its reads
    per_chip = 16 * 2 * elems                          # bytes a reading chip's tiles read
    assert two.packets == pytest.approx(2 * per_chip / m.packet_payload_bytes)
    assert two.link_hops >= two.packets                # every packet crosses >= one link
    assert two.link_bound_cycles > 0
    assert two.cycles == pytest.approx(max(two.link_bound_cycles, two.sdram_bound_cycles,
                                           two.cycles_max) + m.barrier_cycles)
    # each packet is received by a core: the receive cost is CPU time on that chip
    assert two.busy_core_s * m.clock_hz >= two.packets * m.receive_cycles_per_packet
    assert cost_of(copy_call(16, elems, np.arange(16)), m).packets == 0  # one chip


def test_view_calls_are_free():
    spinla.set_machine("spinn3")
    f = spinla.jit(lambda x: spinla.reshape(x, (6, 4)))
    p = f.program(spinla.asarray(np.ones((4, 6))))
    c = cost_of(p)
    assert [k.kernel for k in p.calls] == ["view"]
    assert c.time_s == 0 and c.energy_j == 0 and c.calls[0].bound == "none"


def _matmul_program(machine, n=256):
    spinla.set_machine(machine)
    rng = np.random.default_rng(1)
    a = spinla.asarray(rng.standard_normal((n, n)) * 0.1)
    b = spinla.asarray(rng.standard_normal((n, n)) * 0.1)
    return spinla.jit(lambda x, y: spinla.matmul(x, y)).program(a, b)


def test_more_cores_less_time_for_a_big_matmul():
    c3 = cost_of(_matmul_program("spinn3"))
    c5 = cost_of(_matmul_program("spinn5"))
    assert c3.machine == "spinn3" and c5.machine == "spinn5"
    assert c5.macs == c3.macs == 256 ** 3
    assert c5.cores_used > c3.cores_used
    assert c5.time_s < c3.time_s
    for c in (c3, c5):
        assert 0 < c.utilisation_machine <= c.utilisation_used_cores <= 1
        assert all(0 <= k.utilisation_used_cores <= 1 for k in c.calls)
        assert len(c.core_cycles) <= mach.get(c.machine).cores
        assert c.core_cycles.sum() / 2e8 == pytest.approx(c.busy_core_s)


def test_energy_positive_and_grows_with_time():
    m = mach.spinn5()
    small = cost_of(gemm_call([(0, 0, 16, 0, 16)], [0], k=32), m)
    big = cost_of(gemm_call([(0, 0, 16, 0, 16)], [0], k=128, m=16, n=16), m)
    assert 0 < small.energy_j < big.energy_j and small.time_s < big.time_s
    assert (small * 3).energy_j == pytest.approx(3 * small.energy_j)
    assert (small + small).time_s == pytest.approx(2 * small.time_s)
    used = cost_of(gemm_call([(0, 0, 16, 0, 16)], [0], k=32), m, charge_idle_chips=False)
    assert 0 < used.energy_j < small.energy_j
    assert used.time_s == small.time_s
    idle_chip = m.board_idle_power_w / m.chips_per_board            # one chip's share
    dyn = small.energy_j - m.board_idle_power_w * small.time_s
    assert used.energy_j == pytest.approx(idle_chip * used.time_s + dyn)


def test_utilisation_at_most_one_even_compute_bound():
    m = mach.spinn5().with_(sdram_bandwidth_bytes_per_s=1e15, barrier_cycles=0,
                            dma_setup_cycles=0)
    c = cost_of(gemm_call([(0, 0, 64, 0, 64)], [0], k=64), m)
    assert c.utilisation_used_cores <= 1
    assert c.utilisation_used_cores == pytest.approx(64 ** 3 / gemm_tile_cycles(64, 64, 64))


def test_cost_is_cached_per_program_and_machine():
    p = _matmul_program("spinn3", n=64)
    assert cost_of(p) is cost_of(p)
    assert cost_of(p, "spinn3") is cost_of(p)
    other = cost_of(p, mach.spinn3().with_(barrier_cycles=0))
    assert other is not cost_of(p) and other.time_s < cost_of(p).time_s
    assert cost_of(p, charge_idle_chips=False).energy_j <= cost_of(p).energy_j  # 4 of 4 chips
    with pytest.raises(TypeError, match="cost_of"):
        cost_of("matmul")


def test_cost_to_dict_is_json():
    c = cost_of(_matmul_program("spinn3", n=64))
    d = c.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["macs"] == 64 ** 3 and len(d["calls"]) == len(c.calls)
    assert (c * 0).time_s == 0 and sum([c, c]).runs == 2 and (c + c).macs == 2 * c.macs


def _ops_inside():
    rng = np.random.default_rng(2)
    a = spinla.asarray(rng.standard_normal((40, 24)) * 0.2)
    b = spinla.asarray(rng.standard_normal((24, 8)) * 0.2)
    c = spinla.matmul(a, b, fmt="q6.9")   # not q4.11, so the astype below is a real call
    d = spinla.pad(c, 1)
    e = spinla.permute_dims(spinla.reshape(d, (6, 7, 10)), (2, 0, 1))
    g = spinla.astype(e, "q4.11")
    h = spinla.concat([g, g], axis=1)
    f = spinla.jit(lambda x, y: spinla.matmul(x, y), name="mm")
    for _ in range(3):
        f(a, b)
    return h


def test_profile_report_rows_and_totals():
    spinla.set_machine("spinn3")
    with spinla.profile("spinn5") as p:
        assert mach.current().name == "spinn5"
        _ops_inside()
    assert mach.current().name == "spinn3"
    ops = {r.op: r for r in p.ops}
    assert set(ops) >= {"matmul", "pad", "reshape", "permute_dims", "astype", "concat"}
    assert ops["matmul"].calls == 4 and ops["matmul"].macs == 4 * 40 * 24 * 8
    t = p.total
    assert t.machine == "spinn5" and p.runs == t.runs >= 9
    for name in ("time_s", "energy_j", "macs", "dma_bytes", "packets", "cycles",
                 "busy_core_s"):
        assert getattr(t, name) == pytest.approx(sum(getattr(r, name) for r in p.ops)), name
    assert 0 < t.utilisation_machine <= t.utilisation_used_cores <= 1
    rep = p.report()
    for op in ops:
        assert op in rep
    assert "total" in rep and "emulator wall time (host)" in rep and "modelled" in rep
    head = rep.splitlines()[1:3]
    assert head[0].count("modelled") >= 7          # every modelled column says so
    assert p.wall_s() > 0


def test_profile_restores_machine_on_error_and_stops_observing():
    spinla.set_machine("spinn3")
    with pytest.raises(RuntimeError):
        with spinla.profile("spinn5x2") as p:
            assert mach.current().name == "spinn5x2"
            spinla.astype(spinla.asarray(np.ones(10)), "q2.13")
            raise RuntimeError("boom")
    assert mach.current().name == "spinn3"
    runs = p.runs
    spinla.astype(spinla.asarray(np.ones(10)), "q2.13")     # after the block: not counted
    assert p.runs == runs == 1
    with spinla.profile() as q:                               # default: the current machine
        spinla.astype(spinla.asarray(np.ones(10)), "q2.13")
    assert q.total.machine == "spinn3" and mach.current().name == "spinn3"


def test_profile_to_dict_json_round_trip():
    with spinla.profile("spinn3") as p:
        _ops_inside()
    d = p.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["machine"] == "spinn3" and d["emulator_wall_time_host_s"] > 0
    assert {r["op"] for r in d["ops"]} == {r.op for r in p.ops}
    assert d["total"]["time_s"] == pytest.approx(sum(r["time_s"] for r in d["ops"]))


def test_machine_describe_lists_every_parameter_with_a_source():
    m = mach.spinn5()
    text = m.describe()
    for f in dataclasses.fields(m):
        assert f.name in text
        assert f.metadata.get("source")
    assert "ASSUMPTION" in text and "SpiNNMachine" in text
    assert all(src for _, _, src in m.parameters())
    assert m.peak_macs_per_s == m.cores * m.clock_hz


def test_equal_eager_programs_share_one_cost_and_it_is_the_uncached_one():
    # Eager ops make a new Program each time; cost_of keys short Programs by structure.
    from spinla import cost as costmod
    from spinla import runtime as rt
    progs = []

    class Grab:
        def on_run(self, p):
            progs.append(p)

    x = spinla.asarray(np.linspace(-1, 1, 64 * 300).reshape(64, 300), fmt="q1.14")
    with rt.observing(Grab()):
        spinla.add(x, x)
        spinla.add(x, x)
        spinla.add(x[:32], x[:32])
    a, b, c = (spinla.cost_of(p, "spinn5") for p in progs[-3:])
    assert a is b                                  # one Cost for the same structure
    assert c.time_s != a.time_s                    # a different shape is priced anew
    costmod.forget_costs()
    fresh = spinla.cost_of(progs[-2], "spinn5")
    assert fresh is not a and fresh.time_s == a.time_s and fresh.energy_j == a.energy_j


def test_batched_flows_equal_one_flow_at_a_time():
    """_Traffic.flows (the pricing's one-pass multicast) gives the loop of flow_vec's figures
    bit for bit, fractional byte counts included."""
    from spinla.cost import _Traffic
    m = mach.get("spinn5")
    rng = np.random.default_rng(1)
    idx = np.sort(rng.choice(m.chips, 12, replace=False))
    srcs = np.asarray([0, 7, 30, 47, int(idx[3])])
    need = rng.random((len(srcs), len(idx))) * 900 * (rng.random((len(srcs), len(idx))) > 0.3)
    unions = need.sum(axis=1) * 0.7
    one, many = _Traffic(m), _Traffic(m)
    one.bytes_in += 0.1; many.bytes_in += 0.1          # earlier fractional flows
    for s, d, u in zip(srcs.tolist(), need, unions.tolist()):
        one.flow_vec(s, idx, d, u)
    many.flows(srcs, idx, need, unions)
    for name in ("sent", "recv", "bytes_in", "bytes_out", "links", "entries"):
        assert np.array_equal(getattr(one, name), getattr(many, name)), name
    assert one.links.sum() > 0


def test_remembered_call_costs_equal_fresh_ones():
    """Pricing a placed Program from the placer's memo gives exactly what pricing it afresh
    gives (every field of every call)."""
    from spinla.cost import _price
    from spinla.place import place
    m = mach.get("spinn5")
    prog = _matmul_program(m, 512)
    pl = place(prog, m, "best")
    assert pl.memo                                       # the placer filled it
    remembered = _price(prog.calls, pl, m, True).to_dict()
    pl.memo = None
    fresh = _price(prog.calls, pl, m, True).to_dict()
    assert remembered == fresh


def test_gather_pays_one_dma_set_up_per_transfer_of_its_plan(rng):
    """A row gather's cycles: the table's core work plus one DMA set-up for each source
    transfer its DMA plan lists (runs of consecutive rows are one transfer)."""
    from spinla.kernels import KERNELS, dma
    from spinla.kernels import copy as kcopy
    x = spinla.asarray(rng.uniform(-1, 1, (300, 8)), fmt=12)
    rows = np.r_[np.tile(np.arange(300), 8), rng.integers(0, 300, 1500), np.arange(5, 60)]
    prog = spinla.jit(lambda v: spinla.take(v, rows, axis=0)).program(x)
    (call,) = [c for c in prog.calls if c.kernel == "gather_rows_q15"]
    m = mach.get("spinn5")
    runs = [sum(1 for d in dma.plan(call, t).dmas if d.dir == dma.READ
                and d.operand == 0) for t in range(call.ntiles)]
    assert max(runs) > 1 and min(runs) < max(runs)
    want = (cycle_table.predict("gather", rows=(call.tiles[:, 1] - call.tiles[:, 0]).astype(
        float), elems=call.elems) + m.dma_setup_cycles * np.asarray(runs, float))
    np.testing.assert_allclose(KERNELS["gather_rows_q15"].cycles(call, m), want)
    np.testing.assert_array_equal(kcopy._source_runs(call), runs)
