"""Every spinla.nn layer's and loss's forward and backward pass against a float64 NumPy
reference evaluated on the same quantised inputs, within the bound that the pass's roundings
allow; the references themselves are checked against finite differences.

Rounding is nearest throughout (FormatPolicy(backward_rounding='nearest')), so each rounded
op is off by at most 1/2 LSB of its output format, and the bounds below add those up."""
import numpy as np
import pytest

import spinla as sp
from spinla import nn
from spinla.fixed import q
from spinla.nn import layers as L
from spinla.nn import losses as LS

DET = nn.FormatPolicy(backward_rounding="nearest")
LSB = {f: 2.0 ** -f for f in range(16)}


def quant(a, frac):
    # ties to even, as spinla.asarray rounds
    return np.clip(np.rint(np.asarray(a, float) * 2 ** frac), -32768, 32767) / 2 ** frac


def build(layer, in_shape, in_frac=11, in_bound=4.0, policy=DET):
    layer.build(in_shape, q(in_frac), in_bound, policy)
    return layer


def params_for(layer, rng, scale=0.3):
    out = []
    for _, shape, _, f in layer.param_specs():
        out.append(sp.asarray(rng.normal(0, scale, shape), fmt=f))
    return out


def run(layer, x, params, dy, need_dx=True, batch=None, training=True):
    X = x if isinstance(x, sp.Array) else sp.asarray(x, fmt=layer.in_fmt)
    y, cache = layer.forward(params, X, training)
    DY = sp.asarray(dy, fmt=q(13)) if not isinstance(dy, sp.Array) else dy
    gf = layer.grad_formats(batch or X.shape[0])
    dx, grads = layer.backward(params, cache, DY, need_dx, gf)
    return X, y, dx, grads, gf, DY


def fd_check(f, x, grad, eps=1e-6, n=12, rng=None):
    """Central differences of the scalar f at n random coordinates of x match grad."""
    rng = rng or np.random.default_rng(0)
    flat = x.reshape(-1)
    for i in rng.choice(flat.size, min(n, flat.size), replace=False):
        old = flat[i]
        flat[i] = old + eps
        fp = f()
        flat[i] = old - eps
        fm = f()
        flat[i] = old
        assert abs((fp - fm) / (2 * eps) - grad.reshape(-1)[i]) < 1e-5 * (1 + abs(fp))


# --- float64 references ------------------------------------------------------------------

ACT = {
    "linear": (lambda z: z, lambda z, y: np.ones_like(z)),
    "relu": (lambda z: np.maximum(z, 0), lambda z, y: (z > 0) * 1.0),
    "tanh": (np.tanh, lambda z, y: 1 - np.tanh(z) ** 2),
    "scaled_tanh": (lambda z: 1.7159 * np.tanh(2 * z / 3),
                    lambda z, y: 1.7159 * 2 / 3 * (1 - np.tanh(2 * z / 3) ** 2)),
    "sigmoid": (lambda z: 1 / (1 + np.exp(-z)),
                lambda z, y: np.exp(-z) / (1 + np.exp(-z)) ** 2),
}


def conv_ref(x, w, stride, pads):
    (pt, pb, pl, pr), (sy, sx) = pads, stride
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    kh, kw = w.shape[:2]
    oh, ow = (xp.shape[1] - kh) // sy + 1, (xp.shape[2] - kw) // sx + 1
    y = np.zeros((x.shape[0], oh, ow, w.shape[3]))
    for i in range(kh):
        for j in range(kw):
            y += xp[:, i:i + sy * (oh - 1) + 1:sy, j:j + sx * (ow - 1) + 1:sx, :] @ w[i, j]
    return y


def conv_ref_grads(x, w, dy, stride, pads):
    (pt, pb, pl, pr), (sy, sx) = pads, stride
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    kh, kw = w.shape[:2]
    oh, ow = dy.shape[1:3]
    for i in range(kh):
        for j in range(kw):
            sl = (slice(None), slice(i, i + sy * (oh - 1) + 1, sy),
                  slice(j, j + sx * (ow - 1) + 1, sx))
            dw[i, j] = np.einsum("nhwc,nhwo->co", xp[sl], dy)
            dxp[sl] += dy @ w[i, j].T
    return dxp[:, pt:pt + x.shape[1], pl:pl + x.shape[2]], dw


