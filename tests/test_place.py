"""Placement (spinla.place) and the cost model that follows it: every tile gets a core and
every buffer a home, re-placing needs no re-lowering, link traffic comes from the homes of a
call's own inputs, and a Program too big for the machine fails at place, by name."""
import sys
from pathlib import Path

import numpy as np
import pytest

import spinla
from spinla import machine as mach
from spinla.cost import cost_of
from spinla.fixed import Format
from spinla.kernels import gemm
from spinla.place import Home, PlacementError, place, route
from spinla.program import Buffer, Program

F = Format(12)
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))


def _mlp_program(machine, batch=32):
    spinla.set_machine(machine)
    rng = np.random.default_rng(3)
    x = spinla.asarray(rng.standard_normal((batch, 256)) * 0.3)
    w1 = spinla.asarray(rng.standard_normal((256, 128)) * 0.05)
    w2 = spinla.asarray(rng.standard_normal((128, 10)) * 0.05)

    def f(x, w1, w2):
        h = spinla.maximum(spinla.matmul(x, w1), 0)
        return spinla.matmul(h, w2)
    return spinla.jit(f, name="mlp").program(x, w1, w2)


def test_every_tile_a_core_every_buffer_a_home_and_replace_without_relowering():
    p = _mlp_program("spinn5")
    tiles_before = [c.tiles.copy() for c in p.calls]
    for m in ("spinn5", "spinn3", "spinn5x2"):
        for strategy in ("model", "data", "best"):
            pl = place(p, m, strategy)
            mm = mach.get(m)
            assert len(pl.calls) == len(p.calls)
            for c, cp in zip(p.calls, pl.calls):
                assert len(cp.cores) == c.ntiles
                assert ((0 <= cp.cores) & (cp.cores < mm.cores)).all()
            for b in p.buffers():
                assert b.id in pl.homes
                h = pl.homes[b.id]
                assert h.replicated or h.nbytes() == b.nbytes, (b, strategy)
            assert cost_of(p, m, placement=pl).time_s > 0
    assert all((a == c.tiles).all() for a, c in zip(tiles_before, p.calls))


def test_small_calls_use_few_chips_and_big_ones_spread():
    spinla.set_machine("spinn5")
    f = spinla.jit(lambda x: spinla.multiply(spinla.add(x, x), x), name="chain")
    small = f.program(spinla.asarray(np.linspace(-1, 1, 1000)))
    big = f.program(spinla.asarray(np.linspace(-1, 1, 400_000)))
    assert cost_of(small, strategy="model").chips_used == 1
    assert cost_of(big, strategy="model").chips_used >= 8


def test_an_elementwise_chain_on_its_inputs_home_sends_no_packets():
    spinla.set_machine("spinn5")
    a = spinla.asarray(np.linspace(-1, 1, 200_000))
    f = spinla.jit(lambda x: spinla.multiply(spinla.add(x, x), x), name="chain")
    p = f.program(a)
    c = cost_of(p, strategy="model")
    assert len(p.calls) == 2 and c.chips_used > 1
    assert c.packets == 0       # each tile's range lives where the tile runs


def _gemm(m, n, k, cores):
    a, bt, c = Buffer((m, k), F), Buffer((n, k), F), Buffer((m, n), F)
    call = gemm.lower(a, bt, c, shift=12, rounding="nearest", machine=mach.spinn5())
    call.cores = np.asarray(cores(call.ntiles), np.int32)
    return call


def test_link_traffic_counts_only_the_calls_own_chips():
    # A one-chip call inside a Program whose other call spans over 16 chips: it reads only its
    # own (resident) operands, so it sends and receives nothing.  The model before issue 9
    # charged it for packets from all of them.
    wide = _gemm(512, 512, 64, lambda n: np.arange(n) % 512)
    narrow = _gemm(16, 16, 64, lambda n: np.zeros(n))
    prog = Program(calls=[wide, narrow], machine=mach.spinn5(), name="two")
    c = cost_of(prog, strategy="lowered")
    assert c.calls[0].chips_used > 16 and c.calls[1].chips_used == 1
    assert c.calls[1].packets == 0 and c.calls[1].link_bound_cycles == 0


def test_routes_follow_the_grid():
    m = mach.spinn5()
    from spinla.place import chip_xy, grid
    xy = grid(m)
    assert route(m, 0, 0, xy) == []
    r = route(m, 0, 9, xy)                       # (0,0) -> (1,1): one diagonal hop
    assert chip_xy(m, 9) == (1, 1) and r == [(0, 1)]
    assert len(route(m, 0, 47, xy)) == max(chip_xy(m, 47))   # diagonal first


