"""keras2spinnaker's bridge: what it refuses (by name, before anything runs), k2s.fit's Keras
semantics (History, callbacks, validation_split, progress bar), write-back, and that a failed
or interrupted fit leaves the Keras model's weights exactly as they were."""
import csv
import os
import subprocess
import sys

import numpy as np
import pytest

from spinla.keras.backend import default_backend

default_backend()
keras = pytest.importorskip("keras", reason="Keras not installed: pip install 'spinla[keras]'")
# Keras 3.15 on NumPy 2 warns about its own __array__ on every get_weights: not ours.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

import keras2spinnaker as k2s  # noqa: E402
from keras2spinnaker import keras2spinnaker  # noqa: E402
from spinla import runtime  # noqa: E402

kl = keras.layers


class _Runs:
    """Counts Programs run on the machine while attached."""

    def __init__(self):
        self.n = 0

    def on_run(self, program):
        self.n += 1

    def __enter__(self):
        runtime.add_observer(self)
        return self

    def __exit__(self, *a):
        runtime.remove_observer(self)


def data(n=256, d=8, c=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, (n, d)).astype(np.float32)
    y = np.argmax(x @ rng.normal(size=(d, c)), axis=1)
    return x, y


def mlp(d=8, c=3, optimizer="adam", loss="sparse_categorical_crossentropy",
        metrics=("accuracy",), last="softmax"):
    m = keras.Sequential([keras.Input((d,)), kl.Dense(16, activation="relu"),
                          kl.Dense(c, activation=last)])
    m.compile(optimizer=optimizer, loss=loss, metrics=list(metrics))
    return m


def same(a, b):
    return len(a) == len(b) and all(np.array_equal(u, v) for u, v in zip(a, b))


# --- refused by name, before anything runs -------------------------------------------------

@pytest.mark.parametrize("layer,name", [
    (kl.BatchNormalization(), "BatchNormalization"),
    (kl.Dense(4, activation="elu"), "'elu'"),
    (kl.LeakyReLU(), "LeakyReLU"),
    (kl.Dense(4, kernel_regularizer="l2"), "kernel_regularizer"),
])
def test_unsupported_layer_is_refused_by_name_with_config(layer, name):
    m = keras.Sequential([keras.Input((8,)), kl.Dense(6), layer, kl.Dense(3, activation="softmax")])
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with _Runs() as r, pytest.raises(k2s.UnsupportedError, match=name) as e:
        keras2spinnaker(m)
    assert "config" in str(e.value) and r.n == 0


@pytest.mark.parametrize("kw,name", [
    ({"filters": 2, "kernel_size": 3, "dilation_rate": 2}, "dilation_rate"),
    ({"filters": 2, "kernel_size": 1, "data_format": "channels_first"}, "data_format"),
])
def test_conv_settings_refused(kw, name):
    m = keras.Sequential([keras.Input((6, 6, 2)), kl.Conv2D(**kw), kl.Flatten(), kl.Dense(2)])
    m.compile(optimizer="sgd", loss="mse")
    with pytest.raises(k2s.UnsupportedError, match=name):
        keras2spinnaker(m)


