"""The C allocator's settings for a command that works on whole recordings.

An 8-hour recording at 50 Hz makes arrays of 35 MB (1.44 million samples of three axes),
and the analysis makes and drops dozens of them. glibc's malloc serves every block over
32 MB with its own ``mmap`` and hands it back to the kernel when it is freed, so each new
array is faulted in afresh, page by page: on the 8-hour analysis that cost 1.2-1.7 s of
kernel time, more than the analysis itself (docs/benchmarks.md). Told to keep what is freed
(no mmap for blocks, no trimming of the heap), malloc reuses the same memory: 0.4 s.

For a command that runs once and exits; a long-lived process (the live view, a Dask
worker) keeps the defaults. Nothing happens where the C library is not glibc.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import sys
from typing import Any

# mallopt(3) parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_MAX = -4

#: Heap grown by at least this much at a time, bytes (fewer, larger steps).
TOP_PAD = 64 << 20


def _glibc(name: str, *argtypes: type[ctypes._SimpleCData[Any]]) -> Any:
    """glibc's function ``name`` (returning int), or None where the C library is not glibc
    (musl has neither mallopt nor malloc_trim) or the system not Linux."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = getattr(ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6"), name)
    except (OSError, AttributeError):
        return None
    fn.argtypes = list(argtypes)
    fn.restype = ctypes.c_int
    return fn


def keep_freed_memory() -> bool:
    """Have glibc's malloc serve large blocks from its heap and keep freed memory for reuse
    by this process; True when it took the settings."""
    mallopt = _glibc("mallopt", ctypes.c_int, ctypes.c_int)
    return mallopt is not None and bool(
        mallopt(_M_MMAP_MAX, 0) and mallopt(_M_TRIM_THRESHOLD, 2**31 - 1)
        and mallopt(_M_TOP_PAD, TOP_PAD))


def release_freed_memory() -> bool:
    """Hand the pages of freed blocks back to the kernel (glibc's ``malloc_trim``); True
    when it did. Before a fork: pages the parent has freed but kept would otherwise be
    shared with the child copy-on-write, and each process that reused them would copy
    them page by page first (on the 8-hour analysis, 24,000 copies and 0.1 s before the
    parent's first step)."""
    trim = _glibc("malloc_trim", ctypes.c_size_t)
    return trim is not None and bool(trim(0))
