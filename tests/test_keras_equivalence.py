"""keras2spinnaker: the converted network's forward pass on the emulator against Keras's
predict on the same weights, within the fixed-point bound, for every supported layer and
activation (hypothesis over shapes, strides, paddings and weights).

The bound is propagated layer by layer from the formats spinla chose (rigorous for the
maths, not a tolerance tuned to pass): an element's error e enters as the input's rounding
(2^-(f+1)); a Dense/Conv2D output carries |W| applied to e, plus the weights' rounding
(2^-(fw+1)) times |x| + e, plus half an LSB for each rounding (product, bias add); ReLU and
max pooling pass e on (1-Lipschitz, exact), tanh adds its table error (0.69 LSB of q1.14),
sigmoid quarters e and adds 0.6 LSB, softmax gives at most max(e)/2 + 0.53 LSB (its
Jacobian's row sums are 2 p (1 - p) <= 1/2), average pooling averages e and adds a rounding.
Keras computes in float32: a slack of 2e-5 + 1e-5 |y| covers that.  No saturation is allowed
(it would void the bound), and it is asserted.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spinla.keras.backend import default_backend

default_backend()
keras = pytest.importorskip("keras", reason="Keras not installed: pip install 'spinla[keras]'")
# Keras 3.15 on NumPy 2 warns about its own __array__ on every get_weights: not ours.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

import spinla as sp  # noqa: E402
from keras2spinnaker import keras2spinnaker  # noqa: E402
from spinla.nn import activations as A  # noqa: E402
from spinla.nn import layers as L  # noqa: E402

LSB14 = 2.0 ** -14
ACT_NAMES = ["relu", "tanh", "sigmoid", "softmax", "linear"]


def _half(fmt):
    return 2.0 ** -(fmt.frac + 1)


def _act(name, z, ez):
    if name == "linear":
        return z, ez
    if name == "relu":
        return np.maximum(z, 0), ez
    if name == "tanh":
        return np.tanh(z), ez + 0.69 * LSB14
    if name == "sigmoid":
        return 1 / (1 + np.exp(-z)), ez / 4 + 0.6 * LSB14
    if name == "softmax":
        p = np.exp(z - z.max(-1, keepdims=True))
        p /= p.sum(-1, keepdims=True)
        return p, np.broadcast_to(ez.max(-1, keepdims=True) / 2, z.shape) + 0.53 * LSB14
    raise AssertionError(name)


def _conv(x, w, strides, padding):
    """NHWC x, HWIO w, Keras's 'same' (extra row/column at the bottom/right)."""
    n, h, wd, c = x.shape
    kh, kw, _, co = w.shape
    sy, sx = strides
    if padding == "same":
        oh, ow = -(-h // sy), -(-wd // sx)
        ph, pw = max((oh - 1) * sy + kh - h, 0), max((ow - 1) * sx + kw - wd, 0)
        x = np.pad(x, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))
    win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::sy, ::sx]
    return np.einsum("nhwcij,ijco->nhwo", win, w)


def _pool(x, size, strides, op):
    win = np.lib.stride_tricks.sliding_window_view(x, size, axis=(1, 2))
    win = win[:, ::strides[0], ::strides[1]]
    return op(win, axis=(-2, -1))


def reference_and_bound(net, weights, x):
    """Float64 forward pass of the spinla model's layers with the Keras weights, and the
    elementwise bound of spinla's fixed-point result from it."""
    wf = net.layers[0].policy.fmt("weight")
    dw = _half(wf)
    e = np.full(x.shape, _half(net.layers[0].in_fmt))
    it = iter(weights)
    for ly in net.layers:
        if isinstance(ly, (L.Dense, L.Conv2D)):
            W = next(it).astype(np.float64)
            b = next(it).astype(np.float64) if ly.use_bias else None
            ax = np.abs(x) + e
            if isinstance(ly, L.Dense):
                z = x @ W
                ez = e @ np.abs(W) + ax @ np.full(W.shape, dw)
            else:
                z = _conv(x, W, ly.strides, ly.padding)
                ez = (_conv(e, np.abs(W), ly.strides, ly.padding)
                      + _conv(ax, np.full(W.shape, dw), ly.strides, ly.padding))
            ez = ez + _half(ly.z_fmt)
            if b is not None:
                z, ez = z + b, ez + dw + _half(ly.z_fmt)
            x, e = _act(ly.activation.name, z, ez)
        elif isinstance(ly, L.Activation):
            x, e = _act(ly.activation.name, x, e)
        elif isinstance(ly, L.AvgPool2D):
            x = _pool(x, ly.pool_size, ly.strides, np.mean)
            e = _pool(e, ly.pool_size, ly.strides, np.mean) + _half(ly.out_fmt) * (1 + 2 ** -16)
        elif isinstance(ly, L.MaxPool2D):
            x = _pool(x, ly.pool_size, ly.strides, np.max)
            e = _pool(e, ly.pool_size, ly.strides, np.max)
        elif isinstance(ly, L.ZeroPadding2D):
            ph, pw = ly.padding
            pad = ((0, 0), (ph, ph), (pw, pw), (0, 0))
            x, e = np.pad(x, pad), np.pad(e, pad)
        elif isinstance(ly, (L.Flatten, L.Reshape)):
            x = x.reshape((len(x),) + ly.out_shape)
            e = e.reshape(x.shape)
        elif isinstance(ly, L.Dropout):
            pass
        else:
            raise AssertionError(f"no bound for {ly}")
    return x, e


