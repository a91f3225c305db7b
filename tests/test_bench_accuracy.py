"""bench/accuracy.py's bookkeeping: the README table and its verdicts come from accuracy.json,
so they are tested here on a small made-up result file (no training, no PyTorch)."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import accuracy  # noqa: E402


def run(fixed, f32, epoch=10):
    return [dict(epoch=epoch, fixed_error=fixed, float32_error=f32)]


def test_whole_test_images_decide_the_verdict():
    assert accuracy._meets(100 * (1 - 0.992), 0.8)        # 80 errors: 0.8000000000000007
    assert not accuracy._meets(0.81, 0.8)
    assert accuracy._meets(0.95, 0.95)


def test_table_means_seeds_and_judges_the_mean():
    res = {"paper_error": {"lenet5": 0.95, "mlp1": 4.7, "boosted_lenet4": 0.7,
                           "boosted_lenet4_distorted": 0.7},
           "results": {"lenet5": run(1.01, 0.92), "lenet5_seed1": run(0.80, 0.83),
                       "lenet5_seed2": run(0.90, 0.99), "mlp1": run(5.0, 4.0),
                       "boosted_lenet4": run(1.1, 1.2, epoch=6),
                       "boosted_lenet4_distorted": run(0.71, 0.70, epoch=20)}}
    rows = {line.split(" | ")[0].strip("| "): line for line in
            accuracy.table(res).splitlines()[2:]}
    assert set(rows) == {"lenet5", "mlp1 (784-300-10)", "boosted_lenet4",
                         "boosted_lenet4 (distorted)"}
    assert "0.90 % (mean of 3 seeds: 1.01, 0.80, 0.90)" in rows["lenet5"]
    assert "0.91 % (0.92, 0.83, 0.99)" in rows["lenet5"]
    assert rows["lenet5"].endswith("| -0.01 | 0.95 % | yes (2 of 3 seeds) |")
    assert rows["mlp1 (784-300-10)"].endswith("| +1.00 | 4.7 % | no |")
    assert "n/a" in rows["boosted_lenet4"]
    assert rows["boosted_lenet4 (distorted)"].endswith("| 0.7 % | no |")


def test_unknown_nets_and_distort_are_refused_before_any_work(capsys):
    with pytest.raises(SystemExit):
        accuracy.main(["--nets", "resnet"])
    assert "unknown resnet" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        accuracy.main(["--nets", "mlp1", "--distort"])
    assert "distorted figures for lenet5, boosted_lenet4 only" in capsys.readouterr().err
