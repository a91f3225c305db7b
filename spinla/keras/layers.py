"""Keras layer -> spinla.nn layer: one registry, one entry per Keras layer class.

Each converter takes the Keras layer's get_config() and returns the spinla.nn layers that
compute the same function (an empty list for layers that are the identity in spinla, such as
InputLayer).  It checks every setting whose value changes what the layer computes and
refuses, by name, any it does not translate: UnsupportedError names the layer, the setting
and the layer's config.  Adding a layer is one entry in LAYERS.

Weights are not converted here: spinla layers hold Keras's layouts (Dense kernel (in, out),
Conv2D kernel HWIO, bias), so a converted layer takes layer.get_weights() as it is.
"""
from __future__ import annotations

from ..nn import layers as L
from .errors import UnsupportedError, describe

# Keras activation name -> spinla.nn activation name.
ACTIVATIONS = {"relu": "relu", "tanh": "tanh", "sigmoid": "sigmoid", "softmax": "softmax",
               "linear": "linear"}


def _refuse(cls, cfg, why):
    raise UnsupportedError(f"keras2spinnaker: {cls} layer {cfg.get('name')!r}: {why} "
                           f"(config {describe(cfg)})")


def _expect(cls, cfg, key, allowed):
    """The setting must have one of `allowed` values (a setting absent from an older Keras's
    config counts as its default, the first allowed value)."""
    v = cfg.get(key, allowed[0])
    if isinstance(v, list):
        v = tuple(v)
    if v not in allowed:
        _refuse(cls, cfg, f"{key}={v!r} is not supported (supported: "
                          f"{', '.join(repr(a) for a in allowed)})")
    return v


def _common(cls, cfg):
    dt = cfg.get("dtype")
    name = dt.get("config", {}).get("name") if isinstance(dt, dict) else dt
    if name not in (None, "float32"):
        _refuse(cls, cfg, f"dtype policy {name!r} is not supported (float32 only)")


def _activation(cls, cfg, key="activation"):
    a = cfg.get(key, "linear")
    if a is None:
        a = "linear"
    if not isinstance(a, str) or a not in ACTIVATIONS:
        _refuse(cls, cfg, f"activation {a!r} is not supported (supported: "
                          f"{', '.join(ACTIVATIONS)})")
    return ACTIVATIONS[a]


def _weighted(cls, cfg):
    for k in ("kernel_regularizer", "bias_regularizer", "activity_regularizer",
              "kernel_constraint", "bias_constraint", "quantization_config", "lora_rank"):
        if cfg.get(k) not in (None, 0):
            _refuse(cls, cfg, f"{k}={cfg[k]!r} is not supported (it changes the loss or the "
                              f"update)")
    if cfg.get("trainable", True) is not True:
        _refuse(cls, cfg, "trainable=False (frozen layers) is not supported")


def _input_layer(cfg):
    return []


def _dense(cfg):
    _weighted("Dense", cfg)
    return [L.Dense(int(cfg["units"]), activation=_activation("Dense", cfg),
                    use_bias=bool(cfg.get("use_bias", True)), name=cfg.get("name"))]


def _conv2d(cfg):
    _weighted("Conv2D", cfg)
    _expect("Conv2D", cfg, "data_format", ("channels_last",))
    _expect("Conv2D", cfg, "dilation_rate", ((1, 1), 1))
    _expect("Conv2D", cfg, "groups", (1,))
    padding = _expect("Conv2D", cfg, "padding", ("valid", "same"))
    return [L.Conv2D(int(cfg["filters"]), tuple(cfg["kernel_size"]),
                     strides=tuple(cfg.get("strides", (1, 1))), padding=padding,
                     activation=_activation("Conv2D", cfg),
                     use_bias=bool(cfg.get("use_bias", True)), name=cfg.get("name"))]


def _pool(cls, spinla_cls):
    def convert(cfg):
        _expect(cls, cfg, "data_format", ("channels_last",))
        # spinla's pooling kernels have no border: 'same' pooling is refused.
        _expect(cls, cfg, "padding", ("valid",))
        strides = cfg.get("strides") or cfg["pool_size"]
        return [spinla_cls(tuple(cfg["pool_size"]), tuple(strides), name=cfg.get("name"))]
    return convert


def _zero_padding2d(cfg):
    _expect("ZeroPadding2D", cfg, "data_format", ("channels_last",))
    (top, bottom), (left, right) = cfg["padding"]
    if top != bottom or left != right:
        _refuse("ZeroPadding2D", cfg, f"asymmetric padding {cfg['padding']!r} is not "
                                      f"supported (spinla pads top=bottom, left=right)")
    return [L.ZeroPadding2D((int(top), int(left)), name=cfg.get("name"))]


def _flatten(cfg):
    _expect("Flatten", cfg, "data_format", ("channels_last",))
    return [L.Flatten(name=cfg.get("name"))]


def _reshape(cfg):
    shape = tuple(cfg["target_shape"])
    if any(int(s) < 0 for s in shape):
        _refuse("Reshape", cfg, f"target_shape {shape} with -1 is not supported; give every "
                                f"dimension")
    return [L.Reshape(shape, name=cfg.get("name"))]


def _dropout(cfg):
    if cfg.get("noise_shape") is not None:
        _refuse("Dropout", cfg, f"noise_shape={cfg['noise_shape']!r} is not supported")
    # Keras's seed is ignored: spinla draws masks from its own index-hashed bits
    # (spinla.seed, or k2s.fit(seed=...)).
    return [L.Dropout(float(cfg["rate"]), name=cfg.get("name"))]


def _activation_layer(cfg):
    return [L.Activation(_activation("Activation", cfg), name=cfg.get("name"))]


def _relu(cfg):
    for k, default in (("max_value", None), ("negative_slope", 0.0), ("threshold", 0.0)):
        v = cfg.get(k, default)
        if v != default and not (default is None and v is None):
            _refuse("ReLU", cfg, f"{k}={v!r} is not supported (plain ReLU only)")
    return [L.Activation("relu", name=cfg.get("name"))]


def _softmax(cfg):
    _expect("Softmax", cfg, "axis", (-1,))
    return [L.Activation("softmax", name=cfg.get("name"))]


# Keras layer class name -> converter(config) -> [spinla.nn layers].  The class must come
# from Keras itself (keras or tf.keras, which is Keras 3): a user subclass of the same name
# computes something else and is refused (see convert.py).
LAYERS = {
    "InputLayer": _input_layer,
    "Dense": _dense,
    "Conv2D": _conv2d,
    "AveragePooling2D": _pool("AveragePooling2D", L.AvgPool2D),
    "MaxPooling2D": _pool("MaxPooling2D", L.MaxPool2D),
    "ZeroPadding2D": _zero_padding2d,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Dropout": _dropout,
    "Activation": _activation_layer,
    "ReLU": _relu,
    "Softmax": _softmax,
}


def convert_layer(layer):
    """The spinla.nn layers of one Keras layer, or UnsupportedError naming it."""
    cls = type(layer).__name__
    cfg = layer.get_config()
    if cls not in LAYERS or not type(layer).__module__.startswith("keras"):
        raise UnsupportedError(f"keras2spinnaker: layer {layer.name!r} of class {cls} is not "
                               f"supported (supported: {', '.join(LAYERS)}; config "
                               f"{describe(cfg)})")
    _common(cls, cfg)
    return LAYERS[cls](cfg)


__all__ = ["LAYERS", "ACTIVATIONS", "convert_layer"]
