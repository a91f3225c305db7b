"""Layers with explicit forward and backward passes written in spinla ops.

A layer is a description; its weights live in the model (spinla Arrays in SDRAM) and are
passed in, so that one traced Program can take them as inputs and return their new values.

    build(input_shape, in_fmt, in_bound, policy) -> output shape (per sample)
    param_specs()                                -> [(name, Keras shape, initializer, format)]
    forward(params, x, training)                 -> (y, cache)
    backward(params, cache, dy, need_dx, gfmts)  -> (dx or None, [gradient per param])
    grad_formats(batch)                          -> [format of each parameter's gradient]

Gradient formats are sized for the batch size of the fit (not of the traced step), so the
last, shorter batch of an epoch produces gradients in the formats the optimiser state has.

Shapes are per sample, as in Keras; data carry a leading batch axis.  Weights are stored in
Keras's layouts (Dense kernel (in, out), Conv2D kernel HWIO), so get_weights/set_weights and
saved files match Keras.
"""
from __future__ import annotations


import numpy as np

import spinla as sp

from ..fixed import Format, q
from . import activations as acts
from . import initializers as inits


class Layer:
    trainable = False

    def __init__(self, name: str | None = None, input_shape=None):
        self.name = name
        self.input_shape = None if input_shape is None else tuple(int(s) for s in input_shape)
        self.built = False

    # --- building ------------------------------------------------------------------------
    def build(self, input_shape, in_fmt: Format, in_bound: float, policy):
        self.in_shape = tuple(input_shape)
        self.in_fmt, self.in_bound, self.policy = in_fmt, float(in_bound), policy
        self.out_shape = self.compute_output_shape(self.in_shape)
        self.out_fmt, self.out_bound = self.output_format()
        self.built = True
        return self.out_shape

    def compute_output_shape(self, input_shape):
        return input_shape

    def output_format(self):
        return self.in_fmt, self.in_bound

    def param_specs(self):
        return []

    def grad_formats(self, batch: int):
        return []

    # --- passes --------------------------------------------------------------------------
    def forward(self, params, x, training):
        return x, None

    def backward(self, params, cache, dy, need_dx, gfmts):
        return dy, []

    def get_config(self) -> dict:
        cfg = {"class": type(self).__name__, "name": self.name}
        if self.input_shape is not None:
            cfg["input_shape"] = list(self.input_shape)
        return cfg

    def __repr__(self):
        return f"{type(self).__name__}({self.name!r})"


def _delta(policy):
    return q(policy.delta)


