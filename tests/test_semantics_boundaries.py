"""Issue 10, item 5 (boundaries): bad shapes, axes and extreme values get clear errors or
counted losses; model files fail with one exception type naming file and entry; the CLI
checks its arguments before any work; saved files get the user's umask."""
import json
import os
import zipfile
from fractions import Fraction

import numpy as np
import pytest

import spinla as sp
from spinla import cli, nn
from spinla.datasets import mnist


@pytest.mark.parametrize("make", [lambda: sp.zeros((2, 2.5)), lambda: sp.ones(2.0),
                                  lambda: sp.full((True, 2), 1.0),
                                  lambda: sp.reshape(sp.zeros(4), (2, 2.0)),
                                  lambda: sp.broadcast_to(sp.zeros(2), (2, 2.0))])
def test_float_and_bool_shapes_are_type_errors(make):
    with pytest.raises(TypeError, match="must be an integer"):
        make()


def test_float_axes_are_type_errors():
    a = sp.zeros((2, 3))
    with pytest.raises(TypeError, match="sum: axis must be an integer"):
        sp.sum(a, axis=(0, 1.5))
    with pytest.raises(TypeError, match="mean: axis must be an integer"):
        sp.mean(a, axis=1.0)
    with pytest.raises(TypeError, match="concat: axis"):
        sp.concat([a, a], axis=0.0)
    assert sp.sum(a, axis=np.int64(1)).shape == (2,)    # operator.index accepts NumPy ints


def test_extreme_inputs_are_counted_or_clear():
    sp.reset_stats()
    with pytest.warns(sp.UnderflowWarning, match="asarray"):
        d = sp.asarray([5e-324])
    assert d.to_numpy()[0] == 0 and sp.stats().underflowed["asarray"] == 1
    assert sp.asarray([Fraction(1, 3)]).to_numpy()[0] == pytest.approx(1 / 3, abs=2 ** -15)
    with pytest.warns(sp.SaturationWarning):
        h = sp.asarray([10 ** 30])
    assert h.to_numpy()[0] == 32767 and sp.stats().saturated["asarray"] == 1
    with pytest.raises(ValueError, match="asarray: a value is too large"):
        sp.asarray([10 ** 400])
    with pytest.raises(TypeError, match="asarray"):
        sp.asarray(["a"])
    with pytest.raises(ValueError, match="NaN or infinity"):
        sp.asarray([1.0, np.nan])
    with sp.errstate(invalid="ignore", saturate="ignore"):
        r = sp.asarray([np.nan, -np.inf, 1.0])
    assert r.to_numpy()[0] == 0 and r.raw[1] == -32768 and sp.stats().invalid["asarray"] == 2


def test_fill_values_are_checked_like_asarray():
    sp.reset_stats()
    a = sp.asarray([0.5, -0.5], fmt=15)
    p = sp.pad(a, 1, constant_values=100)            # the fill is an operand: format widens
    np.testing.assert_array_equal(p.to_numpy(), [100, 0.5, -0.5, 100])
    with pytest.warns(sp.SaturationWarning, match="full"):
        f = sp.full((2, 2), 100, fmt=15)
    assert sp.stats().saturated["full"] == 4 and f.raw[0, 0] == 32767
    with pytest.raises(ValueError, match="full: fill value nan"):
        sp.full(3, np.nan)
    with pytest.raises(TypeError, match="full: unsupported dtype"):
        sp.full(3, "x")
    sp.full(3, 0.1, fmt=4)
    assert sp.stats().rounded["full"] == 3


def _small_model():
    m = nn.Sequential([nn.Dense(4, activation="relu", input_shape=(3,)),
                       nn.Dense(2, activation="softmax")], seed=0)
    return m.compile(optimizer="adam", loss="categorical_crossentropy")


def test_set_weights_rejects_wrong_dtype():
    m = _small_model().build()
    ws = m.get_weights()
    ws[0] = ws[0].astype(str)
    with pytest.raises(TypeError, match="set_weights: array 0 has dtype <U"):
        m.set_weights(ws)


def _rewrite(src, dst, change):
    with np.load(src) as f:
        d = {k: f[k] for k in f.files}
    change(d)
    np.savez(dst, **d)


def test_every_model_file_failure_is_one_type_naming_path_and_entry(tmp_path):
    m = _small_model().build()
    good = tmp_path / "m.npz"
    m.save(good)
    cases = {}
    (tmp_path / "trunc.npz").write_bytes(good.read_bytes()[:200])
    cases["trunc.npz"] = "trunc.npz"
    (tmp_path / "empty.npz").write_bytes(b"")
    cases["empty.npz"] = "empty.npz"
    with zipfile.ZipFile(tmp_path / "noconf.npz", "w") as z:
        z.writestr("w0.npy", b"garbage")
    cases["noconf.npz"] = "'config'"
    _rewrite(good, tmp_path / "now1.npz", lambda d: d.pop("w1"))
    cases["now1.npz"] = "'w1'"
    _rewrite(good, tmp_path / "dtype.npz", lambda d: d.update(w0=d["w0"].astype(np.float32)))
    cases["dtype.npz"] = "'w0'"

    def bad_cfg(d):   # the layers say 5 units, the stored weights hold 4
        cfg = json.loads(bytes(d["config"]).decode())
        cfg["model"]["layers"][0]["units"] = 5
        d["config"] = np.frombuffer(json.dumps(cfg).encode(), np.uint8)
    _rewrite(good, tmp_path / "cfg.npz", bad_cfg)
    cases["cfg.npz"] = "'w0'"
    np.save(tmp_path / "plain.npy", np.zeros(3))
    cases["plain.npy"] = "plain.npy"
    cases["missing.npz"] = "no such file"
    for name, entry in cases.items():
        with pytest.raises(nn.ModelFileError) as e:
            nn.load_model(tmp_path / name)
        assert name in str(e.value) and entry in str(e.value), (name, str(e.value))
    assert nn.load_model(good).count_params() == m.count_params()


def test_saved_files_get_the_umask(tmp_path):
    m = _small_model().build()
    old = os.umask(0o022)
    try:
        m.save(tmp_path / "m.npz")
    finally:
        os.umask(old)
    assert (tmp_path / "m.npz").stat().st_mode & 0o777 == 0o644


def test_predict_refuses_unscaled_pixels_and_takes_input_scale():
    m = nn.Sequential([nn.Dense(2, input_shape=(3,))], seed=0).build()
    x = np.array([[0, 128, 255]], dtype=np.uint8)
    with pytest.raises(ValueError, match="input_scale=1/255"):
        m.predict(x.astype(float))
    np.testing.assert_array_equal(m.predict(x.astype(float), input_scale=1 / 255),
                                  m.predict(x))


@pytest.mark.parametrize("argv, option", [
    (["--out", "{tmp}"], "--out"),
    (["--out", "{tmp}/file.txt/x.json"], "--out"),
    (["--out", "/proc/x.json"], "--out"),
    (["--machine", "nosuch"], "--machine"),
    (["--data", "{tmp}/nowhere"], "--data")])
def test_cli_checks_arguments_before_loading_data(argv, option, tmp_path, monkeypatch,
                                                  capsys):
    (tmp_path / "file.txt").write_text("x")
    monkeypatch.setattr(mnist, "load_data", lambda *a, **k: pytest.fail("data was loaded"))
    rc = cli.main(["train", "mlp1"] + [a.format(tmp=tmp_path) for a in argv])
    assert rc == 2
    assert f"error: {option}:" in capsys.readouterr().err