@pytest.mark.parametrize("compile_kw,name", [
    ({"optimizer": "rmsprop"}, "RMSprop"),
    ({"optimizer": keras.optimizers.Adam(amsgrad=True)}, "amsgrad"),
    ({"optimizer": keras.optimizers.SGD(momentum=0.9, nesterov=True)}, "nesterov"),
    ({"optimizer": keras.optimizers.Adam(clipnorm=1.0)}, "clipnorm"),
    ({"loss": "binary_crossentropy"}, "binary_crossentropy"),
    ({"loss": keras.losses.SparseCategoricalCrossentropy(reduction="sum")}, "reduction"),
    ({"metrics": ["mae"]}, "'mae'"),
])
def test_unsupported_compile_settings_refused(compile_kw, name):
    kw = {"optimizer": "adam", "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}
    kw.update(compile_kw)
    m = keras.Sequential([keras.Input((8,)), kl.Dense(3, activation="softmax")])
    m.compile(**kw)
    with pytest.raises(k2s.UnsupportedError, match=name):
        keras2spinnaker(m)


def test_branching_functional_model_refused():
    inp = keras.Input((8,))
    a, b = kl.Dense(4)(inp), kl.Dense(4)(inp)
    m = keras.Model(inp, kl.Dense(3, activation="softmax")(kl.Add()([a, b])))
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with pytest.raises(k2s.UnsupportedError, match="single path|Add"):
        keras2spinnaker(m)


def test_crossentropy_without_softmax_output_refused():
    m = mlp(last="linear")
    with pytest.raises(k2s.UnsupportedError, match="from_logits"):
        keras2spinnaker(m)


def test_uncompiled_model_refused():
    m = keras.Sequential([keras.Input((8,)), kl.Dense(3)])
    with pytest.raises(ValueError, match="not compiled"):
        keras2spinnaker(m)


def test_unconverted_model_refused_by_fit():
    x, y = data()
    with pytest.raises(ValueError, match="keras2spinnaker"):
        k2s.fit(mlp(), x, y)


@pytest.mark.parametrize("kw,err,name", [
    ({"class_weight": {0: 1.0}}, k2s.UnsupportedError, "class_weight"),
    ({"sample_weight": np.ones(256)}, k2s.UnsupportedError, "sample_weight"),
    ({"steps_per_epoch": 3}, k2s.UnsupportedError, "steps_per_epoch"),
    ({"validation_freq": 2}, k2s.UnsupportedError, "validation_freq"),
    ({"backend": "spinnaker"}, k2s.UnsupportedError, "later issue"),
    ({"nonsense": 1}, TypeError, "nonsense"),
])
def test_fit_arguments_refused_by_name(kw, err, name):
    x, y = data()
    m = keras2spinnaker(mlp())
    w0 = m.get_weights()
    with _Runs() as r, pytest.raises(err, match=name):
        k2s.fit(m, x, y, **kw)
    assert r.n == 0 and same(w0, m.get_weights())


def test_bad_data_refused_before_training():
    x, y = data()
    m = keras2spinnaker(mlp())
    onehot = np.eye(3)[y]
    xn = x.copy()
    xn[5, 2] = np.nan
    cases = [((x, onehot), "integer class labels"), ((x[:, :5], y), r"input is \(None, 8\)"),
             ((xn, y), "NaN"), ((x * 100, y), "scale the data")]
    with _Runs() as r:
        for args, msg in cases:
            with pytest.raises(ValueError, match=msg):
                k2s.fit(m, *args)
        cat = keras2spinnaker(mlp(loss="categorical_crossentropy"))
        with pytest.raises(ValueError, match="one-hot rows"):
            k2s.fit(cat, x, y)
    assert r.n == 0


def test_spinla_imports_without_keras():
    code = "\n".join([
        "import sys",
        "sys.modules['keras'] = None   # as if Keras were not installed",
        "import spinla, spinla.nn, keras2spinnaker",
        "from spinla.nn import models",
        "models.mlp1()",
        "try:",
        "    keras2spinnaker.keras2spinnaker(object())",
        "except ImportError as e:",
        "    print('refused:', e)"])
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "spinla[keras]" in out.stdout


# --- fit's Keras semantics -----------------------------------------------------------------

def test_fit_returns_keras_history_and_writes_weights_back():
    x, y = data(300)
    m = keras2spinnaker(mlp())
    h = k2s.fit(m, x, y, epochs=2, batch_size=32, validation_split=0.2, verbose=0, seed=1)
    assert isinstance(h, keras.callbacks.History) and h is m.history
    assert set(h.history) == {"loss", "accuracy", "val_loss", "val_accuracy",
                              "spinnaker_time_s", "spinnaker_energy_j"}
    assert h.epoch == [0, 1] and all(len(v) == 2 for v in h.history.values())
    assert all(t > 0 for t in h.history["spinnaker_time_s"])
    assert h.history["loss"][1] < h.history["loss"][0]
    net = m._k2s.spinla
    assert same([w.astype(np.float32) for w in net.get_weights()], m.get_weights())
    # validation_split holds out the LAST 20 % before shuffling, as Keras does.
    vl, va = net.evaluate(x[240:], y[240:])
    assert h.history["val_loss"][-1] == pytest.approx(vl)
    assert h.history["val_accuracy"][-1] == pytest.approx(va)
    # Keras's own evaluate runs on the written-back weights.
    ke = m.evaluate(x[240:], y[240:], verbose=0, return_dict=True)
    assert ke["accuracy"] == pytest.approx(va, abs=0.02)
    assert ke["loss"] == pytest.approx(vl, abs=0.02)


def test_initial_epoch_and_no_metrics():
    x, y = data()
    m = keras2spinnaker(mlp(metrics=()))
    h = k2s.fit(m, x, y, epochs=3, initial_epoch=1, verbose=0)
    assert h.epoch == [1, 2] and "accuracy" not in h.history


def test_keras_callbacks_receive_epoch_logs(tmp_path):
    x, y = data(200)
    m = keras2spinnaker(mlp())
    seen = []

    class Spy(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append((epoch, self.model.get_weights(), dict(logs)))

    log = tmp_path / "log.csv"
    ckpt = tmp_path / "e{epoch}.keras"
    sched = keras.callbacks.LearningRateScheduler(lambda e, lr: 1e-3 * 0.5 ** e)
    stop = keras.callbacks.EarlyStopping(monitor="loss", min_delta=10.0, patience=1)
    h = k2s.fit(m, x, y, epochs=10, verbose=0,
                callbacks=[sched, Spy(), keras.callbacks.CSVLogger(str(log)),
                           keras.callbacks.ModelCheckpoint(str(ckpt)), stop])
    assert h.epoch == [0, 1]                       # EarlyStopping ended fit
    assert m._k2s.spinla.optimizer.learning_rate == pytest.approx(5e-4)
    rows = list(csv.DictReader(open(log)))
    assert [int(r["epoch"]) for r in rows] == [0, 1]
    assert {"loss", "accuracy", "spinnaker_time_s", "spinnaker_energy_j"} <= set(rows[0])
    assert float(rows[1]["loss"]) == pytest.approx(h.history["loss"][1])
    for epoch, w, logs in seen:
        saved = keras.models.load_model(str(tmp_path / f"e{epoch + 1}.keras"))
        assert same(saved.get_weights(), w)       # ModelCheckpoint saved that epoch's weights
        assert logs["loss"] == h.history["loss"][epoch]


def test_progress_bar_is_keras_and_shows_modelled_time(capsys):
    x, y = data(128)
    m = keras2spinnaker(mlp())
    k2s.fit(m, x, y, epochs=1, verbose=1)
    out = capsys.readouterr().out
    assert "4/4" in out and "spinnaker_time_s" in out and "accuracy" in out


class _Boom(keras.callbacks.Callback):
    def __init__(self, exc, at_epoch):
        super().__init__()
        self.exc, self.at = exc, at_epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._epoch == self.at and batch == 2:
            raise self.exc

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), RuntimeError("boom")])
def test_failed_or_interrupted_fit_keeps_weights_bit_for_bit(exc):
    """The interruption comes in the second epoch, after the first one's weights were written
    back: the Keras model must still hold exactly its pre-fit weights."""
    x, y = data()
    m = keras2spinnaker(mlp())
    k2s.fit(m, x, y, epochs=1, verbose=0)           # weights now differ from the initial ones
    w0 = m.get_weights()
    with pytest.raises(type(exc)):
        k2s.fit(m, x, y, epochs=3, verbose=0, callbacks=[_Boom(exc, at_epoch=1)])
    assert same(w0, m.get_weights())
    assert all(w.dtype == np.float32 for w in m.get_weights())