def test_home_parts_merge_and_split():
    h = Home.from_parts([3, 3, 4], [0, 10, 20], [10, 20, 30])
    assert h.chips.tolist() == [3, 4] and h.bytes_on() == {3: 20, 4: 10}
    w = Home.whole([1, 2], 100)
    assert w.bytes_on() == {1: 50, 2: 50}
    v = w.shifted(40, 20)
    assert v.bytes_on() == {1: 10, 2: 10}


def test_dtcm_too_big_fails_at_place_naming_the_call():
    a, bt, c = Buffer((64, 32), F), Buffer((64, 32), F), Buffer((64, 64), F)
    call = gemm.lower(a, bt, c, shift=12, rounding="nearest", machine=mach.spinn5())
    prog = Program(calls=[call], name="toy")
    small = mach.spinn5().with_(dtcm_bytes=8 * 1024 + 1024)
    with pytest.raises(PlacementError, match=r"toy: call 0 \(matmul, gemm_q15\) tile \d+ needs"):
        place(prog, small)


def test_sdram_too_big_fails_at_place_naming_the_buffer():
    p = _mlp_program("spinn3")
    tiny = mach.spinn3().with_(sdram_bytes_per_chip=1000)
    with pytest.raises(PlacementError, match=r"would hold .* bytes of buffers \(largest "
                                             r"Buffer#\d+"):
        place(p, tiny)


def test_too_many_routes_fail_at_place_naming_the_call():
    p = _mlp_program("spinn5", batch=64)
    few = mach.spinn5().with_(router_entries_per_chip=1)
    with pytest.raises(PlacementError, match=r"multicast routing entries \(call \d+, \w+"):
        place(p, few, "model")


def test_unknown_strategy_is_rejected():
    with pytest.raises(ValueError, match="unknown strategy"):
        place(_mlp_program("spinn3"), "spinn3", "fastest")


@pytest.mark.parametrize("net", ["mlp1", "lenet5"])
def test_mnist_step_on_one_spinn5_meets_the_issue_targets(net):
    """Issue 9 targets, modelled: the epoch within 1.5x of the roofline of the same
    placement, and LeNet-5's convolutions / MLP-1's matmuls at >= 25 % utilisation of the
    cores they use (the best call of each kind)."""
    from _capture import train_step_program
    p = train_step_program(net, 64, "spinn5")
    c = cost_of(p, "spinn5")
    assert c.time_s <= 1.5 * c.roofline_s
    kind = "conv2d" if net == "lenet5" else "matmul"
    util = [r.utilisation_used_cores for r in c.calls if r.op == kind and r.macs > 0]
    assert util and max(util) >= 0.25
    assert c.energy_j > 26.84 * c.time_s           # at least the board's idle power


def test_cli_map_json_has_the_named_keys(capsys):
    import json

    from spinla import cli
    assert cli.main(["map", "mlp1", "--machine", "spinn3", "--batch", "16", "--json",
                     "--no-png"]) == 0
    d = json.loads(capsys.readouterr().out)
    for k in ("time_per_step_s", "time_per_epoch_s", "energy_per_epoch_j",
              "utilisation_used_cores", "calls", "routing_entries_max_per_chip",
              "sdram_peak_bytes_per_chip", "dtcm_peak_bytes_per_core", "phases"):
        assert k in d, k
    assert d["time_per_epoch_s"] == pytest.approx(d["time_per_step_s"] * 3750
                                                  + d["order_load_per_epoch_s"])
    assert d["machine"] == "spinn3" and d["chips_used"] <= 4
    assert all({"op", "bound", "time_s", "utilisation"} <= set(r) for r in d["calls"])
    assert {r["bound"] for r in d["calls"]} <= {"compute", "sdram", "link", "packets"}
    assert sum(r["time_s"] for r in d["calls"]) == pytest.approx(d["time_per_step_s"])


def test_cli_map_text_and_picture(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from spinla import cli
    png = tmp_path / "m.png"
    assert cli.main(["map", "mlp1", "--machine", "spinn3", "--batch", "16", "--strategy",
                     "model", "--png", str(png)]) == 0
    out = capsys.readouterr().out
    assert "mlp1 on spinn3, strategy model" in out and "roofline" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_info_and_bad_machine(capsys):
    from spinla import cli
    assert cli.main(["info", "--machine", "spinn3"]) == 0
    out = capsys.readouterr().out
    assert "SpiNNMachine" in out and "3.56 W" in out and "100 Mbit/s" in out
    from spinla.kernels import simd_path
    assert f"host SIMD path {simd_path()}" in out
    assert cli.main(["map", "mlp1", "--machine", "spinn9", "--no-png"]) == 2
    assert "unknown machine" in capsys.readouterr().err
