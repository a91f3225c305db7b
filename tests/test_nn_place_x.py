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
