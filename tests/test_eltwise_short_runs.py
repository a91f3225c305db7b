"""Element-wise ops whose runs (the last dimension of the collapsed box) are short, such as a
conv bias of C values added over (pixels, C): eltwise_q15.c gathers blocks across run
boundaries there instead of one run at a time.  Bit-exact against the NumPy integer reference,
for broadcasts on either operand and in any dimension, across many tiles and cores."""
import numpy as np
import pytest

import qref_eltwise as R
import spinla as sp
from spinla.fixed import q
from spinla.program import Buffer

SHAPES = [
    ((64, 7, 7, 6), (6,)),          # the conv bias add
    ((5, 9, 16), (16,)),
    ((3, 4, 5, 3), (4, 1, 3)),      # broadcast in a middle dimension
    ((6, 1, 5), (1, 7, 5)),         # both operands broadcast
    ((40, 3), (40, 1)),             # b constant along the short run
    ((2, 3, 31), (3, 31)),
    ((1000, 1), (1,)),
]


def _arr(raw, frac):
    raw = np.array(raw, dtype=np.int16, order="C")
    return sp.Array(Buffer(raw.shape, q(frac), data=raw))


@pytest.fixture(params=["spinn3", "spinn5"])
def machine(request):
    sp.set_machine(request.param)  # conftest restores spinn5 for the next test
    yield


@pytest.mark.parametrize("sa,sb", SHAPES)
@pytest.mark.parametrize("op", ["add", "subtract", "multiply", "maximum"])
def test_short_runs_bit_exact(machine, sa, sb, op):
    rng = np.random.default_rng(abs(hash((sa, sb, op))) % 2**32)
    a = rng.integers(-4000, 4000, sa)
    b = rng.integers(-4000, 4000, sb)
    fa, fb, fo = 12, 10, 11
    y = getattr(sp, op)(_arr(a, fa), _arr(b, fb), fmt=q(fo))
    ref, _ = R.binary(op, a, b, fa, fb, fo)
    np.testing.assert_array_equal(y.raw, ref)
    # and with the operands swapped (the broadcast one first)
    y = getattr(sp, op)(_arr(b, fb), _arr(a, fa), fmt=q(fo))
    ref, _ = R.binary(op, b, a, fb, fa, fo)
    np.testing.assert_array_equal(y.raw, ref)
