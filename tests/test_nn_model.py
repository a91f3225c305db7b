"""spinla.nn.Sequential and the six MNIST models: training works (a tiny model overfits a tiny
set), the training step is ONE Program, Ctrl-C keeps the last completed step, save/load and
get/set_weights round-trip, bad input fails before training, History reports cost and
saturations."""
import os

import numpy as np
import pytest

import spinla as sp
from spinla import backends, nn


def blobs(n=64, classes=4, dim=12, seed=0):
    """Separable clusters: a task a small MLP must fit perfectly."""
    rng = np.random.default_rng(seed)
    centers = rng.uniform(0.1, 0.9, (classes, dim))
    y = rng.integers(0, classes, n)
    x = np.clip(centers[y] + rng.normal(0, 0.05, (n, dim)), 0, 1)
    return x, y


def small_model(seed=0, opt=None, **kw):
    m = nn.Sequential([nn.Dense(32, activation="relu", input_shape=(12,)),
                       nn.Dense(4, activation="softmax")], seed=seed, **kw)
    return m.compile(optimizer=opt or nn.Adam(0.01), loss="categorical_crossentropy")


def the_step(model):
    """The jitted training step of the last fit (the only Jitted the fit made)."""
    return model._last_steps


@pytest.fixture(autouse=True)
def _record_steps(monkeypatch):
    """Remember every traced training step a model builds, for inspection."""
    orig = nn.Sequential._make_step

    def make(self, batch, gfmts, ks):
        res = orig(self, batch, gfmts, ks)
        self.__dict__.setdefault("_last_steps", []).append(res[0])
        return res
    monkeypatch.setattr(nn.Sequential, "_make_step", make)


# --- training ------------------------------------------------------------------------------

def test_tiny_model_overfits_tiny_dataset():
    x, y = blobs()
    m = small_model()
    h = m.fit(x, y, epochs=25, batch_size=8, seed=1, verbose=0)
    assert h["loss"][-1] < 0.1 * h["loss"][0]
    assert h["accuracy"][-1] == 1.0
    loss, acc = m.evaluate(x, y)
    assert acc == 1.0 and loss < 0.1
    p = m.predict(x)
    assert p.shape == (64, 4) and np.allclose(p.sum(1), 1, atol=4e-3)
    assert (p.argmax(1) == y).all()


@pytest.mark.parametrize("opt", [nn.SGD(0.5), nn.SGD(0.1, momentum=0.9)])
def test_sgd_trains(opt):
    x, y = blobs(seed=3)
    m = small_model(opt=opt)
    h = m.fit(x, y, epochs=20, batch_size=8, seed=0, verbose=0)
    assert h["accuracy"][-1] == 1.0 and h["loss"][-1] < 0.3 * h["loss"][0]


def test_training_step_is_one_program():
    x, y = blobs(n=40)
    m = small_model()
    m.fit(x, y, epochs=1, batch_size=8, verbose=0)       # 40 = 5 full batches: one shape
    (step,) = the_step(m)
    assert len(step.programs) == 1
    (prog, _), = step.programs.values()
    kernels = {c.kernel for c in prog.calls}
    assert len(prog.calls) > 25 and prog.runs == 5
    assert {"gemm_q15", "adam_q15", "softmax_q15", "eltwise_q15"} <= kernels
    assert sum(c.kernel == "adam_q15" for c in prog.calls) == 4     # one per weight tensor
    # inputs: the resident set, its targets and labels, the batch's row numbers, lr, 4
    # weights, 8 Adam states; outputs: loss, correct, 4 weights, 8 states
    assert len(prog.inputs) == 17 and len(prog.outputs) == 14
    assert prog.resident_inputs == prog.inputs[:4] and prog.batch_inputs == [prog.inputs[3]]
    assert [b.shape for b in prog.inputs[:4]] == [(40, 12), (40, 4), (40,), (8, 2)]
    assert [c.kernel for c in prog.calls[:3]] == ["gather_rows_indexed_q15"] * 3
    budget = sp.machine.current().tile_budget_bytes
    assert all(int(np.max(c.dtcm)) <= budget for c in prog.calls)


def test_tail_batch_uses_a_second_trace_in_the_same_formats():
    x, y = blobs(n=42)
    m = small_model()
    m.fit(x, y, epochs=2, batch_size=8, verbose=0)
    steps = the_step(m)
    assert [len(s.programs) for s in steps] == [1, 1]
    assert [next(iter(s.programs.values()))[0].runs for s in steps] == [10, 2]
    assert m.iterations == 12


