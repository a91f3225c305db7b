"""Split sums (spinla/kernels/reduce.py, spinla_c/reduce_q15.c): exact int64 partials over
slices of the reduced axis, then one combining call that rounds once, are bit for bit the
NumPy reference of the one-tile sum (tests/qref_eltwise.py), in either rounding mode and
whether the outputs saturate or not, with each saturated output counted once; the cost model
prices the split, and a LeNet-5 bias-gradient sum splits."""
import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import qref_eltwise as R
import spinla as sp
from spinla.emulator import run_program
from spinla.fixed import q
from spinla.kernels import lib
from spinla.kernels import reduce as kred
from spinla.program import Buffer, Program


def _run_sum(raw, fi, fo, mode, nparts, machine, seed_base=7):
    """The sum over axis 1 of raw (outer, n, inner) lowered with `nparts` partials, run once;
    returns (outputs, saturations, calls, the rounding seed the kernel saw)."""
    outer, n, inner = raw.shape
    x = Buffer(raw.shape, q(fi), data=np.ascontiguousarray(raw, np.int16))
    out = Buffer((outer, inner), q(fo))
    sp.seed(seed_base)
    calls = kred.lower("sum", x, out, outer=outer, n=n, inner=inner, shift=fi - fo,
                       rounding=mode, machine=machine, label="sum", nparts=nparts)
    sp.reset_stats()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sp.SaturationWarning)
        (y,) = run_program(Program(calls=calls, outputs=[out], name="sum"), [], 0)
    seed = int(lib.spl_seed_mix(calls[-1].seed, 0)) if calls[-1].stochastic else 0
    return y, sp.stats().saturated["sum"], calls, seed


@settings(max_examples=60, deadline=None)
@given(outer=st.integers(1, 3), n=st.integers(2, 3000), inner=st.integers(1, 9),
       nparts=st.integers(2, 70), fi=st.integers(0, 15), drop=st.integers(-2, 14),
       mode=st.sampled_from(["nearest", "stochastic"]), big=st.booleans(),
       seed=st.integers(0, 10_000))
def test_split_sum_is_the_one_tile_sum_bit_for_bit(outer, n, inner, nparts, fi, drop, mode,
                                                   big, seed):
    rng = np.random.default_rng(seed)
    # big: extreme values of one sign, so that narrow output formats saturate
    raw = (rng.integers(20000, 32768, (outer, n, inner)) * rng.choice([-1, 1]) if big
           else rng.integers(-32768, 32768, (outer, n, inner)))
    fo = max(0, min(15, fi - drop))       # drop < 0: a finer output, a left shift
    m = sp.machine.spinn5()
    y, sat, calls, kseed = _run_sum(raw, fi, fo, mode, nparts, m)
    assert [c.kernel for c in calls] == ["reduce_part_q15", "conv2d_gw_reduce_q15"]
    assert calls[0].outputs[0].shape[0] >= 2       # really split
    ref, ref_sat = R.reduce("sum", raw, 1, fi, fo, mode, kseed)
    np.testing.assert_array_equal(y, ref)
    assert sat == ref_sat                          # once per saturated output
    y1, sat1, calls1, _ = _run_sum(raw, fi, fo, mode, 1, m)
    assert [c.kernel for c in calls1] == ["reduce_q15"]
    np.testing.assert_array_equal(y, y1)
    assert sat == sat1


def test_saturation_is_counted_once_per_output():
    raw = np.full((2, 5000, 3), 32767)
    raw[1, :, 1] = -32768
    y, sat, calls, _ = _run_sum(raw, 15, 15, "nearest", 64, sp.machine.spinn5())
    assert len(calls) == 2 and sat == 6            # 6 outputs, each far past the range
    assert (y[0] == 32767).all() and y[1, 1] == -32768


def test_lenet5_bias_gradient_sum_splits_and_is_exact():
    sp.set_machine("spinn5")
    rng = np.random.default_rng(4)
    raw = rng.integers(-32768, 32768, (64, 28, 28, 6))
    from arrays import raw_array
    x = raw_array(raw, 12)
    prog = sp.jit(lambda t: sp.sum(t, axis=(0, 1, 2))).program(x)
    assert [c.kernel for c in prog.calls] == ["reduce_part_q15", "conv2d_gw_reduce_q15"]
    part = prog.calls[0]
    assert part.ntiles >= 64 and len(np.unique(part.cores)) == part.ntiles
    s = sp.sum(x, axis=(0, 1, 2))
    np.testing.assert_array_equal(s.raw, R.reduce("sum", raw, (0, 1, 2), 12, s.fmt.frac)[0])


def test_the_cost_model_sees_the_split():
    m = sp.machine.spinn5()
    raw = np.zeros((1, 50176, 6), np.int16)
    x = Buffer(raw.shape, q(12), data=raw)
    out = Buffer((1, 6), q(0))
    kw = dict(outer=1, n=50176, inner=6, shift=12, rounding="nearest", machine=m, label="sum")
    one = kred.lower("sum", x, out, nparts=1, **kw)
    split = kred.lower("sum", x, out, **kw)
    assert len(one) == 1 and len(split) == 2
    t_one = sp.cost.cost_of(Program(calls=one, outputs=[out]), m).time_s
    t_split = sp.cost.cost_of(Program(calls=split, outputs=[out]), m).time_s
    assert t_split < t_one / 20


def test_small_sums_and_other_reductions_do_not_split():
    """(A sum of 3,200 inputs, (4, 100, 8), does split since the partial tile has a calibrated
    formula of its own: the cost model prices that split 20 % faster than one call.)"""
    m = sp.machine.spinn5()
    for op, shape in (("sum", (2, 50, 4)), ("mean", (1, 50176, 6)), ("max", (1, 50176, 6))):
        x = Buffer(shape, q(12), data=np.zeros(shape, np.int16))
        out = Buffer((shape[0], shape[2]), q(12))
        calls = kred.lower(op, x, out, outer=shape[0], n=shape[1], inner=shape[2], shift=0,
                           rounding="nearest", machine=m, label=op)
        assert [c.kernel for c in calls] == ["reduce_q15"], (op, shape)
