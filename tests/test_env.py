"""spinla._env.get reads os.environ's own dict: it must see every change made through
os.environ (a test's monkeypatch, a user's assignment) exactly as os.environ.get does."""
import os

from spinla import _env


def test_env_get_follows_os_environ(monkeypatch):
    name = "SPINLA_TEST_ENV_PROBE"
    monkeypatch.delenv(name, raising=False)
    assert _env.get(name) is None and _env.get(name, "d") == "d"
    monkeypatch.setenv(name, "2")
    assert _env.get(name) == "2" == os.environ.get(name)
    os.environ[name] = "caf\u00e9 \udcff"          # non-ASCII and an undecodable byte
    assert _env.get(name) == os.environ.get(name)
    del os.environ[name]
    assert _env.get(name, "gone") == "gone"


def test_thread_setting_is_read_per_call(monkeypatch):
    from spinla import kernels
    monkeypatch.setenv("SPINLA_THREADS", "1")
    assert kernels.threads() == 1 and kernels.threads_key() == "1"
    monkeypatch.setenv("SPINLA_THREADS", "3")
    assert kernels.threads(10 ** 9) == 3
