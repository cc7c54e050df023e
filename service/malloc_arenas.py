"""Cap glibc's malloc arenas in a serving process, so that its memory levels off.

glibc gives each thread that allocates at the same time as another an arena of its own, up
to eight per core, and keeps every arena's pages once it has grown. A worker's threads
(the pool that runs database calls, the LISTEN connection's, the metrics sampler's) each
allocate the rows they read, beyond Python's small-object allocator; in the ten-minute soak
(docs/benchmarks.md, "Soak") the workers' resident memory kept climbing by about a MiB a
minute while the memory Python itself held (tracemalloc) had levelled off at 12 to 14 MiB
after four minutes. With two arenas its climb over the second half fell to about a third.

`MALLOC_ARENA_MAX` in the environment does the same when set before the process starts;
`mallopt` does it from inside, which also covers a single-process `timeline serve`. It
counts for arenas not yet made, so it is called before the process starts its threads.
Elsewhere (musl, macOS, Windows) there is no such call and nothing is done.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

M_ARENA_MAX = -8  # malloc.h


def cap_arenas(count: int) -> bool:
    """At most `count` arenas from now on (0: glibc's own limit). True if glibc took it;
    False where there is no glibc, or where `MALLOC_ARENA_MAX` already says how many."""
    if count <= 0 or not sys.platform.startswith("linux") or "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_ARENA_MAX, count))
