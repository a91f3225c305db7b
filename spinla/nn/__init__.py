"""spinla.nn: neural networks trained in 16-bit fixed point, every step on the machine.

Keras-like: build a Sequential of layers (Dense, Conv2D, AvgPool2D, MaxPool2D, Flatten,
Reshape, ZeroPadding2D, Dropout, Activation), compile it with an optimiser (SGD, Adam) and a
loss (categorical cross-entropy, mean squared error), fit/evaluate/predict.  fit traces one
whole training step - forward, loss, backward, optimiser update, each written explicitly in
spinla ops - into one Program and runs it batch after batch on data placed in SDRAM once.
spinla.nn.models has the six MNIST networks of LeCun et al. 1998; spinla.nn.formats documents
the fixed-point format policy; spinla.nn.Distortions distorts a placed training set on the
machine each epoch (fit(..., augment=...)).
"""
from . import (activations, callbacks, distortions, initializers, layers, losses, models,  # noqa: F401
               optimizers)
from .callbacks import LearningRateScheduler  # noqa: F401
from .distortions import Distortions  # noqa: F401
from .formats import DEFAULT_POLICY, FormatPolicy  # noqa: F401
from .initializers import GlorotUniform, LeCunNormal, Zeros  # noqa: F401
from .layers import (Activation, AveragePooling2D, AvgPool2D, Conv2D, Dense, Dropout,  # noqa: F401
                     Flatten, Layer, MaxPool2D, MaxPooling2D, Reshape, ZeroPadding2D)
from .losses import (CategoricalCrossentropy, MeanSquaredError,  # noqa: F401
                     SparseCategoricalCrossentropy)
from .model import History, ModelFileError, Sequential, load_model  # noqa: F401
from .models import (BoostedLeNet4, boosted_lenet4, lenet1, lenet4, lenet5, mlp1,  # noqa: F401
                     mlp2)
from .optimizers import SGD, Adam, adam_update, sgd_update  # noqa: F401

__all__ = ["Sequential", "History", "load_model", "Layer", "Dense", "Conv2D", "AvgPool2D",
           "AveragePooling2D", "MaxPool2D", "MaxPooling2D", "Flatten", "Reshape",
           "ZeroPadding2D", "Dropout", "Activation", "SGD", "Adam", "sgd_update",
           "adam_update", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
           "MeanSquaredError", "GlorotUniform", "LeCunNormal", "Zeros", "FormatPolicy",
           "DEFAULT_POLICY", "mlp1", "mlp2", "lenet1", "lenet4", "lenet5", "boosted_lenet4",
           "BoostedLeNet4", "Distortions", "LearningRateScheduler", "activations", "callbacks",
           "distortions", "initializers", "layers", "losses", "models", "optimizers"]
__all__.append("ModelFileError")
