"""spinla.nn.Distortions, fit(augment=...), LearningRateScheduler and BoostedLeNet4 with
distortions."""
import numpy as np
import pytest

import spinla as sp
from spinla import nn
from spinla.nn import data as nndata


def digits(n=24, seed=0):
    """Blobs of ink in a 28x28 field, away from the border (as MNIST digits are)."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 28, 28), np.uint8)
    x[:, 8:20, 8:20] = rng.integers(0, 256, (n, 12, 12), dtype=np.uint8)
    return x, rng.integers(0, 10, n)


def test_draw_ranges_and_identity():
    d = nn.Distortions(translate=2, scale=0.1, squeeze=0.2, shear=0.3)
    A, t = d.draw(5000, np.random.default_rng(0))
    s = np.sqrt(A[:, 0, 0] * A[:, 1, 1])            # scale * sqrt(k / k)
    k = np.sqrt(A[:, 0, 0] / A[:, 1, 1])
    assert np.all(np.abs(s - 1) <= 0.1 + 1e-12) and np.all(np.abs(k - 1) <= 0.2 + 1e-12)
    assert np.all(np.abs(A[:, 0, 1] / s) <= 0.3 + 1e-12) and np.all(A[:, 1, 0] == 0)
    assert np.all(np.abs(t) <= 2) and np.abs(t).max() > 1.9     # the whole range is used
    A0, t0 = nn.Distortions(0, 0, 0, 0).draw(3, np.random.default_rng(0))
    assert np.array_equal(A0, np.broadcast_to(np.eye(2), (3, 2, 2))) and not t0.any()


def test_bad_parameters():
    with pytest.raises(ValueError, match="scale"):
        nn.Distortions(scale=1.0)
    with pytest.raises(ValueError, match="translate"):
        nn.Distortions(translate=-1)
    with pytest.raises(TypeError, match="distortions"):
        nn.distortions.get("yes")
    with pytest.raises(ValueError, match="Distortions"):
        nn.Distortions()(np.zeros((2, 28, 28)), np.random.default_rng(0))


def test_warps_on_the_machine_like_the_encoded_map():
    x, _ = digits(6)
    X = nndata.place_x(x, sp.q(14))
    d = nn.Distortions()
    before = sp.stats().calls.get("warp_affine", 0)
    Y = d(X, np.random.default_rng(3))
    assert sp.stats().calls.get("warp_affine", 0) == before + 1
    ref = sp.warp_affine(X, d.theta(6, np.random.default_rng(3))).to_numpy()
    assert Y.shape == X.shape and Y.fmt == X.fmt
    assert np.array_equal(Y.to_numpy(), ref)
    assert not np.array_equal(Y.to_numpy(), X.to_numpy())
    # ink is moved, not made: the total stays within the scale range of the original
    ratio = Y.to_numpy().sum((1, 2)) / X.to_numpy().sum((1, 2))
    assert np.all((ratio > 0.6) & (ratio < 1.5))
    ident = nn.Distortions(0, 0, 0, 0)(X, np.random.default_rng(0))
    assert np.array_equal(ident.to_numpy(), X.to_numpy())


def test_fit_augments_every_epoch_and_checks_the_callable():
    x, y = digits()
    m = nn.mlp1(seed=1)
    seen = []

    def spy(X, rng):
        seen.append(X.shape)
        return nn.Distortions()(X, rng)
    m.fit(x, y, epochs=2, batch_size=8, verbose=0, augment=spy)
    assert seen == [(24, 28, 28)] * 2 and m.iterations == 6
    with pytest.raises(TypeError, match="augment must be callable"):
        m.fit(x, y, epochs=1, batch_size=8, verbose=0, augment=3)
    with pytest.raises(TypeError, match="augment must return an Array shaped"):
        m.fit(x, y, epochs=1, batch_size=8, verbose=0, augment=lambda X, rng: X[:4])
    assert m.iterations == 6          # neither bad call trained a step
    m2 = nn.mlp1(seed=1)
    m2.fit(x, y, epochs=1, batch_size=8, verbose=0, augment=True, seed=0)
    m3 = nn.mlp1(seed=1)
    m3.fit(x, y, epochs=1, batch_size=8, verbose=0, seed=0)
    assert not all(np.array_equal(a, b) for a, b in zip(m2.get_weights(), m3.get_weights()))


def test_learning_rate_scheduler():
    x, y = digits()
    m = nn.mlp1(seed=1)
    rates = []

    class Spy:
        def set_model(self, model):
            self.model = model

        def on_epoch_end(self, epoch, logs):
            rates.append(self.model.optimizer.learning_rate)
    sched = nn.LearningRateScheduler(nn.callbacks.exponential_decay(1e-3, 0.5))
    m.fit(x, y, epochs=3, batch_size=12, verbose=0, callbacks=[sched, Spy()])
    assert rates == pytest.approx([1e-3, 5e-4, 2.5e-4])
    with pytest.raises(ValueError, match="learning rate"):
        m.fit(x, y, epochs=1, batch_size=12, verbose=0,
              callbacks=[nn.LearningRateScheduler(lambda e, lr: 0.0)])
    with pytest.raises(TypeError, match="callable"):
        nn.LearningRateScheduler(0.1)


def test_boosted_with_distortions_filters_a_stream():
    x, y = digits(24, seed=4)
    b = nn.boosted_lenet4()
    calls = []

    def counting(X, rng):
        calls.append(X.shape[0])
        return nn.Distortions()(X, rng)
    hists = b.fit(x, y, epochs=1, batch_size=8, verbose=0, filtered_size=16,
                  augment=counting, max_copies=3)
    assert len(hists) == 3
    # net 1's epoch, then at most 3 copies for each of the two filters
    assert calls[0] == 24 and 2 <= len(calls) <= 7
    assert [n.iterations for n in b.nets][0] == 3
    assert all(n.iterations == 2 for n in b.nets[1:])     # 16 patterns each, batch 8
    loss, acc = b.evaluate(x[:6], y[:6])
    assert np.isfinite(loss) and 0 <= acc <= 1
    with pytest.raises(ValueError, match="max_copies"):
        b.fit(x, y, epochs=1, batch_size=8, verbose=0, augment=True, max_copies=0)


def test_filtered_tops_up_and_leaves_out_empty_wants():
    rng = np.random.default_rng(0)
    lab = np.arange(10) % 3
    copies = [np.arange(10.0)[:, None] + 100 * c for c in range(2)]
    xs, ls = nn.models._filtered(iter(copies), lab, rng, {
        "zeros": (7, lambda xc: lab == 0),          # 4 per copy: 8 available, 7 taken
        "none": (5, lambda xc: np.zeros(10, bool))}, 0)
    assert len(xs) == 7 and np.all(ls == 0)
    assert set(xs[:, 0] % 100) <= {0, 3, 6, 9}
    xs, ls = nn.models._filtered(iter(copies[:1]), lab, rng, {"ones": (9, lambda xc: lab == 1)},
                                 0)
    assert len(xs) == 9 and np.all(ls == 1)        # 3 found, topped up with replacement
    assert nn.models._filtered(iter(copies), lab, rng, {"x": (3, lambda xc: lab > 5)}, 0) \
        == (None, None)
