"""The emulator's weight-gradient reduce (spl_run_conv2d_grad_weight_reduce, spinla_c/host/
run_conv.c), which sums the partials block by block instead of walking each weight down all of
them as the ARM kernel does, against the NumPy reference: every weight the exact int64 sum of
its partials rounded once at its flat index, exactly zero (nothing counted) where the
connection table leaves it out; saturation counted exactly.  (The kernel itself is checked
against the same reference under qemu: tests/test_arm_qemu.py.)"""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import qref
from spinla.kernels import ffi, lib, ptr

MODES = {"nearest": 0, "stochastic": 1}


@settings(max_examples=30, deadline=None)
@given(nparts=st.integers(1, 40), kh=st.integers(1, 5), cin=st.integers(1, 7),
       cout=st.integers(1, 40), ntiles=st.integers(1, 9), tabled=st.booleans(),
       big=st.booleans(), shift=st.integers(-3, 40), mode=st.sampled_from(list(MODES)),
       nthreads=st.integers(1, 3), seed=st.integers(0, 2**32 - 1))
def test_reduce_matches_reference(nparts, kh, cin, cout, ntiles, tabled, big, shift, mode,
                                  nthreads, seed):
    rng = np.random.default_rng(seed)
    k = kh * kh * cin
    amp = 2**40 if big else 2**20           # big: sums far past q15 after the shift
    part = rng.integers(-amp, amp, (nparts, k, cout), dtype=np.int64)
    table = (rng.random((cin, cout)) < 0.6).astype(np.int16) if tabled else None
    cuts = np.sort(rng.integers(0, k * cout + 1, ntiles - 1))
    e = np.concatenate([[0], cuts, [k * cout]])
    tiles = np.stack([e[:-1], e[1:]], 1).astype(np.int32)
    dw = np.full(k * cout, 777, np.int16)
    sat = lib.spl_run_conv2d_grad_weight_reduce(
        ptr(part, "int64_t *"), nparts, k, cin, cout,
        ptr(table) if tabled else ffi.NULL,
        ptr(dw), ptr(tiles, "int32_t *"), len(tiles), shift, MODES[mode], seed, nthreads)
    acc = part.sum(0)
    if tabled:
        acc = acc * np.tile(table, (kh * kh, 1)).astype(np.int64)
    want, wsat = qref.requant(acc.reshape(-1), shift, mode, seed)
    np.testing.assert_array_equal(dw, want)
    assert int(sat) == wsat
