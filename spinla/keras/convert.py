"""keras2spinnaker(model): read a compiled Keras model into a spinla.nn Sequential.

Everything is checked here, before anything runs: the topology (Sequential, or a functional
model whose graph is one path), every layer (layers.LAYERS), the optimiser, loss and metrics
(compile.py).  The result is attached to the Keras model itself (`model._k2s`, a Conversion),
which keras2spinnaker returns, so that the proposal's `model = keras2spinnaker(model)` keeps
a Keras model whose evaluate/predict run on the host and k2s.fit trains it on spinla.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..nn.model import Sequential
from . import compile as kcompile
from .backend import import_keras
from .errors import UnsupportedError
from .layers import convert_layer

ATTR = "_k2s"   # where the Conversion hangs on the Keras model


@dataclass
class Conversion:
    """What keras2spinnaker made of a Keras model."""
    spinla: Sequential                  # the spinla.nn model (weights in its formats)
    keras_layers: list                  # the Keras layers that hold weights, in order
    loss_kind: str                      # 'sparse' | 'categorical' | 'regression'
    loss_name: str
    metrics: list = field(default_factory=list)   # [(history key, label kind)]

    @property
    def classes(self) -> int:
        return int(np.prod(self.spinla.output_shape))


def _single_path(model) -> list:
    """The layers of a functional model in order, if its graph is one path; else refused."""
    cfg = model.get_config()
    ins, outs = cfg.get("input_layers"), cfg.get("output_layers")
    if not (isinstance(ins, list) and len(ins) == 1 or isinstance(ins, (list, tuple))
            and len(ins) == 3 and isinstance(ins[0], str)):
        raise UnsupportedError(f"keras2spinnaker: model {model.name!r} has several inputs "
                               f"{ins!r}; only single-path graphs are supported")
    if not (isinstance(outs, list) and len(outs) == 1 or isinstance(outs, (list, tuple))
            and len(outs) == 3 and isinstance(outs[0], str)):
        raise UnsupportedError(f"keras2spinnaker: model {model.name!r} has several outputs "
                               f"{outs!r}; only single-path graphs are supported")
    prev = None
    for lc in cfg["layers"]:
        nodes = lc.get("inbound_nodes") or []
        if lc["class_name"] == "InputLayer":
            prev = lc["name"]
            continue
        srcs = []
        for node in nodes:
            for a in list(node.get("args", ())) + list((node.get("kwargs") or {}).values()):
                for t in (a if isinstance(a, (list, tuple)) else [a]):
                    if isinstance(t, dict) and t.get("class_name") == "__keras_tensor__":
                        srcs.append(t["config"]["keras_history"][0])
        if len(nodes) != 1 or srcs != [prev]:
            raise UnsupportedError(f"keras2spinnaker: model {model.name!r} is not a single path:"
                                   f" layer {lc['name']!r} ({lc['class_name']}) takes "
                                   f"{srcs or 'no'} inputs in {len(nodes)} call(s), expected "
                                   f"only the output of {prev!r}")
        prev = lc["name"]
    return list(model.layers)


def keras2spinnaker(model, *, seed: int = 0):
    """Convert the compiled Keras `model` for training on spinla; returns `model` itself with
    the conversion attached (k2s.fit reads it).  UnsupportedError (naming the layer, setting,
    optimiser, loss, metric or topology, with its config) or ValueError (uncompiled model)
    before anything runs."""
    keras = import_keras()
    if not isinstance(model, keras.Model):
        raise TypeError(f"keras2spinnaker: expected a Keras Model, got {type(model).__name__}")
    if not getattr(model, "compiled", False) or getattr(model, "optimizer", None) is None:
        raise ValueError(f"keras2spinnaker: the Keras model {model.name!r} is not compiled: "
                         f"call model.compile(optimizer=..., loss=..., metrics=[...]) first")
    if not model.built:
        raise ValueError(f"keras2spinnaker: the Keras model {model.name!r} has no input shape: "
                         f"start it with keras.Input(shape) (or give input_shape)")
    if isinstance(model, keras.Sequential):
        layers = list(model.layers)
    elif type(model).__name__ == "Functional":
        layers = _single_path(model)
    else:
        raise UnsupportedError(f"keras2spinnaker: model class {type(model).__name__} is not "
                               f"supported (Sequential, or a functional model of one path; a "
                               f"subclassed model's call() cannot be read)")
    in_shape = model.inputs[0].shape if model.inputs else None
    if in_shape is None or any(s is None for s in tuple(in_shape)[1:]):
        raise UnsupportedError(f"keras2spinnaker: input shape {in_shape} must be fully known "
                               f"(apart from the batch)")

    # Topology and layers first, then the compile config: every refusal before any work.
    sp_layers, weighted = [], []
    for layer in layers:
        converted = convert_layer(layer)
        sp_layers += converted
        if layer.weights:
            weighted.append(layer)
    if not sp_layers:
        raise UnsupportedError(f"keras2spinnaker: model {model.name!r} has no layers to convert")
    cc = model.get_compile_config() or {}
    kcompile.check_compile_config(cc)
    kind, loss, loss_name = kcompile.translate_loss(cc.get("loss"))
    metrics = kcompile.translate_metrics(cc.get("metrics"), cc.get("weighted_metrics"), kind)
    opt = kcompile.translate_optimizer(model.optimizer)
    if kind != "regression" and not loss.from_logits:
        last = sp_layers[-1]
        act = getattr(getattr(last, "activation", None), "name", None)
        if act != "softmax":
            raise UnsupportedError(f"keras2spinnaker: loss {loss_name} with from_logits=False "
                                   f"needs a softmax output (the last layer's activation is "
                                   f"{act!r}); use from_logits=True for logits")

    net = Sequential(sp_layers, name=f"{model.name}_spinla", seed=seed,
                     input_shape=tuple(int(s) for s in tuple(in_shape)[1:]))
    try:
        net.build()
    except ValueError as e:   # a shape spinla's layer cannot take (e.g. Dense on 3-D data)
        raise UnsupportedError(f"keras2spinnaker: {e}") from e
    net.compile(optimizer=opt, loss=loss)
    weights = [w for ly in weighted for w in ly.get_weights()]
    if len(weights) != len(net.params):
        raise UnsupportedError(f"keras2spinnaker: the Keras layers hold {len(weights)} weight "
                               f"arrays, the spinla model {len(net.params)}")
    net.set_weights(weights)
    if net.output_shape is None or len(net.output_shape) != 1:
        raise UnsupportedError(f"keras2spinnaker: the output must be a vector per sample, got "
                               f"shape {net.output_shape}")
    conv = Conversion(net, weighted, kind, loss_name, metrics)
    object.__setattr__(model, ATTR, conv)
    return model


def conversion_of(model) -> Conversion:
    conv = getattr(model, ATTR, None)
    if conv is None:
        raise ValueError("k2s.fit: the Keras model has not been converted: "
                         "model = keras2spinnaker(model) first")
    return conv


__all__ = ["keras2spinnaker", "Conversion", "conversion_of"]