def test_shuffle_is_seeded_and_done_on_the_machine():
    x, y = blobs()
    runs = []
    for _ in range(2):
        m = small_model()
        m.fit(x, y, epochs=2, batch_size=16, seed=5, verbose=0)
        runs.append(m.get_weights())
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)
    before = sp.stats().calls.get("gather_rows", 0)
    be = backends.current()
    up = be.bytes_up["order"]
    m = small_model()
    m.fit(x, y, epochs=2, batch_size=16, seed=6, verbose=0)
    # Each step gathers its images, targets and labels from the resident set on the machine
    # (64 samples: 4 steps an epoch); the host sends each epoch's order once (int32 each).
    assert sp.stats().calls["gather_rows"] - before == 2 * 4 * 3
    assert be.bytes_up["order"] - up == 2 * 64 * 4
    assert any(not np.array_equal(a, b) for a, b in zip(m.get_weights(), runs[0]))


def test_history_reports_cost_time_and_saturations():
    x, y = blobs()
    m = small_model()
    h = m.fit(x, y, epochs=2, batch_size=16, validation_data=(x[:20], y[:20]), verbose=0)
    assert h.history is h and h.epoch == [0, 1]
    for k in ("loss", "accuracy", "val_loss", "val_accuracy", "spinnaker_time_s",
              "spinnaker_energy_j", "wall_time_s", "images_per_s", "saturations"):
        assert len(h[k]) == 2, k
    assert all(t > 0 for t in h["spinnaker_time_s"]) and all(e > 0 for e in
                                                           h["spinnaker_energy_j"])
    assert all(isinstance(s, dict) for s in h["saturations"])
    # saturations that happen are reported: logits pushed beyond q5.10
    m2 = small_model()
    big = m2.get_weights()
    big[2] = big[2] * 40
    m2.set_weights(big)
    with pytest.warns(sp.SaturationWarning):
        h2 = m2.fit(x * 0 + 1, y, epochs=1, batch_size=16, verbose=0)
    assert sum(sum(s.values()) for s in h2["saturations"]) > 0


def test_fit_without_the_cost_model_trains_the_same_and_prices_nothing(monkeypatch):
    """spinnaker_cost=False: the same weights bit for bit, no Program priced, and the history
    says the modelled figures are absent (None) rather than 0."""
    x, y = blobs()
    a, b = small_model(seed=3), small_model(seed=3)
    ha = a.fit(x, y, epochs=2, batch_size=16, seed=1, verbose=0)
    from spinla import cost

    def refuse(*args, **kw):
        raise AssertionError("a Program was priced with spinnaker_cost=False")
    monkeypatch.setattr(cost, "cost_of", refuse)
    hb = b.fit(x, y, epochs=2, batch_size=16, seed=1, verbose=0, spinnaker_cost=False)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert hb["loss"] == ha["loss"]
    assert hb["spinnaker_time_s"] == [None, None] and hb["spinnaker_energy_j"] == [None, None]
    with pytest.raises(TypeError, match="spinnaker_cost"):
        b.fit(x, y, epochs=1, verbose=0, spinnaker_cost="no")


def test_verbose_zero_is_silent_and_verbose_prints(capsys):
    x, y = blobs(n=16)
    small_model().fit(x, y, epochs=1, batch_size=8, verbose=0)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    small_model().fit(x, y, epochs=1, batch_size=8, verbose=1)
    err = capsys.readouterr().err
    assert "img/s" in err and "SpiNN" in err and "loss" in err
    small_model().fit(x, y, epochs=1, batch_size=8, verbose=2)
    assert "epoch 1/1" in capsys.readouterr().err


# --- Ctrl-C ----------------------------------------------------------------------------------

def test_ctrl_c_from_callback_keeps_last_completed_step(capsys):
    x, y = blobs()
    m = small_model()
    seen = {}

    class Stop:
        def on_batch_end(self, step, logs):
            seen[step] = m.get_weights()
            if step == 3:
                raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        m.fit(x, y, epochs=3, batch_size=8, verbose=0, callbacks=[Stop()])
    assert m.iterations == 3 and m.optimizer.iterations == 3
    for a, b in zip(m.get_weights(), seen[3]):
        np.testing.assert_array_equal(a, b)
    assert "interrupted in epoch 1/3 at batch 3/8" in capsys.readouterr().err


def test_ctrl_c_inside_a_step_keeps_previous_weights(monkeypatch):
    """An interrupt while the emulator runs step 4 (mid-Program): weights of step 3."""
    from spinla import emulator
    x, y = blobs()
    m = small_model()
    m.fit(x, y, epochs=1, batch_size=8, verbose=0)            # 8 steps done
    w8 = m.get_weights()
    orig = emulator.run_program
    calls = {"n": 0}

    def flaky(program, args, **kw):
        if program.name.endswith("train_step"):
            calls["n"] += 1
            if calls["n"] == 4:
                raise KeyboardInterrupt
        return orig(program, args, **kw)
    monkeypatch.setattr(emulator, "run_program", flaky)
    snap = {}

    class Snap:
        def on_batch_end(self, step, logs):
            snap[step] = m.get_weights()
    with pytest.raises(KeyboardInterrupt):
        m.fit(x, y, epochs=1, batch_size=8, verbose=0, callbacks=[Snap()])
    assert m.iterations == 11
    for a, b in zip(m.get_weights(), snap[11]):
        np.testing.assert_array_equal(a, b)
    assert any((a != b).any() for a, b in zip(m.get_weights(), w8))
    # training can go on from there
    monkeypatch.setattr(emulator, "run_program", orig)
    m.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert m.iterations == 19


