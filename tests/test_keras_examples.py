"""The Keras examples run in CI, and Keras's evaluate of k2s.fit-trained weights agrees with
spinla's own evaluation (real MNIST from SPINLA_DATA; skipped with the reason without it)."""
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from spinla.keras.backend import default_backend

default_backend()
keras = pytest.importorskip("keras", reason="Keras not installed: pip install 'spinla[keras]'")
# Keras 3.15 on NumPy 2 warns about its own __array__ on every get_weights: not ours.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_example(name, *args, env=None):
    # One emulator thread unless the caller chose: on a shared 2-core host a parallel region
    # waits for descheduled threads (README, "Host noise"), which made these runs 10x slower.
    env = {"SPINLA_THREADS": os.environ.get("SPINLA_THREADS", "1"), **(env or {})}
    out = subprocess.run([sys.executable, os.path.join(ROOT, "examples", name), *args],
                         capture_output=True, text=True, timeout=900,
                         env={**os.environ, **env}, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_proposal_script_reaches_95_percent_in_one_epoch(mnist_data):
    out = run_example("proposal.py")
    m = re.search(r"loss:\s+([0-9.]+)\s+accuracy:\s+([0-9.]+)", out)
    assert m, out[-2000:]
    assert float(m.group(2)) >= 0.95, out[-2000:]


def test_lenet5_keras_example_on_a_subset(mnist_data):
    out = run_example("lenet5_keras.py", "--test", "1000", env={"K2S_SUBSET": "2000"})
    m = re.search(r"Keras evaluate on 1000 test images: loss ([0-9.]+) accuracy ([0-9.]+)", out)
    assert m, out[-2000:]
    assert float(m.group(2)) > 0.6, out[-2000:]      # 2,000 digits, one epoch (chance: 0.1)
    assert "modelled SpiNN-5 training time" in out


def test_keras_evaluate_agrees_with_spinla_evaluation(mnist_data):
    """The weights written back are spinla's, dequantised: Keras's float32 evaluate of them is
    within 0.5 points of spinla's fixed-point evaluation on the same 10,000 test images."""
    import keras2spinnaker as k2s
    (x, y), (xt, yt) = mnist_data
    model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(),
                              keras.layers.Dense(128, activation="relu"),
                              keras.layers.Dropout(0.2),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model = k2s.keras2spinnaker(model)
    k2s.fit(model, x[:12000] / 255.0, y[:12000], verbose=0, seed=0)
    k_loss, k_acc = model.evaluate(xt / 255.0, yt, verbose=0, batch_size=500)
    s_loss, s_acc = model._k2s.spinla.evaluate(xt / 255.0, yt)
    assert s_acc > 0.9
    assert abs(k_acc - s_acc) <= 0.005, (k_acc, s_acc)
    assert abs(k_loss - s_loss) <= 0.02, (k_loss, s_loss)
    np.testing.assert_array_equal(model.get_weights()[0],
                                  model._k2s.spinla.get_weights()[0].astype(np.float32))