def test_fit_continues_from_keras_side_changes():
    """Weights set in Keras between fits are what the next k2s.fit starts from."""
    x, y = data()
    m = keras2spinnaker(mlp())
    w = [np.zeros_like(a) for a in m.get_weights()]
    m.set_weights(w)
    k2s.fit(m, x, y, epochs=0, verbose=0)
    assert all(np.all(a == 0) for a in m._k2s.spinla.get_weights())


def test_learning_rate_schedule_object_evaluated_per_step():
    s = keras.optimizers.schedules.ExponentialDecay(1e-2, decay_steps=10, decay_rate=0.5)
    m = keras2spinnaker(mlp(optimizer=keras.optimizers.SGD(s)))
    opt = m._k2s.spinla.optimizer
    for t in (1, 11, 5000):
        assert opt._lr_at(t, 1) == pytest.approx(float(s(t - 1)), rel=1e-6)
    x, y = data()
    h = k2s.fit(m, x, y, epochs=1, verbose=0)
    assert np.isfinite(h.history["loss"][0])


def test_sgd_momentum_and_mse_train(tmp_path):
    x, y = data()
    m = keras2spinnaker(mlp(optimizer=keras.optimizers.SGD(0.1, momentum=0.9), loss="mse",
                            last="linear", metrics=("categorical_accuracy",)))
    h = k2s.fit(m, x, np.eye(3)[y], epochs=3, verbose=0, seed=0)
    assert h.history["loss"][-1] < h.history["loss"][0]
    assert "categorical_accuracy" in h.history