# --- weights and files ----------------------------------------------------------------------

def test_get_set_weights_keras_layout():
    m = nn.lenet5()
    shapes = [w.shape for w in m.get_weights()]
    assert shapes == [(5, 5, 1, 6), (6,), (5, 5, 6, 16), (16,), (5, 5, 16, 120), (120,),
                      (120, 84), (84,), (84, 10), (10,)]
    rng = np.random.default_rng(0)
    new = [rng.uniform(-1, 1, s) for s in shapes]
    m.set_weights(new)
    for a, b in zip(m.get_weights(), new):
        assert np.abs(a - b).max() <= 2.0 ** -14          # one nearest rounding in q2.13
    with pytest.raises(ValueError, match="expected 10"):
        m.set_weights(new[:3])
    with pytest.raises(ValueError, match="shape"):
        m.set_weights([np.zeros((2, 2))] + new[1:])
    # LeNet-5's C3 connection table: left-out weights start at zero
    c3 = nn.lenet5().get_weights()[2]
    assert np.all(c3[:, :, np.asarray(sp.LENET5_C3_TABLE) == 0] == 0)


def test_save_load_round_trip(tmp_path):
    x, y = blobs()
    m = small_model()
    m.fit(x, y, epochs=2, batch_size=16, verbose=0)
    path = tmp_path / "model.npz"
    m.save(path)
    m2 = nn.load_model(path)
    for a, b in zip(m.params, m2.params):
        np.testing.assert_array_equal(a.raw, b.raw)
        assert a.fmt == b.fmt
    for sa, sb in zip(m._ts[1], m2._ts[1]):
        for a, b in zip(sa, sb):
            np.testing.assert_array_equal(a.raw, b.raw)
    assert m2.iterations == m.iterations and m2.optimizer.get_config() == m.optimizer.get_config()
    np.testing.assert_array_equal(m.predict(x), m2.predict(x))
    # both continue identically
    m.fit(x, y, epochs=1, batch_size=16, seed=3, verbose=0)
    m2.fit(x, y, epochs=1, batch_size=16, seed=3, verbose=0)
    for a, b in zip(m.get_weights(), m2.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert [f for f in os.listdir(tmp_path)] == ["model.npz"]


def test_save_is_atomic(tmp_path, monkeypatch):
    m = small_model()
    path = tmp_path / "m.npz"
    m.save(path)
    before = path.read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")
    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(OSError, match="disk full"):
        m.save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.npz"]            # no temporary left behind


def test_lenet_save_load_keeps_table(tmp_path):
    m = nn.lenet5()
    m.save(tmp_path / "l5.npz")
    m2 = nn.load_model(tmp_path / "l5.npz")
    np.testing.assert_array_equal(m2.layers[4].table, np.asarray(sp.LENET5_C3_TABLE))
    assert m2.count_params() == m.count_params()


# --- bad input, before training ---------------------------------------------------------------

@pytest.mark.parametrize("bad,err,match", [
    (dict(y=np.array([0, 1, 4] + [0] * 13)), ValueError, "out of range"),
    (dict(y=np.array([-1] + [0] * 15)), ValueError, "out of range"),
    (dict(x=np.zeros((16, 11))), ValueError, "shape"),
    (dict(x=np.zeros((16, 12, 2))), ValueError, "shape"),
    (dict(x=np.where(np.eye(16, 12) > 0, np.nan, 0.5)), ValueError, "NaN"),
    (dict(batch_size=0), ValueError, "batch_size"),
    (dict(batch_size=-3), ValueError, "batch_size"),
    (dict(batch_size=2.5), TypeError, "batch_size"),
    (dict(y=np.zeros(15, int)), ValueError, "rows"),
    (dict(y=np.full((16, 4), 0.5)), ValueError, "one-hot"),
    (dict(epochs=-1), ValueError, "epochs"),
    (dict(x=np.zeros((0, 12)), y=np.zeros(0, int)), ValueError, "no samples"),
    (dict(validation_data=(np.zeros((4, 12)), np.array([0, 1, 2, 9]))), ValueError, "range"),
])
def test_bad_input_fails_before_training(bad, err, match):
    x, y = blobs(n=16)
    m = small_model()
    w0 = m.get_weights()
    kw = dict(x=x, y=y, epochs=1, batch_size=4, verbose=0)
    kw.update(bad)
    runs = sp.stats().calls.get("adam_update", 0)
    with pytest.raises(err, match=match):
        m.fit(**kw)
    assert m.iterations == 0 and sp.stats().calls.get("adam_update", 0) == runs
    for a, b in zip(m.get_weights(), w0):
        np.testing.assert_array_equal(a, b)


def test_fit_requires_compile_and_onehot_labels_work():
    m = nn.Sequential([nn.Dense(4, input_shape=(12,))])
    x, y = blobs(n=16)
    with pytest.raises(RuntimeError, match="compile"):
        m.fit(x, y)
    m2, m3 = small_model(), small_model()
    m2.fit(x, y, batch_size=8, epochs=2, seed=0, verbose=0)
    m3.fit(x, np.eye(4)[y], batch_size=8, epochs=2, seed=0, verbose=0)
    for a, b in zip(m2.get_weights(), m3.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_mse_regression_and_dropout_model():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (64, 6))
    t = np.stack([x[:, :3].sum(1) / 3, x[:, 3:].mean(1) - 0.5], 1)
    m = nn.Sequential([nn.Dense(16, activation="tanh", input_shape=(6,)), nn.Dropout(0.1),
                       nn.Dense(2)], seed=1).compile(optimizer=nn.Adam(0.01), loss="mse")
    h = m.fit(x, t, epochs=20, batch_size=8, seed=0, verbose=0)
    assert h["loss"][-1] < 0.2 * h["loss"][0] and h["accuracy"][-1] is None
    loss, acc = m.evaluate(x, t)
    assert loss < 0.01 and acc is None


# --- the six networks ---------------------------------------------------------------------------

def test_models_shapes_parameters_and_inputs():
    # LeNet-5 stores 61,706 weights: 60,806 trainable plus C3's 900 unconnected (always 0)
    counts = {"mlp1": 238_510, "mlp2": 266_610, "lenet1": 3_246, "lenet4": 51_050,
              "lenet5": 61_706}
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    for name, n in counts.items():
        m = getattr(nn, name)()
        assert m.count_params() == n, name
        assert isinstance(m.optimizer, nn.Adam) and m.optimizer.learning_rate == 1e-3
        p1 = m.predict(imgs)
        p2 = m.predict(imgs[..., None])
        p3 = m.predict(imgs / 255.0)
        assert p1.shape == (5, 10)
        np.testing.assert_array_equal(p1, p2)
        np.testing.assert_array_equal(p1, p3)
        assert np.allclose(p1.sum(1), 1, atol=5e-3)
    with pytest.raises(ValueError, match="shape"):
        nn.lenet5().predict(np.zeros((2, 32, 32)))


def test_lenet5_training_step_runs():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (8, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, 8)
    m = nn.lenet5()
    h = m.fit(x, y, epochs=2, batch_size=4, verbose=0)
    assert m.iterations == 4 and np.isfinite(h["loss"]).all()
    (prog, _), = the_step(m)[0].programs.values()
    kernels = {c.kernel for c in prog.calls}
    assert {"conv2d_q15", "conv2d_gw_q15", "avg_pool2d_grad_q15", "adam_q15"} <= kernels


def test_boosted_lenet4_small():
    rng = np.random.default_rng(2)
    x = rng.integers(0, 256, (24, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, 24)
    b = nn.boosted_lenet4()
    hists = b.fit(x, y, epochs=1, batch_size=8, verbose=0, filtered_size=16)
    assert len(hists) == 3 and all(len(h["loss"]) == 1 for h in hists)
    assert [n.iterations for n in b.nets] == [3, 2, 2]
    p = b.predict(x[:6])
    assert p.shape == (6, 10) and np.allclose(p.sum(1), 3, atol=0.02)
    loss, acc = b.evaluate(x[:6], y[:6])
    assert np.isfinite(loss) and 0 <= acc <= 1


def test_input_shape_from_data_and_policy_checks():
    x, y = blobs(n=16)
    m = nn.Sequential([nn.Dense(8, activation="relu"), nn.Dense(4, activation="softmax")])
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    m.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert m.input_shape == (12,) and m.iterations == 2
    with pytest.raises(ValueError, match="frac"):
        nn.FormatPolicy(weight=16)
    with pytest.raises(ValueError, match="rounding"):
        nn.FormatPolicy(update_rounding="up")
    p = nn.FormatPolicy(weight=12)
    m.compile(optimizer=nn.SGD(0.1), policy=p)
    assert all(w.fmt == sp.q(12) for w in m.params) and m.iterations == 0
    m.fit(x, y, epochs=1, batch_size=8, verbose=0)