def same_pads(h, w, k, s):
    out = []
    for size, kk, ss in ((h, k[0], s[0]), (w, k[1], s[1])):
        o = -(-size // ss)
        tot = max((o - 1) * ss + kk - size, 0)
        out += [tot // 2, tot - tot // 2]
    return tuple(out)


def test_references_match_finite_differences():
    rng = np.random.default_rng(0)
    for name, (f, df) in ACT.items():
        z = rng.normal(0, 1.5, (3, 4))
        z[np.abs(z) < 1e-3] = 0.5
        fd_check(lambda: float(np.sum(f(z) * np.arange(12).reshape(3, 4))), z,
                 df(z, f(z)) * np.arange(12).reshape(3, 4), rng=rng)
    for stride, pads in (((1, 1), (0, 0, 0, 0)), ((2, 2), (1, 2, 0, 1))):
        x, w = rng.normal(size=(2, 7, 6, 3)), rng.normal(size=(3, 2, 3, 4))
        c = rng.normal(size=conv_ref(x, w, stride, pads).shape)
        dx, dw = conv_ref_grads(x, w, c, stride, pads)
        fd_check(lambda: float(np.sum(conv_ref(x, w, stride, pads) * c)), x, dx, rng=rng)
        fd_check(lambda: float(np.sum(conv_ref(x, w, stride, pads) * c)), w, dw, rng=rng)
    z, t = rng.normal(size=(5, 4)), np.eye(4)[[0, 3, 1, 1, 2]]
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    fd_check(lambda: float(np.sum(np.log(np.exp(z).sum(1)) - (z * t).sum(1))), z, p - t, rng=rng)
    fd_check(lambda: float(np.sum(np.mean((z - t) ** 2, axis=1))), z, 2 * (z - t) / 4, rng=rng)


# --- Dense -----------------------------------------------------------------------------------

@pytest.mark.parametrize("act", ["linear", "relu", "tanh", "scaled_tanh", "sigmoid"])
def test_dense_forward_backward(act):
    rng = np.random.default_rng(1)
    B, n_in, n_out = 8, 37, 13
    layer = build(L.Dense(n_out, activation=act), (n_in,), in_frac=14, in_bound=1.0)
    x = rng.uniform(0, 1, (B, n_in))
    params = params_for(layer, rng, 0.2)
    dy = rng.normal(0, 0.5, (B, n_out))
    X, y, dx, (gw, gb), gf, DY = run(layer, x, params, dy)
    xq, w, b, dyq = X.to_numpy(), params[0].to_numpy(), params[1].to_numpy(), DY.to_numpy()
    f, df = ACT[act]
    z = xq @ w + b
    zf = layer.z_fmt.frac
    # forward: the matmul and the bias add each round once (<= 1 LSB of z); tanh-like units
    # add their table error (<= 0.6 LSB of q1.14) and a second rounding for scaled units.
    slope = {"linear": 1, "relu": 1, "tanh": 1, "sigmoid": 0.25, "scaled_tanh": 1.15}[act]
    bound = slope * LSB[zf] + (0 if act in ("linear", "relu") else 2 * LSB[14] + LSB[zf])
    assert np.abs(y.to_numpy() - f(z)).max() <= bound
    # backward, from the rounded forward values the layer keeps: dz within a few roundings
    zq = z if act in ("linear", "relu") else None
    if act == "relu":
        dz = dyq * (y.to_numpy() > 0)
        dz_err = 0.0
    elif act == "linear":
        dz, dz_err = dyq, 0.0
    else:
        dz = dyq * df(z, None)
        dz_err = 4 * LSB[13] + np.abs(dyq).max() * 6 * LSB[11]
    assert zq is None or zq.shape == z.shape
    np.testing.assert_array_less(np.abs(gw.to_numpy() - xq.T @ dz),
                                 LSB[gf[0].frac] / 2 + B * dz_err + 1e-12)
    np.testing.assert_array_less(np.abs(gb.to_numpy() - dz.sum(0)),
                                 LSB[gf[1].frac] / 2 + B * dz_err + 1e-12)
    np.testing.assert_array_less(np.abs(dx.to_numpy() - dz @ w.T),
                                 LSB[13] / 2 + n_out * np.abs(w).max() * dz_err + 1e-12)


def test_dense_dx_both_layouts_agree():
    """dx is computed as dz W^T or as (W dz^T)^T depending on which moves less data."""
    rng = np.random.default_rng(2)
    for B, n_in, n_out in ((2, 50, 40), (64, 5, 3)):
        layer = build(L.Dense(n_out), (n_in,))
        params = params_for(layer, rng)
        x, dy = rng.normal(0, 1, (B, n_in)), rng.normal(0, 0.5, (B, n_out))
        X, _, dx, _, _, DY = run(layer, x, params, dy)
        ref = DY.to_numpy() @ params[0].to_numpy().T
        assert np.abs(dx.to_numpy() - ref).max() <= LSB[13] / 2


def test_dense_without_bias_and_no_dx():
    rng = np.random.default_rng(3)
    layer = build(L.Dense(4, use_bias=False), (6,))
    params = params_for(layer, rng)
    assert len(params) == 1
    X, y, dx, grads, gf, DY = run(layer, rng.normal(size=(3, 6)), params,
                                  rng.normal(size=(3, 4)), need_dx=False)
    assert dx is None and len(grads) == 1


# --- Conv2D ----------------------------------------------------------------------------------

@pytest.mark.parametrize("padding,stride,table", [("valid", 1, False), ("same", 1, False),
                                                  ("valid", 2, False), ("same", 2, False),
                                                  ("valid", 1, True)])
def test_conv2d_forward_backward(padding, stride, table):
    rng = np.random.default_rng(4)
    B, H, W, cin, cout, k = 3, 9, 8, 6, 16 if table else 5, 3
    tab = sp.LENET5_C3_TABLE if table else None
    layer = build(L.Conv2D(cout, k, strides=stride, padding=padding, table=tab,
                           activation="relu"), (H, W, cin), in_frac=13, in_bound=2.0)
    params = params_for(layer, rng, 0.2)
    x = rng.normal(0, 0.7, (B, H, W, cin))
    oh, ow, _ = layer.out_shape
    dy = rng.normal(0, 0.5, (B, oh, ow, cout))
    X, y, dx, (gw, gb), gf, DY = run(layer, x, params, dy)
    xq, w, b, dyq = X.to_numpy(), params[0].to_numpy(), params[1].to_numpy(), DY.to_numpy()
    if table:
        w = w * np.asarray(tab)[None, None]
    pads = (0, 0, 0, 0) if padding == "valid" else same_pads(H, W, (k, k), (stride, stride))
    z = conv_ref(xq, w, (stride, stride), pads) + b
    assert y.shape == z.shape
    assert np.abs(y.to_numpy() - np.maximum(z, 0)).max() <= LSB[11]
    dz = dyq * (y.to_numpy() > 0)
    rdx, rdw = conv_ref_grads(xq, w, dz, (stride, stride), pads)
    if table:
        rdw = rdw * np.asarray(tab)[None, None]
        assert np.all(gw.to_numpy()[:, :, np.asarray(tab) == 0] == 0)
    assert np.abs(gw.to_numpy() - rdw).max() <= LSB[gf[0].frac] / 2
    assert np.abs(gb.to_numpy() - dz.sum((0, 1, 2))).max() <= LSB[gf[1].frac] / 2
    assert np.abs(dx.to_numpy() - rdx).max() <= LSB[13] / 2


# --- pooling, reshaping, padding -----------------------------------------------------------

def test_avg_and_max_pool():
    rng = np.random.default_rng(5)
    x = rng.normal(0, 1, (2, 6, 8, 3))
    dy = rng.normal(0, 0.5, (2, 3, 4, 3))
    for cls in (L.AvgPool2D, L.MaxPool2D):
        layer = build(cls(2), (6, 8, 3))
        X, y, dx, grads, _, DY = run(layer, x, [], dy)
        xq, dyq = X.to_numpy(), DY.to_numpy()
        win = xq.reshape(2, 3, 2, 4, 2, 3)
        assert grads == []
        if cls is L.AvgPool2D:
            assert np.abs(y.to_numpy() - win.mean((2, 4))).max() <= LSB[11] / 2
            ref = np.repeat(np.repeat(dyq, 2, 1), 2, 2) / 4
            assert np.abs(dx.to_numpy() - ref).max() <= LSB[13] / 2
        else:
            np.testing.assert_array_equal(y.to_numpy(), win.max((2, 4)))
            mask = xq == np.repeat(np.repeat(win.max((2, 4)), 2, 1), 2, 2)
            ref = np.repeat(np.repeat(dyq, 2, 1), 2, 2) * mask
            np.testing.assert_array_equal(dx.to_numpy(), ref)     # exact routing
    assert build(L.MaxPool2D(2), (6, 8, 3)).forward([], sp.asarray(x, fmt=11), False)[1] is None


def test_flatten_reshape_zeropad_are_exact():
    rng = np.random.default_rng(6)
    x = rng.normal(0, 1, (2, 4, 5, 3))
    for layer, dy_shape in ((L.Flatten(), (2, 60)), (L.Reshape((20, 3)), (2, 20, 3)),
                            (L.ZeroPadding2D((1, 2)), (2, 6, 9, 3))):
        build(layer, (4, 5, 3))
        assert layer.out_shape == dy_shape[1:]
        dy = rng.normal(0, 1, dy_shape)
        X, y, dx, _, _, DY = run(layer, x, [], dy)
        if isinstance(layer, L.ZeroPadding2D):
            np.testing.assert_array_equal(y.to_numpy(),
                                          np.pad(X.to_numpy(), ((0, 0), (1, 1), (2, 2), (0, 0))))
            np.testing.assert_array_equal(dx.to_numpy(), DY.to_numpy()[:, 1:5, 2:7])
        else:
            np.testing.assert_array_equal(y.to_numpy(), X.to_numpy().reshape(dy_shape))
            np.testing.assert_array_equal(dx.to_numpy(), DY.to_numpy().reshape(x.shape))
    with pytest.raises(ValueError, match="reshape"):
        build(L.Reshape((7,)), (4, 5, 3))


def test_softmax_activation_layer_backward():
    rng = np.random.default_rng(7)
    layer = build(L.Activation("softmax"), (6,), in_frac=11)
    z, dy = rng.normal(0, 2, (5, 6)), rng.normal(0, 0.3, (5, 6))
    X, y, dx, _, _, DY = run(layer, z, [], dy)
    zq, dyq = X.to_numpy(), DY.to_numpy()
    p = np.exp(zq) / np.exp(zq).sum(1, keepdims=True)
    assert np.abs(y.to_numpy() - p).max() <= 0.53 * LSB[14]
    yq = y.to_numpy()
    ref = yq * (dyq - (dyq * yq).sum(1, keepdims=True))
    assert np.abs(dx.to_numpy() - ref).max() <= 6 * LSB[13]


# --- Dropout ---------------------------------------------------------------------------------

def test_dropout_mask_on_machine():
    layer = build(L.Dropout(0.25), (100,), in_frac=11)
    x = np.full((400, 100), 0.5)
    j = sp.jit(lambda X, DY: (lambda yc: (yc[0], layer.backward([], yc[1], DY, True, [])[0]))(
        layer.forward([], X, True)))
    X, DY = sp.asarray(x, fmt=11), sp.asarray(np.ones((400, 100)), fmt=13)
    y1, dx1 = j(X, DY)
    y2, _ = j(X, DY)
    y1, y2 = y1.to_numpy(), y2.to_numpy()
    kept = y1 != 0
    assert abs(kept.mean() - 0.75) < 0.01                         # 40,000 Bernoulli draws
    assert np.abs(y1[kept] - 0.5 / 0.75).max() <= LSB[11]          # inverted dropout
    np.testing.assert_array_equal(dx1.to_numpy() != 0, kept)       # same mask backward
    assert (y1 != y2).any()                                        # a new mask every run
    prog = j.program(X, DY)
    assert any(c.kernel == "requant_q15" and c.stochastic for c in prog.calls)
    y_inf, _ = layer.forward([], X, False)
    assert y_inf is X                                              # identity at inference
    with pytest.raises(ValueError):
        L.Dropout(1.0)


# --- losses ---------------------------------------------------------------------------------

def test_cross_entropy_fused_gradient_and_value():
    rng = np.random.default_rng(8)
    B, C = 16, 10
    z = rng.normal(0, 3, (B, C))
    lab = rng.integers(0, C, B)
    t = np.eye(C)[lab]
    Z = sp.asarray(z, fmt=10)
    T, Lb = sp.asarray(t, fmt=14), sp.asarray(lab.astype(np.int16), fmt=sp.INT16)
    loss = LS.CategoricalCrossentropy()
    ls, correct, d = loss.forward_backward(Z, T, Lb, DET)
    zq = Z.to_numpy()
    p = np.exp(zq - zq.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    assert np.abs(d.to_numpy() - (p - t)).max() <= 0.53 * LSB[14]
    ref = np.sum(np.log(np.exp(zq).sum(1)) - zq[np.arange(B), lab])
    # logsumexp (1/2 LSB + 3e-6), the subtraction and the final sum each round once
    assert abs(float(ls) - ref) <= B * LSB[9] + LSB[loss.loss_fmt(B).frac]
    assert int(correct) == int(np.sum(zq.argmax(1) == lab))
    ls2, c2 = loss.value(Z, T, Lb, DET)
    assert float(ls2) == float(ls) and int(c2) == int(correct)


def test_mean_squared_error():
    rng = np.random.default_rng(9)
    B, C = 8, 3
    out, t = rng.normal(0, 1, (B, C)), rng.normal(0, 1, (B, C))
    O, T = sp.asarray(out, fmt=11), sp.asarray(t, fmt=11)
    Lb = sp.asarray(np.full(B, -1, np.int16), fmt=sp.INT16)
    loss = LS.MeanSquaredError()
    ls, correct, d = loss.forward_backward(O, T, Lb, DET)
    e = O.to_numpy() - T.to_numpy()
    # 2/C becomes a 16-bit constant (relative error <= 2^-16), then one rounding
    assert np.abs(d.to_numpy() - 2 * e / C).max() <= LSB[14] / 2 + np.abs(e).max() * 2.0 ** -15
    assert abs(float(ls) - np.sum(np.mean(e ** 2, 1))) <= B * C * LSB[11] + 2 * LSB[
        loss.loss_fmt(B).frac]
    assert int(correct) == 0


def test_unknown_names_rejected():
    with pytest.raises(ValueError, match="activation"):
        nn.activations.get("swish")
    with pytest.raises(ValueError, match="loss"):
        LS.get("hinge")
    with pytest.raises(ValueError, match="optimizer"):
        nn.optimizers.get("rmsprop")
    with pytest.raises(ValueError, match="initializer"):
        nn.initializers.get("orthogonal")
    with pytest.raises(ValueError, match="Flatten"):
        build(L.Dense(3), (4, 4))


def test_initializers_seeded_and_scaled():
    rng = np.random.default_rng(0)
    g = nn.GlorotUniform()((300, 200), rng)
    assert np.abs(g).max() <= np.sqrt(6 / 500) and abs(g.std() - np.sqrt(2 / 500)) < 0.002
    ln = nn.LeCunNormal()((400, 100), np.random.default_rng(1))
    assert abs(ln.std() - np.sqrt(1 / 400)) < 0.002 and np.abs(ln).max() <= 2 * np.sqrt(
        1 / 400) / 0.8796 + 1e-12
    a = nn.GlorotUniform()((5, 5, 1, 6), np.random.default_rng(3))
    b = nn.GlorotUniform()((5, 5, 1, 6), np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
