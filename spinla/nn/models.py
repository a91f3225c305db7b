"""The six MNIST networks of LeCun et al. 1998 (Proc. IEEE 86(11), section III.C), built for
fixed-point training on spinla.

Each takes images shaped (N, 28, 28) or (N, 28, 28, 1) with values in [0, 1] (uint8 pixels are
divided by 255 when they are placed on the machine); the LeNets that want 32x32 inputs pad
the digits themselves.  Each comes compiled with Adam (learning rate 1e-3) and softmax
cross-entropy; compile() changes that.

Deviations from the paper, for 16-bit fixed-point training:
* ReLU instead of LeCun's scaled tanh: exact in fixed point (a max and a 0/1 mask, no table
  error), derivatives exactly 0 or 1 so deltas are not shrunk by a rounded factor per layer,
  and it trains as well or better in float on these nets.  Pass activation="scaled_tanh"
  (or "tanh") to get the paper's units.
* Subsampling layers are plain 2x2 average pooling (the paper's have a trainable coefficient
  and bias per map and a squashing function).
* The output layer is a softmax with cross-entropy, not LeNet-5's Euclidean RBF units.
* LeNet-4's F5 is fully connected to its 16@5x5 maps, so it has about 51k parameters; the
  paper's "about 17,000" cannot be reconciled with 16@5x5 maps feeding 120 units.
"""
from __future__ import annotations

import sys

import numpy as np

import spinla as sp

from ..ops.nn import LENET5_C3_TABLE
from . import data as nndata
from . import distortions as nndist
from .layers import AvgPool2D, Conv2D, Dense, Flatten, Reshape, ZeroPadding2D
from .model import Sequential, _Bar


def _compiled(model: Sequential) -> Sequential:
    model.build()
    return model.compile(optimizer=sp.nn.Adam(1e-3), loss="categorical_crossentropy")


def mlp1(seed: int = 0, activation="relu", policy=None) -> Sequential:
    """784-300-10: one hidden layer of 300 units (paper: 4.7 % test error)."""
    return _compiled(Sequential([
        Flatten(input_shape=(28, 28)),
        Dense(300, activation=activation),
        Dense(10, activation="softmax"),
    ], name="mlp1", seed=seed, policy=policy))


def mlp2(seed: int = 0, activation="relu", policy=None) -> Sequential:
    """784-300-100-10 (paper: 3.05 %)."""
    return _compiled(Sequential([
        Flatten(input_shape=(28, 28)),
        Dense(300, activation=activation),
        Dense(100, activation=activation),
        Dense(10, activation="softmax"),
    ], name="mlp2", seed=seed, policy=policy))


def lenet1(seed: int = 0, activation="relu", policy=None) -> Sequential:
    """LeNet-1: 28x28 input, 4@24x24 (5x5), pool, 12@8x8 (5x5), pool, 10 outputs (paper:
    1.7 %)."""
    return _compiled(Sequential([
        Reshape((28, 28, 1), input_shape=(28, 28)),
        Conv2D(4, 5, activation=activation),
        AvgPool2D(2),
        Conv2D(12, 5, activation=activation),
        AvgPool2D(2),
        Flatten(),
        Dense(10, activation="softmax"),
    ], name="lenet1", seed=seed, policy=policy))


def lenet4(seed: int = 0, activation="relu", policy=None, name="lenet4") -> Sequential:
    """LeNet-4: 32x32 input (28x28 padded by 2), 4@28x28 (5x5), pool, 16@10x10 (5x5), pool,
    120 units, 10 outputs (paper: 1.1 %)."""
    return _compiled(Sequential([
        Reshape((28, 28, 1), input_shape=(28, 28)),
        ZeroPadding2D(2),
        Conv2D(4, 5, activation=activation),
        AvgPool2D(2),
        Conv2D(16, 5, activation=activation),
        AvgPool2D(2),
        Flatten(),
        Dense(120, activation=activation),
        Dense(10, activation="softmax"),
    ], name=name, seed=seed, policy=policy))


def lenet5(seed: int = 0, activation="relu", policy=None) -> Sequential:
    """LeNet-5: 32x32 input, C1 6@28x28 (5x5), S2 6@14x14, C3 16@10x10 (5x5, the paper's
    partial connection table), S4 16@5x5, C5 120 (a 5x5 convolution over all of S4, i.e. a
    dense layer), F6 84, 10 outputs; 60,806 trainable parameters (paper: 0.95 %).  The C3
    kernel is stored whole (HWIO, as Keras would), so 900 of its 2,400 weights are the
    table's missing connections: they stay exactly 0 (their gradients are 0)."""
    return _compiled(Sequential([
        Reshape((28, 28, 1), input_shape=(28, 28)),
        ZeroPadding2D(2),
        Conv2D(6, 5, activation=activation),
        AvgPool2D(2),
        Conv2D(16, 5, activation=activation, table=LENET5_C3_TABLE),
        AvgPool2D(2),
        Conv2D(120, 5, activation=activation),
        Flatten(),
        Dense(84, activation=activation),
        Dense(10, activation="softmax"),
    ], name="lenet5", seed=seed, policy=policy))


