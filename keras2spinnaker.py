"""keras2spinnaker: train a compiled Keras model on (emulated) SpiNNaker.

    import keras2spinnaker as k2s
    from keras2spinnaker import keras2spinnaker

    model = keras2spinnaker(model)   # convert to a SpiNNaker graph (spinla.nn)
    k2s.fit(model, X_train, y_train) # train on spinla, weights written back into the Keras model
    model.evaluate(X_test, y_test)   # Keras, on the host

The implementation is spinla.keras (README, "Keras").  Importing this module does not import
Keras; it picks the jax backend for Keras when the user has not chosen one and TensorFlow is
absent (spinla/keras/backend.py).
"""
from spinla.keras import (ACTIVATIONS, LAYERS, Conversion, UnsupportedError,  # noqa: F401
                          fit, keras2spinnaker)
from spinla.keras.backend import default_backend as _default_backend

_default_backend()

__all__ = ["keras2spinnaker", "fit", "UnsupportedError", "Conversion", "LAYERS", "ACTIVATIONS"]
