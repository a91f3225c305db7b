"""nn.data.place_x: uint8 pixels become u / 255 in the input format by an exact integer table,
written chunk by chunk; the bits and the saturation count are those of quantising the float
values u / 255 (nearest, ties to even) for every format."""
import numpy as np
import pytest

import spinla as sp
from spinla.fixed import Format, quantize
from spinla.nn import data as nndata


@pytest.mark.parametrize("frac", range(16))
def test_uint8_pixels_equal_quantised_floats_across_chunks(frac, monkeypatch):
    monkeypatch.setattr(nndata, "_CHUNK", 1000)          # several chunks and a partial one
    rng = np.random.default_rng(frac)
    x = rng.integers(0, 256, (7, 13, 29)).astype(np.uint8)
    x[0, 0, :3] = [0, 255, 128]
    sp.reset_stats()
    with sp.errstate(saturate="ignore"):
        X = nndata.place_x(x, Format(frac))
    ref, sat = quantize(x.astype(np.float64) / 255.0, Format(frac))
    np.testing.assert_array_equal(X.raw, ref)
    assert X.raw.shape == x.shape and X.fmt == Format(frac)
    assert sp.stats().saturated.get("asarray", 0) == sat == (
        int(np.count_nonzero(x == 255)) if frac == 15 else 0)


@pytest.mark.parametrize("frac", [0, 7, 14, 15])
def test_int16_q_values_scaled_by_one_lsb_are_placed_as_they_are(frac):
    """Patterns a boosting filter drew from a placed set come back as int16 q-values; scaled
    by one LSB of the input format they are that format's values exactly (the float path
    gives the same bits, more slowly)."""
    rng = np.random.default_rng(frac)
    q = rng.integers(-32768, 32768, (5, 28, 28)).astype(np.int16)
    sp.reset_stats()
    X = nndata.place_x(q, Format(frac), 2.0 ** -frac)
    np.testing.assert_array_equal(X.raw, q)
    ref, sat = quantize(q.astype(np.float64) * 2.0 ** -frac, Format(frac))
    np.testing.assert_array_equal(ref, q)
    assert sat == 0 and not sp.stats().saturated.get("asarray")