class BoostedLeNet4:
    """Three LeNet-4s trained by boosting by filtering (Drucker, Schapire & Simard 1993; LeCun
    et al. 1998, paper: 0.7 % with distortions); their softmax outputs are added.

    * net 1 is trained on the training set;
    * net 2 on a filtered set, half of it patterns net 1 gets wrong and half patterns it gets
      right, as net 1 classifies them on the machine;
    * net 3 on patterns where nets 1 and 2 disagree.
    Each filtered set has `filtered_size` patterns (default: half the training set).

    With augment (e.g. spinla.nn.Distortions(), as in the paper), net 1 trains on freshly
    distorted digits every epoch, and the filters draw from a stream of distorted copies of
    the training set, warped on the machine, until they have their patterns or have seen
    `max_copies` copies; nets 2 and 3 then train on their filtered patterns as drawn.
    Without augment the filters see the training set once: net 1 makes few errors on its own
    training data, so the error half (and net 3's set, if short) is drawn with replacement.
    """

    MAX_COPIES = 20  # ASSUMPTION: bounds the filtering stream at 20 distorted training sets

    def __init__(self, seed: int = 0, activation="relu", policy=None):
        self.nets = [lenet4(seed + k, activation, policy, name=f"lenet4_{k + 1}")
                     for k in range(3)]
        self.seed = seed

    def compile(self, optimizer="adam", loss="categorical_crossentropy"):
        for net in self.nets:
            opt = optimizer if isinstance(optimizer, (str, dict)) else \
                sp.nn.optimizers.get(optimizer.get_config())
            net.compile(optimizer=opt, loss=loss)
        return self

    def fit(self, x, y, epochs=1, batch_size=32, validation_data=None, shuffle=True,
            seed=None, verbose=1, filtered_size=None, augment=None, max_copies=None,
            callbacks=None, spinnaker_cost=True):
        """Trains the three nets in turn (each fit with the same epochs, callbacks, augment
        and spinnaker_cost, see Model.fit); returns their three Histories."""
        net1 = self.nets[0]
        net1._require_compiled("fit")
        xa, _, lab = net1._conform(x, y)
        nndata.check_batch_size(batch_size)
        if augment is None or isinstance(augment, (bool, dict)):
            augment = nndist.get(augment)
        rng = np.random.default_rng(self.seed if seed is None else seed)
        n = len(xa)
        size = int(filtered_size or max(1, n // 2))
        if max_copies is not None and (not isinstance(max_copies, (int, np.integer))
                                       or max_copies < 1):
            raise ValueError(f"BoostedLeNet4.fit: max_copies must be a positive integer, got "
                             f"{max_copies!r}")
        copies = 1 if augment is None else int(max_copies or self.MAX_COPIES)
        kw = dict(epochs=epochs, batch_size=batch_size, validation_data=validation_data,
                  shuffle=shuffle, seed=seed, verbose=verbose, callbacks=callbacks,
                  spinnaker_cost=spinnaker_cost)
        hists = [net1.fit(xa, lab, augment=augment, **kw)]
        X = nndata.place_x(xa, sp.q(net1.policy.input))

        def stream():
            for _ in range(copies):
                yield X if augment is None else augment(X, rng)

        memo = {}

        def classes(net, Xc):     # each net classifies each copy once
            if memo.get("copy") is not Xc:
                memo.clear()
                memo["copy"] = Xc
            if net.name not in memo:
                memo[net.name] = net._predict_placed(Xc, 256).to_numpy().argmax(axis=1)
            return memo[net.name]

        half = size // 2
        x2, l2 = _filtered(stream(), lab, rng, {
            "wrong": (half, lambda Xc: classes(net1, Xc) != lab),
            "right": (size - half, lambda Xc: classes(net1, Xc) == lab)}, verbose, copies,
            "filtering for net 2")
        # The filtered patterns come back as the copies hold them, q-values in X's format:
        # scaled by one LSB of it they are placed again exactly, without a float detour.
        q_in = dict(input_scale=2.0 ** -X.fmt.frac)
        hists.append(self.nets[1].fit(x2, l2, **q_in, **kw))

        def disagree(Xc):
            return classes(net1, Xc) != classes(self.nets[1], Xc)
        x3, l3 = _filtered(stream(), lab, rng, {"disagree": (size, disagree)}, verbose, copies,
                           "filtering for net 3")
        if x3 is None:      # the nets agree everywhere: net 3 sees the training set
            idx3 = rng.choice(n, size, replace=n < size)
            x3, l3, q_in = xa[idx3], lab[idx3], {}
        hists.append(self.nets[2].fit(x3, l3, **q_in, **kw))
        return hists

    def _summed(self, x, batch_size):
        xa = nndata.conform_x(x, self.nets[0].input_shape)
        X = nndata.place_x(xa, sp.q(self.nets[0].policy.input))
        outs = [net._predict_placed(X, batch_size) for net in self.nets]
        return sp.add(sp.add(outs[0], outs[1], fmt=sp.q(13)), outs[2], fmt=sp.q(13))

    def predict(self, x, batch_size: int = 256) -> np.ndarray:
        """The sum of the three nets' class probabilities (in [0, 3])."""
        nndata.check_batch_size(batch_size)
        return self._summed(x, batch_size).to_numpy()

    def evaluate(self, x, y, batch_size: int = 256):
        """(cross-entropy of the nets' averaged probabilities, accuracy of the summed
        outputs), both computed on the machine."""
        nndata.check_batch_size(batch_size)
        net = self.nets[0]
        xa, t, lab = net._conform(x, y)
        s = self._summed(xa, batch_size)
        T, Lb = nndata.place_y(t, lab, 10, sp.q(14))
        acc = sp.sum(sp.equal(sp.argmax(s, axis=-1), Lb), fmt=sp.INT16)
        p_true = sp.sum(sp.multiply(s, T, fmt=s.fmt if s.fmt.frac <= T.fmt.frac else T.fmt),
                        axis=-1, fmt=sp.q(13))                   # 3 x mean probability
        p_true = sp.maximum(sp.multiply(p_true, 1.0 / 3.0, fmt=p_true.fmt), 2.0 ** -13,
                            fmt=p_true.fmt)                      # no log(0)
        loss = sp.mean(sp.negative(sp.log(p_true)))
        return float(loss), int(acc) / len(lab)


def _filtered(stream, lab, rng, wants, verbose, total=None, desc="boosting filter"):
    """Patterns for boosting by filtering: wants maps a name to (count, select), select(Xc)
    a boolean mask over the samples of a copy Xc of the training set (a placed Array, or a
    NumPy array for bench/accuracy.py's float32 twin).  Draws from the copies of the
    stream until every want is met; a want still short at the end is topped up by drawing
    its patterns with replacement; a want that found none is left out.  Returns (images,
    labels) as host arrays, shuffled, or (None, None) if nothing was selected: the images of
    placed copies as their int16 q-values (fit places them again exactly with input_scale
    one LSB of their format), of NumPy copies as they are.  verbose 1: a
    progress bar over the copies (total of them at most); verbose 2: a line at the end."""
    got = {k: [] for k in wants}
    have = dict.fromkeys(wants, 0)
    seen = 0
    bar = _Bar(total, desc, verbose == 1, unit="copy")

    def postfix():
        return ", ".join(f"{k} {have[k]}/{c}" for k, (c, _) in wants.items())
    for Xc in stream:
        seen += 1
        for k, (count, select) in wants.items():
            if have[k] >= count:
                continue
            idx = np.flatnonzero(select(Xc))
            if len(idx) > count - have[k]:
                idx = rng.choice(idx, count - have[k], replace=False)
            if len(idx):
                idx = np.sort(idx)
                xk = Xc[idx] if isinstance(Xc, np.ndarray) else \
                    sp.take(Xc, idx, axis=0).raw
                got[k].append((xk, lab[idx]))
                have[k] += len(idx)
        bar.update(1, postfix, force=True)
        if all(have[k] >= c for k, (c, _) in wants.items()):
            break
    xs, ls = [], []
    for k, (count, _) in wants.items():
        if not got[k]:
            continue
        xk = np.concatenate([g[0] for g in got[k]])
        lk = np.concatenate([g[1] for g in got[k]])
        if len(xk) < count:
            extra = rng.choice(len(xk), count - len(xk))
            xk, lk = np.concatenate([xk, xk[extra]]), np.concatenate([lk, lk[extra]])
        xs.append(xk)
        ls.append(lk)
    bar.close(postfix)
    if verbose == 2:
        print(f"{desc}: {postfix()} from {seen} cop{'y' if seen == 1 else 'ies'} of the "
              f"training set", file=sys.stderr)
    if not xs:
        return None, None
    perm = rng.permutation(sum(len(a) for a in xs))
    return np.concatenate(xs)[perm], np.concatenate(ls)[perm]


def boosted_lenet4(seed: int = 0, activation="relu", policy=None) -> BoostedLeNet4:
    return BoostedLeNet4(seed, activation, policy)


__all__ = ["mlp1", "mlp2", "lenet1", "lenet4", "lenet5", "boosted_lenet4", "BoostedLeNet4"]
