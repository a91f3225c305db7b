"""The emulator runs a matmul in its own host blocks (spinla/kernels/gemm.py host_tiles), not
the board's tiles: every output is rounded once at its global position, so any partition of
the output must give the same bits and saturation count.  Checked here on random tilings,
data up to full range, both rounding modes and batched products."""
import dataclasses

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from spinla.kernels import gemm, lib, ptr


def _grid(batch, m, n, mt, nt):
    return np.array([(b, m0, min(m, m0 + mt), n0, min(n, n0 + nt)) for b in range(batch)
                     for n0 in range(0, n, nt) for m0 in range(0, m, mt)], np.int32)


def _run(a, bt, tiles, shift, mode, seed):
    batch, m, k = a.shape
    n = bt.shape[1]
    c = np.full((batch, m, n), 12345, np.int16)
    sat = lib.spl_run_gemm(ptr(a), ptr(bt), ptr(c), m, n, k, ptr(tiles, "int32_t *"),
                           len(tiles), shift, mode, seed, 2)
    return c, int(sat)


@settings(max_examples=60, deadline=None)
@given(batch=st.integers(1, 3), m=st.integers(1, 90), n=st.integers(1, 140),
       k=st.integers(1, 300), mt=st.integers(1, 40), nt=st.integers(1, 40),
       amp=st.sampled_from([50, 3000, 32767]), shift=st.integers(0, 30),
       mode=st.integers(0, 1), seed=st.integers(0, 2**32 - 1), nthreads=st.integers(1, 4))
def test_host_blocks_give_the_board_tiles_bits(batch, m, n, k, mt, nt, amp, shift, mode, seed,
                                               nthreads):
    rng = np.random.default_rng(seed)
    a = rng.integers(-amp, amp + 1, (batch, m, k)).astype(np.int16)
    bt = rng.integers(-amp, amp + 1, (batch, n, k)).astype(np.int16)
    board = _run(a, bt, _grid(batch, m, n, mt, nt), shift, mode, seed)
    host = _run(a, bt, gemm.host_tiles(batch, m, n, nthreads), shift, mode, seed)
    np.testing.assert_array_equal(board[0], host[0])
    assert board[1] == host[1]


def test_host_blocks_cover_the_output_once():
    for batch, m, n, th in [(1, 64, 300, 2), (3, 7, 5, 1), (2, 784, 300, 16), (1, 1, 1, 2)]:
        t = gemm.host_tiles(batch, m, n, th)
        hit = np.zeros((batch, m, n), np.int32)
        for b, m0, m1, n0, n1 in t:
            hit[b, m0:m1, n0:n1] += 1
        assert (hit == 1).all()


def test_a_partial_tile_set_keeps_its_own_tiles():
    """A call holding one tile of its product (the checked mode's re-run) must not be widened
    to the whole output."""
    from spinla.fixed import Format
    from spinla.program import Buffer
    a = Buffer((200, 300), Format(13))
    b = Buffer((400, 300), Format(13))
    c = Buffer((200, 400), Format(13))
    from spinla.machine import current
    call = gemm.lower(a, b, c, shift=13, rounding="nearest", machine=current())
    call = call[0] if isinstance(call, (list, tuple)) else call
    assert call.ntiles > 1
    np.testing.assert_array_equal(gemm._host_or_board_tiles(call),
                                  gemm.host_tiles(1, 200, 400, gemm.threads(200 * 400 * 300)))
    one = dataclasses.replace(call, tiles=call.tiles[:1])
    np.testing.assert_array_equal(gemm._host_or_board_tiles(one), call.tiles[:1])
