"""Shared helpers for the benchmarks: timing, host description, JSON results with the
command that produced them."""
from __future__ import annotations

import contextlib
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parent.parent


def best_time(fn, repeat: int = 5, warmup: int = 1, min_time: float = 0.0) -> float:
    """Best wall time of fn() over `repeat` runs (after warm-up): the least disturbed run."""
    for _ in range(warmup):
        fn()
    times = []
    t_end = time.perf_counter() + min_time
    while len(times) < repeat or time.perf_counter() < t_end:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def host() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cpus": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform()}


def git_rev() -> str:
    try:
        return subprocess.check_output(["git", "rev-parse", "--short", "HEAD"],
                                       cwd=Path(__file__).parent, text=True).strip()
    except Exception:
        return "unknown"


def load(name: str):
    """An earlier result, or None."""
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def save(name: str, payload: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {"command": " ".join(shlex.quote(a) for a in [sys.executable.split("/")[-1]]
                                   + sys.argv),
               "git": git_rev(), "host": host(),
               "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **payload}
    path = RESULTS / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2) + "\n")
    os.replace(tmp, path)
    return path


@contextlib.contextmanager
def other_build(march: str):
    """A temporary copy of the spinla package with its kernels built for SPINLA_MARCH=march
    (e.g. x86-64-v3: AVX2, a CPU without AVX-512); yields the environment a child process
    needs to import that copy instead of the installed build.  A build that fails, or a child
    that then imports another build, is an error (see check_build), never a skipped row."""
    with tempfile.TemporaryDirectory(prefix=f"spinla-{march}-") as tmp:
        shutil.copytree(ROOT / "spinla", Path(tmp) / "spinla",
                        ignore=shutil.ignore_patterns("*.so", "__pycache__"))
        # spinla.abi reads the C header beside the package, as in the source tree.
        shutil.copytree(ROOT / "spinla_c", Path(tmp) / "spinla_c")
        env = dict(os.environ, SPINLA_MARCH=march)
        print(f"building the kernels with SPINLA_MARCH={march} ...", flush=True)
        subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--build-lib", tmp,
                        "--build-temp", str(Path(tmp) / "build")], cwd=ROOT, env=env,
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        env["PYTHONPATH"] = os.pathsep.join(
            [tmp] + [p for p in [os.environ.get("PYTHONPATH")] if p])
        yield env


def build_info() -> dict:
    """Which spinla build this process imported: its SPINLA_MARCH, module path and SIMD path
    (a child of other_build reports it, and the parent checks it with check_build)."""
    import spinla
    import spinla.kernels
    return {"march": os.environ.get("SPINLA_MARCH", "native"), "module": spinla.__file__,
            "simd_path": spinla.kernels.simd_path()}


def check_build(got: dict, env: dict):
    """Raise unless a child run under `env` (from other_build) imported that build."""
    march, tmp = env["SPINLA_MARCH"], env["PYTHONPATH"].split(os.pathsep)[0]
    if got["march"] != march or not got["module"].startswith(tmp):
        raise RuntimeError(f"the child ran {got['module']} ({got['march']}), not the "
                           f"SPINLA_MARCH={march} build")


def run_worker(script: str, args: list, what: str, env: dict | None = None) -> dict:
    """Run `script` with `args` in a fresh Python process (each framework measured on its own,
    so neither's threads or caches disturb the other) and return the JSON object it prints
    last; a failure raises with the worker's stderr, naming `what`.  env: the child's
    environment (default this one's), e.g. other_build's."""
    out = subprocess.run([sys.executable, script, *args], capture_output=True, text=True,
                         env=env)
    if out.returncode:
        raise RuntimeError(f"{what} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])
