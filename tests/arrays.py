"""Helpers shared by the op tests: Arrays with exact int16 storage, and the seeds a traced
function's calls round with."""
import numpy as np

import spinla as sp
from spinla.fixed import q
from spinla.kernels import lib
from spinla.program import Buffer


def raw_array(raw, frac):
    """An Array with exactly this int16 storage and format q(frac)."""
    raw = np.array(raw, dtype=np.int16, order="C")
    return sp.Array(Buffer(raw.shape, q(frac), data=raw))


def first_seed(f, *args):
    """Run f traced once; return (result, the effective seed of each call that rounds), leaving
    out data-movement copies, which draw no random bits."""
    jf = sp.jit(f)
    prog = jf.program(*args)
    out = jf(*args)
    return out, [int(lib.spl_seed_mix(c.seed, 0)) for c in prog.calls if c.kernel != "copy_q15"]
