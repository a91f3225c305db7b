"""The command line: `spinla train` end to end on small synthetic MNIST files."""
import hashlib
import json

import numpy as np
import pytest

import spinla
from spinla import cli
from spinla.datasets import mnist
from spinla.datasets.idx import write_idx


@pytest.fixture
def tiny_mnist(tmp_path, monkeypatch):
    """Learnable synthetic digits: class k lights up row band k."""
    rng = np.random.default_rng(0)

    def digits(n):
        y = rng.integers(0, 10, n).astype(np.uint8)
        x = rng.integers(0, 40, (n, 28, 28)).astype(np.uint8)
        for i, k in enumerate(y):
            x[i, 2 * k + 4:2 * k + 7, 4:24] = 250
        return x, y
    folder = tmp_path / "data" / "mnist"
    folder.mkdir(parents=True)
    for prefix, n in (("train", 256), ("t10k", 64)):
        x, y = digits(n)
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", x)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", y)
    for p in folder.iterdir():
        monkeypatch.setitem(mnist.CHECKSUMS, p.name, hashlib.sha256(p.read_bytes()).hexdigest())
    return folder


def test_train_writes_a_json_result(tiny_mnist, tmp_path, capsys):
    out = tmp_path / "res" / "mlp1.json"
    rc = cli.main(["train", "mlp1", "--epochs", "2", "--batch-size", "32", "--machine", "spinn3",
                   "--data", str(tiny_mnist), "--out", str(out), "--quiet", "--report"])
    assert rc == 0
    res = json.loads(out.read_text())
    assert res["model"] == "mlp1" and res["machine"] == "spinn3" and res["train_images"] == 256
    assert len(res["epochs_log"]) == 2
    assert res["test_accuracy"] > 0.5          # the bands are easy to learn
    assert res["modelled_spinnaker"]["time_s"] > 0 and res["modelled_spinnaker"]["energy_j"] > 0
    assert "modelled" in capsys.readouterr().out   # the per-op report was printed
    assert not list(out.parent.glob("*.part"))


def test_train_with_distortions_warps_on_the_machine(tiny_mnist, tmp_path):
    out = tmp_path / "lenet1.json"
    rc = cli.main(["train", "lenet1", "--epochs", "2", "--batch-size", "32", "--distort",
                   "--data", str(tiny_mnist), "--out", str(out), "--quiet"])
    assert rc == 0
    res = json.loads(out.read_text())
    assert res["distortions"]["translate"] == 2.0 and len(res["epochs_log"]) == 2
    assert spinla.stats().calls["warp_affine"] == 2      # one warp of the set per epoch
    assert res["test_accuracy"] > 0.3


def test_bad_arguments_fail_before_work(tiny_mnist, tmp_path, capsys):
    assert cli.main(["train", "mlp1", "--machine", "nosuch", "--data", str(tiny_mnist),
                     "--out", str(tmp_path / "x.json")]) == 2
    assert "unknown machine 'nosuch'" in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists()
    with pytest.raises(SystemExit):
        cli.main(["train", "mlp1", "--epochs", "0"])
    with pytest.raises(SystemExit):
        cli.main(["train", "resnet50"])


def test_machines_lists_sources(capsys):
    assert cli.main(["machines"]) == 0
    out = capsys.readouterr().out
    assert "spinn5" in out and "ASSUMPTION" in out and "SpiNNMachine" in out
