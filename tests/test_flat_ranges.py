"""Element-wise runners re-cut the board's flat tiles into one range per host thread when the
tiles cover one range back to back (spl_flat_ranges, spinla_c/host/spl_threads.inc).  Every
output depends only on its own flat index, so outputs and saturation counts must equal the
per-tile path's bit for bit; the same tiles in reverse order are not one ascending run, so they
take the per-tile path and serve as the reference here."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from spinla.kernels import lib, ptr


def _tiles(rng, n, ntiles):
    cuts = np.sort(rng.integers(0, n + 1, ntiles - 1))
    e = np.concatenate([[0], cuts, [n]])
    return np.stack([e[:-1], e[1:]], 1).astype(np.int32)


def _both(run, tiles):
    merged = run(np.ascontiguousarray(tiles))
    per_tile = run(np.ascontiguousarray(tiles[::-1]))
    return merged, per_tile


# Adam's parameters as MLP-1 trains (beta 0.9 / 0.999 in Q30, eps, ratio clamp, shifts).
ADAM = dict(beta1=966367642, beta2=1072668082, eps=32768, ratio_max=542002, w_shift=26,
            g_shift=0)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 5000), ntiles=st.integers(1, 40), mode=st.integers(0, 1),
       nthreads=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
def test_adam_ranges_match_tiles(n, ntiles, mode, nthreads, seed):
    rng = np.random.default_rng(seed)
    w, g, m = (rng.integers(-4000, 4001, n).astype(np.int16) for _ in range(3))
    r = rng.integers(0, 4000, n).astype(np.int16)
    lr = np.array([33], np.int16)

    def run(tiles):
        outs = [np.full(n, 7, np.int16) for _ in range(3)]
        sat = lib.spl_run_adam(ptr(w), ptr(g), ptr(m), ptr(r), ptr(lr), *(ptr(o) for o in outs),
                               ptr(tiles, "int32_t *"), len(tiles), *ADAM.values(), mode,
                               seed, nthreads)
        return outs, int(sat)

    (a, sa), (b, sb) = _both(run, _tiles(rng, n, ntiles))
    assert sa == sb
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 5000), ntiles=st.integers(1, 40), shift=st.integers(-3, 20),
       mode=st.integers(0, 1), nthreads=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
def test_requant_ranges_match_tiles(n, ntiles, shift, mode, nthreads, seed):
    rng = np.random.default_rng(seed)
    src = rng.integers(-32768, 32768, n).astype(np.int16)

    def run(tiles):
        dst = np.full(n, 7, np.int16)
        sat = lib.spl_run_requant(ptr(src), ptr(dst), n, ptr(tiles, "int32_t *"), len(tiles),
                                  shift, mode, seed, nthreads)
        return dst, int(sat)

    (a, sa), (b, sb) = _both(run, _tiles(rng, n, ntiles))
    assert sa == sb
    np.testing.assert_array_equal(a, b)