class _Weighted(Layer):
    """Dense and Conv2D: an affine map, a bias and an activation, with a last-layer switch
    (`as_output`) that makes the pre-activation the logits format."""

    trainable = True

    def __init__(self, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", name=None, input_shape=None):
        super().__init__(name, input_shape)
        self.activation = acts.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = inits.get(kernel_initializer)
        self.bias_initializer = inits.get(bias_initializer)
        self.as_output = False   # set by the model for its last weighted layer
        self.fuse_softmax = False  # set by the model when the loss consumes the logits

    def output_format(self):
        p = self.policy
        self.z_fmt = q(p.logits if self.as_output else p.activation)
        if self.fuse_softmax or isinstance(self.activation, acts.Linear):
            return self.z_fmt, self.z_fmt.max
        return (self.activation.out_fmt(p, self.z_fmt),
                self.activation.output_bound(p, self.z_fmt))

    def _act_forward(self, z):
        if self.fuse_softmax:
            return z, None
        return self.activation.forward(z, self.policy, self.z_fmt)

    def _bias_act(self, params, x, z):
        """The common tail of forward: bias, activation, and the cache backward needs."""
        if self.use_bias:
            z = sp.add(z, params[1], fmt=self.z_fmt, rounding=self.policy.forward_rounding)
        y, c = self._act_forward(z)
        return y, (x, c)

    def _act_backward(self, dy, c):
        if self.fuse_softmax:
            return dy
        return self.activation.backward(dy, c, self.policy)

    def _n_sum(self, batch):
        raise NotImplementedError

    def grad_formats(self, batch):
        p, n = self.policy, self._n_sum(batch)
        gw = p.grad(self.in_bound, 1.0, n)
        return [gw, p.grad(1.0, 1.0, n)] if self.use_bias else [gw]

    def get_config(self):
        cfg = super().get_config()
        cfg.update(activation=self.activation.name, use_bias=self.use_bias,
                   kernel_initializer=self.kernel_initializer.name,
                   bias_initializer=self.bias_initializer.name)
        return cfg


class Dense(_Weighted):
    """y = activation(x @ W + b); W is (in, out) as in Keras."""

    def __init__(self, units: int, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", name=None,
                 input_shape=None):
        super().__init__(activation, use_bias, kernel_initializer, bias_initializer, name,
                         input_shape)
        if int(units) < 1:
            raise ValueError(f"Dense: units must be >= 1, got {units!r}")
        self.units = int(units)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 1:
            raise ValueError(f"Dense {self.name!r} needs flat inputs (add a Flatten layer), "
                             f"got per-sample shape {input_shape}")
        return (self.units,)

    def param_specs(self):
        n_in = self.in_shape[0]
        w = self.policy.fmt("weight")
        specs = [("kernel", (n_in, self.units), self.kernel_initializer, w)]
        if self.use_bias:
            specs.append(("bias", (self.units,), self.bias_initializer, w))
        return specs

    def _n_sum(self, batch):
        return batch

    def forward(self, params, x, training):
        p = self.policy
        z = sp.matmul(x, params[0], fmt=self.z_fmt, rounding=p.forward_rounding)
        return self._bias_act(params, x, z)

    def backward(self, params, cache, dy, need_dx, gfmts):
        p = self.policy
        x, c = cache
        dz = self._act_backward(dy, c)
        gw = sp.matmul(sp.permute_dims(x, (1, 0)), dz, fmt=gfmts[0],
                       rounding=p.backward_rounding)
        grads = [gw]
        if self.use_bias:
            grads.append(sp.sum(dz, axis=0, fmt=gfmts[1], rounding=p.backward_rounding))
        dx = None
        if need_dx:
            w = params[0]
            n_in, n_out = w.shape
            b = x.shape[0]
            if b * (n_in + n_out) < n_in * n_out:
                # dx^T = W dz^T: moves the (small) activations instead of the weights; the
                # second transpose is free (matmul recognises dz^T as dz transposed).
                dzt = sp.permute_dims(dz, (1, 0))
                dxt = sp.matmul(w, dzt, fmt=_delta(p), rounding=p.backward_rounding)
                dx = sp.permute_dims(dxt, (1, 0))
            else:
                dx = sp.matmul(dz, sp.permute_dims(w, (1, 0)), fmt=_delta(p),
                               rounding=p.backward_rounding)
        return dx, grads

    def get_config(self):
        cfg = super().get_config()
        cfg["units"] = self.units
        return cfg


def _pair(v, what):
    if isinstance(v, (int, np.integer)):
        v = (int(v), int(v))
    v = tuple(int(t) for t in v)
    if len(v) != 2 or min(v) < 1:
        raise ValueError(f"{what} must be a positive int or a pair of them, got {v!r}")
    return v


class Conv2D(_Weighted):
    """2-D convolution on NHWC data with an HWIO kernel (Keras), 'valid' or 'same' padding,
    a stride, and an optional (Cin, Cout) 0/1 connection table (LeNet-5's C3)."""

    def __init__(self, filters: int, kernel_size, strides=1, padding="valid", activation=None,
                 use_bias=True, table=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", name=None, input_shape=None):
        super().__init__(activation, use_bias, kernel_initializer, bias_initializer, name,
                         input_shape)
        if int(filters) < 1:
            raise ValueError(f"Conv2D: filters must be >= 1, got {filters!r}")
        self.filters = int(filters)
        self.kernel_size = _pair(kernel_size, "Conv2D kernel_size")
        self.strides = _pair(strides, "Conv2D strides")
        if padding not in ("valid", "same"):
            raise ValueError(f"Conv2D: padding must be 'valid' or 'same', got {padding!r}")
        self.padding = padding
        self.table = None if table is None else np.asarray(table, dtype=np.int16)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"Conv2D {self.name!r} needs (H, W, C) inputs, got per-sample "
                             f"shape {input_shape}")
        h, w, c = input_shape
        kh, kw = self.kernel_size
        sy, sx = self.strides
        if self.table is not None and self.table.shape != (c, self.filters):
            raise ValueError(f"Conv2D {self.name!r}: table must have shape (Cin, Cout) = "
                             f"{(c, self.filters)}, got {self.table.shape}")
        if self.padding == "same":
            return (-(-h // sy), -(-w // sx), self.filters)
        if h < kh or w < kw:
            raise ValueError(f"Conv2D {self.name!r}: kernel {self.kernel_size} is larger than "
                             f"the input {input_shape[:2]}")
        return ((h - kh) // sy + 1, (w - kw) // sx + 1, self.filters)

    def param_specs(self):
        kh, kw = self.kernel_size
        cin = self.in_shape[2]
        w = self.policy.fmt("weight")
        init = self.kernel_initializer
        if self.table is not None:
            # Fans of the connections that exist (LeNet-5's C3 maps see 3 to 6 S2 maps).
            fan_in = int(round(kh * kw * self.table.sum(axis=0).mean()))
            fan_out = int(round(kh * kw * self.table.sum(axis=1).mean()))
            base = init

            def init(shape, rng, fan_in_=None, fan_out_=None, base=base):
                v = base(shape, rng, fan_in=fan_in, fan_out=fan_out)
                return v * self.table[None, None, :, :]
        specs = [("kernel", (kh, kw, cin, self.filters), init, w)]
        if self.use_bias:
            specs.append(("bias", (self.filters,), self.bias_initializer, w))
        return specs

    def _n_sum(self, batch):
        oh, ow, _ = self.out_shape
        return batch * oh * ow

    def forward(self, params, x, training):
        p = self.policy
        z = sp.conv2d(x, params[0], stride=self.strides, padding=self.padding,
                      table=self.table, fmt=self.z_fmt, rounding=p.forward_rounding)
        return self._bias_act(params, x, z)

    def backward(self, params, cache, dy, need_dx, gfmts):
        p = self.policy
        x, c = cache
        dz = self._act_backward(dy, c)
        gw = sp.conv2d_grad_weight(x, dz, params[0].shape, stride=self.strides,
                                   padding=self.padding, table=self.table, fmt=gfmts[0],
                                   rounding=p.backward_rounding)
        grads = [gw]
        if self.use_bias:
            grads.append(sp.sum(dz, axis=(0, 1, 2), fmt=gfmts[1],
                                rounding=p.backward_rounding))
        dx = None
        if need_dx:
            dx = sp.conv2d_grad_input(dz, params[0], x.shape, stride=self.strides,
                                      padding=self.padding, table=self.table, fmt=_delta(p),
                                      rounding=p.backward_rounding)
        return dx, grads

    def get_config(self):
        cfg = super().get_config()
        cfg.update(filters=self.filters, kernel_size=list(self.kernel_size),
                   strides=list(self.strides), padding=self.padding,
                   table=None if self.table is None else self.table.tolist())
        return cfg


class _Pool(Layer):
    def __init__(self, pool_size=2, strides=None, name=None, input_shape=None):
        super().__init__(name, input_shape)
        self.pool_size = _pair(pool_size, f"{type(self).__name__} pool_size")
        self.strides = self.pool_size if strides is None else _pair(
            strides, f"{type(self).__name__} strides")

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"{type(self).__name__} {self.name!r} needs (H, W, C) inputs, got "
                             f"per-sample shape {input_shape}")
        h, w, c = input_shape
        (kh, kw), (sy, sx) = self.pool_size, self.strides
        if h < kh or w < kw:
            raise ValueError(f"{type(self).__name__} {self.name!r}: pool {self.pool_size} is "
                             f"larger than the input {input_shape[:2]}")
        return ((h - kh) // sy + 1, (w - kw) // sx + 1, c)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(pool_size=list(self.pool_size), strides=list(self.strides))
        return cfg


class AvgPool2D(_Pool):
    """Average pooling (LeCun's subsampling without its trainable coefficient and bias)."""

    def forward(self, params, x, training):
        y = sp.avg_pool2d(x, self.pool_size, self.strides, rounding=self.policy.forward_rounding)
        return y, x.shape

    def backward(self, params, shape, dy, need_dx, gfmts):
        if not need_dx:
            return None, []
        return sp.avg_pool2d_grad(dy, shape, self.pool_size, self.strides,
                                  rounding=self.policy.backward_rounding), []


class MaxPool2D(_Pool):
    def forward(self, params, x, training):
        if training:
            y, idx = sp.max_pool2d(x, self.pool_size, self.strides, return_indices=True)
            return y, (x.shape, idx)
        return sp.max_pool2d(x, self.pool_size, self.strides), None

    def backward(self, params, cache, dy, need_dx, gfmts):
        if not need_dx:
            return None, []
        shape, idx = cache
        return sp.max_pool2d_grad(dy, idx, shape, self.pool_size, self.strides), []


AveragePooling2D, MaxPooling2D = AvgPool2D, MaxPool2D


class Flatten(Layer):
    def compute_output_shape(self, input_shape):
        return (int(np.prod(input_shape)),)

    def forward(self, params, x, training):
        return sp.reshape(x, (x.shape[0], -1)), x.shape

    def backward(self, params, shape, dy, need_dx, gfmts):
        return (sp.reshape(dy, shape) if need_dx else None), []


class Reshape(Layer):
    def __init__(self, target_shape, name=None, input_shape=None):
        super().__init__(name, input_shape)
        self.target_shape = tuple(int(s) for s in target_shape)

    def compute_output_shape(self, input_shape):
        if int(np.prod(self.target_shape)) != int(np.prod(input_shape)):
            raise ValueError(f"Reshape {self.name!r}: cannot reshape {input_shape} into "
                             f"{self.target_shape}")
        return self.target_shape

    def forward(self, params, x, training):
        return sp.reshape(x, (x.shape[0],) + self.target_shape), x.shape

    def backward(self, params, shape, dy, need_dx, gfmts):
        return (sp.reshape(dy, shape) if need_dx else None), []

    def get_config(self):
        cfg = super().get_config()
        cfg["target_shape"] = list(self.target_shape)
        return cfg


class ZeroPadding2D(Layer):
    """Zero border around the images (LeNet-4/5 take 28x28 digits padded to 32x32)."""

    def __init__(self, padding=2, name=None, input_shape=None):
        super().__init__(name, input_shape)
        if isinstance(padding, (int, np.integer)):
            padding = (int(padding), int(padding))
        self.padding = tuple(int(p) for p in padding)
        if len(self.padding) != 2 or min(self.padding) < 0:
            raise ValueError(f"ZeroPadding2D: padding must be an int or (ph, pw) >= 0, got "
                             f"{padding!r}")

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"ZeroPadding2D {self.name!r} needs (H, W, C) inputs, got "
                             f"{input_shape}")
        h, w, c = input_shape
        ph, pw = self.padding
        return (h + 2 * ph, w + 2 * pw, c)

    def forward(self, params, x, training):
        ph, pw = self.padding
        return sp.pad(x, ((0, 0), (ph, ph), (pw, pw), (0, 0))), None

    def backward(self, params, cache, dy, need_dx, gfmts):
        if not need_dx:
            return None, []
        ph, pw = self.padding
        h, w = dy.shape[1] - 2 * ph, dy.shape[2] - 2 * pw
        return dy[:, ph:ph + h, pw:pw + w, :], []

    def get_config(self):
        cfg = super().get_config()
        cfg["padding"] = list(self.padding)
        return cfg


class Activation(Layer):
    def __init__(self, activation, name=None, input_shape=None):
        super().__init__(name, input_shape)
        self.activation = acts.get(activation)
        self.fuse_softmax = False

    def output_format(self):
        if self.fuse_softmax:
            return self.in_fmt, self.in_bound
        return (self.activation.out_fmt(self.policy, self.in_fmt),
                self.activation.output_bound(self.policy, self.in_fmt))

    def forward(self, params, x, training):
        if self.fuse_softmax:
            return x, None
        return self.activation.forward(x, self.policy, self.in_fmt)

    def backward(self, params, cache, dy, need_dx, gfmts):
        if self.fuse_softmax:
            return dy, []
        return self.activation.backward(dy, cache, self.policy), []

    def get_config(self):
        cfg = super().get_config()
        cfg["activation"] = self.activation.name
        return cfg


class Dropout(Layer):
    """Inverted dropout: in training, each element is kept with probability 1 - rate and
    scaled by 1 / (1 - rate); at inference the layer is the identity.

    The mask is made on the machine, a fresh one every step: a constant array holding
    1 - rate in q1.14 is converted to q15.0 with stochastic rounding (spinla.astype), which
    rounds each element up to 1 with probability exactly (1 - rate) * 2^14 / 2^14 using the
    index-hashed random bits of spl_rand_u32, seeded per op and per run of the Program.
    The keep probability is therefore quantised to a multiple of 2^-14."""

    def __init__(self, rate: float, name=None, input_shape=None):
        super().__init__(name, input_shape)
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"Dropout: rate must be in [0, 1), got {rate!r}")
        self.rate = float(rate)

    def output_format(self):
        keep = 1.0 - self.rate
        return self.in_fmt, self.in_bound / keep if keep > 0 else self.in_bound

    def forward(self, params, x, training):
        if not training or self.rate == 0.0:
            return x, None
        keep = 1.0 - self.rate
        c = sp.full(x.shape, keep, fmt=q(14))
        mask = sp.astype(c, q(0), rounding="stochastic")
        scale = sp.multiply(mask, 1.0 / keep, fmt=q(13))
        return sp.multiply(x, scale, fmt=x.fmt, rounding=self.policy.forward_rounding), scale

    def backward(self, params, scale, dy, need_dx, gfmts):
        if not need_dx:
            return None, []
        if scale is None:
            return dy, []
        return sp.multiply(dy, scale, fmt=dy.fmt, rounding=self.policy.backward_rounding), []

    def get_config(self):
        cfg = super().get_config()
        cfg["rate"] = self.rate
        return cfg


LAYERS = {c.__name__: c for c in (Dense, Conv2D, AvgPool2D, MaxPool2D, Flatten, Reshape,
                                   ZeroPadding2D, Activation, Dropout)}


def from_config(cfg: dict) -> Layer:
    cfg = dict(cfg)
    cls = LAYERS[cfg.pop("class")]
    for k in ("kernel_size", "strides", "pool_size", "target_shape", "padding", "input_shape"):
        if isinstance(cfg.get(k), list):
            cfg[k] = tuple(cfg[k])
    return cls(**cfg)


__all__ = ["Layer", "Dense", "Conv2D", "AvgPool2D", "MaxPool2D", "AveragePooling2D",
           "MaxPooling2D", "Flatten", "Reshape", "ZeroPadding2D", "Activation", "Dropout",
           "from_config"]