def test_machine_changes_modelled_cost():
    x, y = data()
    m = keras2spinnaker(mlp())
    w0 = m.get_weights()
    t5 = k2s.fit(m, x, y, verbose=0, seed=0).history["spinnaker_time_s"][0]
    m.set_weights(w0)
    t3 = k2s.fit(m, x, y, verbose=0, seed=0, machine="spinn3").history["spinnaker_time_s"][0]
    assert t3 != t5


def test_torch_twin_table_covers_every_spinla_layer_and_refuses_others():
    """bench/torch_reference.py: one table spinla layer -> PyTorch twin, like LAYERS here."""
    pytest.importorskip("torch", reason="PyTorch (the bench extra) not installed")
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "bench"))
    import torch_reference as tr
    from spinla.nn import layers as L
    assert set(tr.TWINS) == set(L.LAYERS.values())

    class Odd(L.Layer):
        pass

    class Model:
        layers = [Odd("odd")]
    with pytest.raises(NotImplementedError, match="Odd layer 'odd'"):
        tr.twin(Model())


def test_reduce_lr_on_plateau_reaches_spinla():
    x, y = data()
    m = keras2spinnaker(mlp())
    cb = keras.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0,
                                           min_delta=10.0, min_lr=0.0)
    k2s.fit(m, x, y, epochs=3, verbose=0, callbacks=[cb])
    # Epoch 0 sets the best loss; it is reduced after epochs 1 and 2.  The rate of epoch 2
    # reached spinla; the one set after it stays on the Keras optimizer for the next fit.
    assert m._k2s.spinla.optimizer.learning_rate == pytest.approx(1e-3 / 2, rel=1e-6)
    assert float(keras.ops.convert_to_numpy(m.optimizer.learning_rate)) == pytest.approx(
        1e-3 / 4, rel=1e-6)


def test_subclassed_and_nested_models_refused_by_name():
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.d = kl.Dense(3, activation="softmax")

        def call(self, x):
            return self.d(x)
    sub = Net()
    sub(np.zeros((1, 8), np.float32))
    sub.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with pytest.raises(k2s.UnsupportedError, match="Net"):
        keras2spinnaker(sub)
    inner = keras.Sequential([keras.Input((8,)), kl.Dense(4)])
    outer = keras.Sequential([keras.Input((8,)), inner, kl.Dense(3, activation="softmax")])
    outer.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with pytest.raises(k2s.UnsupportedError, match="Sequential"):
        keras2spinnaker(outer)