def check(model, x):
    model = keras2spinnaker(model)
    net = model._k2s.spinla
    sp.reset_stats()
    got = net.predict(x)
    assert not any(sp.stats().saturated.values()), sp.stats().saturated
    want = model.predict(x, verbose=0, batch_size=len(x)).astype(np.float64)
    ref, bound = reference_and_bound(net, model.get_weights(), x.astype(np.float64))
    slack = 2e-5 + 1e-5 * np.abs(ref)
    assert np.all(np.abs(want - ref) <= slack), "Keras float32 differs from float64 reference"
    err = np.abs(got - want)
    assert np.all(err <= bound + slack), (
        f"max error {err.max():.3g}, bound there {(bound + slack).flat[np.argmax(err - bound)]:.3g}")
    return err.max(), bound.max()


def _set_weights(model, rng, scale):
    model.set_weights([rng.uniform(-scale, scale, w.shape).astype(np.float32)
                       for w in model.get_weights()])


@settings(max_examples=8, deadline=None)
@given(n_in=st.integers(1, 20), units=st.integers(1, 12), out=st.integers(1, 6),
       act=st.sampled_from(ACT_NAMES), act2=st.sampled_from(ACT_NAMES),
       extra=st.sampled_from(["none", "Activation", "ReLU", "Softmax", "Dropout"]),
       bias=st.booleans(), seed=st.integers(0, 2 ** 16), functional=st.booleans())
def test_dense_stack_matches_keras_predict(n_in, units, out, act, act2, extra, bias, seed,
                                           functional):
    rng = np.random.default_rng(seed)
    kl = keras.layers
    layers = [kl.Dense(units, activation=act, use_bias=bias)]
    layers += {"none": [], "Activation": [kl.Activation(act2)], "ReLU": [kl.ReLU()],
               "Softmax": [kl.Softmax()], "Dropout": [kl.Dropout(0.3)]}[extra]
    layers.append(kl.Dense(out, activation=act2))
    if functional:
        inp = keras.Input((n_in,))
        y = inp
        for ly in layers:
            y = ly(y)
        model = keras.Model(inp, y)
    else:
        model = keras.Sequential([keras.Input((n_in,))] + layers)
    model.compile(optimizer="sgd", loss="mse")
    _set_weights(model, rng, 0.5)
    check(model, rng.uniform(-1, 1, (7, n_in)))


@settings(max_examples=8, deadline=None)
@given(h=st.integers(3, 9), w=st.integers(3, 9), c=st.integers(1, 3), filters=st.integers(1, 4),
       k=st.integers(1, 3), stride=st.integers(1, 2), padding=st.sampled_from(["valid", "same"]),
       zpad=st.integers(0, 1), pool=st.sampled_from(["none", "avg", "max"]),
       act=st.sampled_from(ACT_NAMES), bias=st.booleans(), seed=st.integers(0, 2 ** 16),
       reshape=st.booleans())
def test_conv_stack_matches_keras_predict(h, w, c, filters, k, stride, padding, zpad, pool, act,
                                          bias, seed, reshape):
    rng = np.random.default_rng(seed)
    kl = keras.layers
    layers = [kl.Reshape((h, w, c))] if reshape else []
    if zpad:
        layers.append(kl.ZeroPadding2D(zpad))
    layers.append(kl.Conv2D(filters, k, strides=stride, padding=padding, activation=act,
                            use_bias=bias))
    hh, ww = h + 2 * zpad, w + 2 * zpad
    oh, ow = ((-(-hh // stride), -(-ww // stride)) if padding == "same"
              else ((hh - k) // stride + 1, (ww - k) // stride + 1))
    if pool != "none" and min(oh, ow) >= 2:
        layers.append((kl.AveragePooling2D if pool == "avg" else kl.MaxPooling2D)(2))
    layers += [kl.Flatten(), kl.Dense(3, activation="linear")]
    model = keras.Sequential([keras.Input((h * w * c,) if reshape else (h, w, c))] + layers)
    model.compile(optimizer="sgd", loss="mse")
    _set_weights(model, rng, 0.4)
    x = rng.uniform(0, 1, (5,) + ((h * w * c,) if reshape else (h, w, c)))
    check(model, x)


def test_every_supported_layer_and_activation_is_covered():
    """The two tests above draw from these: keep them in step with the registry."""
    from spinla.keras import ACTIVATIONS, LAYERS
    covered = {"InputLayer", "Dense", "Conv2D", "AveragePooling2D", "MaxPooling2D",
               "ZeroPadding2D", "Flatten", "Reshape", "Dropout", "Activation", "ReLU",
               "Softmax"}
    assert set(LAYERS) == covered
    assert set(ACTIVATIONS) == set(ACT_NAMES)
    assert set(ACT_NAMES) <= set(A._REGISTRY)


def test_proposal_model_forward_matches_keras(rng):
    model = keras.Sequential([keras.layers.Flatten(input_shape=(28, 28)),
                              keras.layers.Dense(128, activation="relu"),
                              keras.layers.Dropout(0.2),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    err, bound = check(model, rng.uniform(0, 1, (16, 28, 28)))
    assert err < 2e-3
