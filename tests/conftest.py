import os
import sys

import numpy as np
import pytest
from hypothesis import settings

sys.path.insert(0, os.path.dirname(__file__))  # tests/qref.py

settings.register_profile("ci", max_examples=40, deadline=None)
settings.register_profile("dev", max_examples=15, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _fresh_state():
    """Each test starts with zeroed saturation counters, a fixed seed and spinn5."""
    import spinla
    spinla.reset_stats()
    spinla.seed(1234)
    spinla.set_machine("spinn5")
    yield


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def mnist_data():
    """Real MNIST ((x, y), (x_test, y_test)) from SPINLA_DATA, loaded once per session; the
    test is skipped, saying why, without it (no download in tests)."""
    if not os.environ.get("SPINLA_DATA"):
        pytest.skip("MNIST not available: set SPINLA_DATA to a folder whose mnist/ subfolder "
                    "holds the four MNIST files (the Makefile uses ../shared/datasets)")
    from spinla.datasets import mnist
    try:
        return mnist.load_data(download=False)
    except (FileNotFoundError, ValueError) as e:
        pytest.skip(f"MNIST not loadable from SPINLA_DATA={os.environ['SPINLA_DATA']}: {e}")
