"""Importing Keras for the bridge.

Keras 3 picks its backend from KERAS_BACKEND when it is first imported and defaults to
TensorFlow, whose absence then fails with "No module named 'tensorflow'"
(../shared/keras-facts.md).  spinla's `keras` extra installs jax, so where the user has not
chosen a backend and TensorFlow is not installed, we choose jax - never overriding a choice
already made (the variable, or a Keras already imported).
"""
from __future__ import annotations

import importlib.util
import os
import sys


def default_backend() -> None:
    if ("keras" not in sys.modules and "KERAS_BACKEND" not in os.environ
            and importlib.util.find_spec("tensorflow") is None):
        os.environ["KERAS_BACKEND"] = "jax"


def import_keras():
    """The keras module, or ImportError saying how to install it."""
    default_backend()
    try:
        import keras
    except ImportError as e:
        raise ImportError(f"keras2spinnaker needs Keras 3 and a backend: pip install "
                          f"'spinla[keras]' (keras>=3 and jax) ({e})") from e
    if int(keras.__version__.split(".")[0]) < 3:
        raise ImportError(f"keras2spinnaker needs Keras 3, found {keras.__version__}")
    return keras
