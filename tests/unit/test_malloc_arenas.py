"""A serving process caps glibc's malloc arenas (service/malloc_arenas.py): counted by
glibc's own `malloc_info` in a fresh process whose eight threads allocate at once."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Each thread allocates blocks too big for Python's own small-object allocator, so that
# they come from glibc's malloc and from the thread's arena; then glibc lists its heaps.
PROBE = """
import ctypes, ctypes.util, os, sys, tempfile, threading
from service.malloc_arenas import cap_arenas
took = cap_arenas(int(sys.argv[1]))
kept, barrier = [], threading.Barrier(8)
def work():
    barrier.wait()
    kept.append([bytes(2048) for _ in range(200)])
threads = [threading.Thread(target=work) for _ in range(8)]
for thread in threads: thread.start()
for thread in threads: thread.join()
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.fopen.restype, libc.fopen.argtypes = ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_char_p]
libc.malloc_info.argtypes, libc.fclose.argtypes = [ctypes.c_int, ctypes.c_void_p], [ctypes.c_void_p]
handle, path = tempfile.mkstemp()
os.close(handle)
out = libc.fopen(path.encode(), b"w")
libc.malloc_info(0, out)
libc.fclose(out)
print(took, open(path).read().count("<heap nr="))
os.unlink(path)
"""


def glibc() -> bool:
    try:
        return hasattr(ctypes.CDLL(ctypes.util.find_library("c")), "malloc_info")
    except OSError:
        return False


def heaps(cap: int, **environment: str) -> tuple[str, int]:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"} | environment
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(cap)], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    took, count = done.stdout.split()
    return took, int(count)


@pytest.mark.skipif(not sys.platform.startswith("linux") or not glibc(), reason="glibc only")
def test_the_cap_holds_eight_threads_to_two_arenas() -> None:
    assert heaps(2) == ("True", 2)
    # Without it, the same threads get an arena each (and the main one), as in the soak.
    took, count = heaps(0)
    assert took == "False" and count > 2  # 9 with two cores or more


@pytest.mark.skipif(not sys.platform.startswith("linux") or not glibc(), reason="glibc only")
def test_malloc_arena_max_in_the_environment_is_left_to_say() -> None:
    assert heaps(2, MALLOC_ARENA_MAX="3") == ("False", 3)


def test_a_serving_process_caps_its_arenas_as_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    from service import app as app_module

    asked: list[int] = []
    monkeypatch.setattr(app_module, "cap_arenas", asked.append)
    monkeypatch.setenv("TIMELINE_MALLOC_ARENAS", "3")
    monkeypatch.setenv("TIMELINE_DATABASE_URL", "sqlite:///unused.db")  # the app connects only on start
    app_module.app_from_environment()
    assert asked == [3]
