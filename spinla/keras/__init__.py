"""spinla.keras: the Keras bridge behind the top-level module keras2spinnaker.

    model = keras2spinnaker(model)    # a compiled Keras model, converted (convert.py)
    k2s.fit(model, x, y, ...)         # trained on spinla, weights written back (fit.py)

layers.LAYERS is the one table Keras layer class -> spinla.nn layer; compile.py translates
the optimiser, loss and metrics; errors.UnsupportedError is raised for anything refused.
Keras itself is imported only when these functions are called, so spinla without Keras
imports and works.
"""
from .convert import Conversion, keras2spinnaker  # noqa: F401
from .errors import UnsupportedError  # noqa: F401
from .fit import fit  # noqa: F401
from .layers import ACTIVATIONS, LAYERS  # noqa: F401

__all__ = ["keras2spinnaker", "fit", "UnsupportedError", "Conversion", "LAYERS", "ACTIVATIONS"]
