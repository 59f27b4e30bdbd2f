"""postureclip.allocator: with malloc told to keep freed memory, a second large array reuses
the first's pages instead of faulting in new ones (measured by the kernel's fault count)."""
from __future__ import annotations

import subprocess
import sys

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
