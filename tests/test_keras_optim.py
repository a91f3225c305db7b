"""One optimiser step of k2s.fit against one Keras float32 step from the same weights.

Keras's definitions (losses are batch MEANS; SGD: v = mu v - lr g, w += v; Adam: alpha_t =
lr sqrt(1 - b2^t) / (1 - b1^t), w -= alpha_t m / (sqrt(v) + eps)) translated into spinla's
(summed gradients, lr / batch, eps * batch: spinla/keras/compile.py) must move the weights
as Keras does, within the fixed-point bound.

The problem is chosen so that the forward pass and the loss gradient are exact in fixed
point (inputs on a 2^-4 grid, weights, biases and targets on a 2^-6 grid, one linear Dense
layer, MSE over 4 outputs so 2/C = 1/2), which leaves as error sources only what the bound
below counts: the weight gradient's one stochastic rounding (< 1 LSB of its format), the
learning rate's q0.15 mantissa (relative 2^-13), the optimiser state's stochastic rounding
(< 1 LSB of its format), Adam's table square root and reciprocal (relative 2^-18) and Q16
ratio, and the new weight's stochastic rounding (< 1 LSB of q2.13).  A wrong translation
(the sum instead of the mean, eps in the wrong units or bias-corrected) moves the weights by
several times the step: the tests check that too.
"""
import numpy as np
import pytest

from spinla.keras.backend import default_backend

default_backend()
keras = pytest.importorskip("keras", reason="Keras not installed: pip install 'spinla[keras]'")
# Keras 3.15 on NumPy 2 warns about its own __array__ on every get_weights: not ours.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

import keras2spinnaker as k2s  # noqa: E402

N, D, C = 16, 8, 4


def problem(seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 16, (N, D)) / 16.0
    w = rng.integers(-16, 17, (D, C)) / 64.0
    b = rng.integers(-16, 17, (C,)) / 64.0
    t = rng.integers(-64, 65, (N, C)) / 64.0
    return x, w, b, t


def one_step(optimizer_factory, seed):
    """(w before, Keras's w after, spinla's w after, mean gradient, the spinla model)."""
    x, w, b, t = problem(seed)
    models = []
    for _ in range(2):
        m = keras.Sequential([keras.Input((D,)), keras.layers.Dense(C)])
        m.compile(optimizer=optimizer_factory(), loss="mse")
        m.set_weights([w.astype(np.float32), b.astype(np.float32)])
        models.append(m)
    km, sm = models
    km.train_on_batch(x.astype(np.float32), t.astype(np.float32))
    sm = k2s.keras2spinnaker(sm)
    k2s.fit(sm, x, t, batch_size=N, epochs=1, shuffle=False, verbose=0, seed=seed)
    g = x.T @ (2.0 * (x @ w + b - t) / C) / N          # Keras's mean gradient (exact here)
    gb = (2.0 * (x @ w + b - t) / C).mean(axis=0)
    return ([w, b], km.get_weights(), sm.get_weights(), [g, gb], sm._k2s.spinla)


LSB_W_FRAC = 13                 # q2.13 weights (spinla.nn.formats)
LSB_W = 2.0 ** -LSB_W_FRAC


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_step_matches_keras(seed, momentum):
    lr = 0.1
    w0, wk, ws, g, net = one_step(lambda: keras.optimizers.SGD(lr, momentum=momentum), seed)
    gfmts = net._grad_formats(N)
    for a0, ak, a, gm, gf in zip(w0, wk, ws, g, gfmts):
        step = lr * np.abs(gm)
        lsb_g = 2.0 ** -gf.frac
        lsb_v = 2.0 ** -(LSB_W_FRAC + 4) if momentum else 0.0   # velocity: 4 bits finer
        bound = lr * lsb_g / N + step * 2 ** -13 + lsb_v + LSB_W + 1e-6
        assert np.all(np.abs(a - ak) <= bound), np.abs(a - ak).max()
        assert np.abs(ak - a0).max() > 20 * bound.max()      # the step is well resolved



@pytest.mark.parametrize("seed", [0, 1, 2])
def test_adam_step_matches_keras_epsilon_and_bias_correction(seed):
    """eps = 0.1 mean-gradient units, comparable to the gradients, so that its definition
    (added to sqrt(v), not bias-corrected, in mean units) shows in the step."""
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 0.1
    w0, wk, ws, g, net = one_step(lambda: keras.optimizers.Adam(lr, b1, b2, eps), seed)
    alpha = lr * np.sqrt(1 - b2) / (1 - b1)
    gfmts = net._grad_formats(N)
    sfmts = net._state_fmts
    for a0, ak, a, gm, gf, sf in zip(w0, wk, ws, g, gfmts, sfmts):
        m, r = (1 - b1) * gm, np.sqrt(1 - b2) * np.abs(gm)
        ratio = m / (r + eps)
        # The Keras reference itself, from the definition, in float64:
        np.testing.assert_allclose(ak, a0 - alpha * ratio, atol=1e-6)
        lsb_g = 2.0 ** -gf.frac / N                     # in mean-gradient units
        lsb_s = 2.0 ** -sf[0].frac / N
        d_in = (1 - b1) * lsb_g + 2 * lsb_s             # |dm|, and |dr| likewise
        d_ratio = d_in * (1 + np.abs(ratio)) / (r + eps) + 2 ** -16 + np.abs(ratio) * 2 ** -17
        bound = alpha * (d_ratio + np.abs(ratio) * 2 ** -13) + LSB_W + 1e-6
        assert np.all(np.abs(a - ak) <= bound), (np.abs(a - ak) - bound).max()
        # Keras's eps definition matters here: eps bias-corrected (added to sqrt(v_hat)) or
        # in summed-gradient units would move the weights visibly differently.
        assert np.abs(ak - a0).max() > 10 * bound.max()      # the step is well resolved
        other = a0 - alpha * m / (r + eps * np.sqrt(1 - b2))
        assert np.abs(other - ak).max() > 5 * bound.max()
