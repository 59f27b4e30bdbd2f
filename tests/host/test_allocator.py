"""postureclip.allocator: with malloc told to keep freed memory, a second large array reuses
the first's pages instead of faulting in new ones (measured by the kernel's fault count)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import resource, sys
import numpy as np
from postureclip.allocator import keep_freed_memory
took = keep_freed_memory() if sys.argv[1] == "keep" else False
a = np.ones(5_000_000)  # 40 MB: over glibc's largest mmap threshold (32 MB)
del a
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
b = np.ones(5_000_000)
print(took, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def faults(mode: str) -> tuple[bool, int]:
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True,
                         check=True).stdout.split()
    return out[0] == "True", int(out[1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_a_freed_array_is_reused_without_faulting_again() -> None:
    took, kept = faults("keep")
    _, default = faults("default")
    assert took
    # 40 MB is about 9,800 pages of 4 kB (or 20 huge pages): faulted in again by default,
    # reused when kept
    assert kept < 200
    assert default > kept


FORKED = """
import os, resource, sys, time
import numpy as np
from postureclip.allocator import keep_freed_memory, release_freed_memory

def rss_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

keep_freed_memory()
a = np.ones(5_000_000)
del a  # kept by malloc: these pages would be the child's too after a fork
held = rss_kb()
released = release_freed_memory() if sys.argv[1] == "release" else False
given_back = held - rss_kb()
pid = os.fork()
if pid == 0:
    time.sleep(600.0)  # (killed below: alive however slowly the parent goes on)
    os._exit(0)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
b = np.ones(5_000_000)
print(released, given_back, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
os.kill(pid, 9)
os.waitpid(pid, 0)
"""


def _huge_pages() -> bool:
    """Whether the kernel gives numpy's large arrays huge pages (transparent, on request)."""
    try:
        mode = Path("/sys/kernel/mm/transparent_hugepage/enabled").read_text()
    except OSError:
        return False
    return "[always]" in mode or "[madvise]" in mode


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim, fork")
def test_freed_pages_released_before_a_fork_are_not_copied_after_it() -> None:
    def run(mode: str) -> tuple[bool, int, int]:
        out = subprocess.run([sys.executable, "-c", FORKED, mode], capture_output=True,
                             text=True, check=True).stdout.split()
        return out[0] == "True", int(out[1]), int(out[2])

    released, given_back, fresh = run("release")
    _, kept, shared = run("keep")
    assert released
    # the 40 MB went back to the kernel (and so is not the child's too); kept, it stays
    assert given_back > 30_000 and kept < 5_000  # kB
    # kept pages are shared with the child: the parent copies each 4 kB page it writes
    # (about 9,800)
    assert shared > 5000
    if _huge_pages():  # released ones come back as new memory, in huge pages
        assert fresh < shared / 2
