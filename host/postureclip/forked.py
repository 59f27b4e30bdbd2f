"""Work done in a forked child process beside the parent's own, for the second core.

The analysis of a recording is a chain of numpy steps that hold the interpreter lock for a
good part of their time (the orientation filter all of it), so threads do not run them side
by side. A child forked at the right moment already has the recording in its memory (the
pages are shared until written); it computes its part into shared memory and exits, and the
parent takes the arrays from there without a copy. Nothing is pickled, nothing imported again.

Only on Linux, where fork is the native way to start a process and numpy and the filter are
safe in a forked child; elsewhere, and when the child fails for any reason (the parent then
computes the part itself and any error is raised there, with its traceback), ``Beside`` runs
the function in the process itself when its result is asked for.
"""
from __future__ import annotations

import mmap
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

#: Whether ``Beside`` forks at all (Linux); tests set it off to compare.
ENABLED = sys.platform == "linux" and hasattr(os, "fork")

Layout = Sequence[tuple[tuple[int, ...], Any]]  # (shape, dtype) of each array returned


class Beside:
    """``fn()`` computed in a forked child while the parent goes on; ``result()`` waits for
    it. ``fn`` returns a tuple of arrays of the ``layout`` given ((shape, dtype) each)."""

    def __init__(self, fn: Callable[[], tuple[npt.NDArray[Any], ...]], layout: Layout,
                 enabled: bool = True) -> None:
        self.fn, self.layout = fn, [(tuple(shape), np.dtype(dt)) for shape, dt in layout]
        self.pid: int | None = None
        if not (enabled and ENABLED):
            return
        sizes = [max(1, dt.itemsize * int(np.prod(shape))) for shape, dt in self.layout]
        # anonymous shared memory: what the child writes there, the parent reads
        self.memory = [mmap.mmap(-1, size) for size in sizes]
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: compute, write, and leave at once (no cleanup, no output)
            code = 1
            try:
                for out, value in zip(self._views(), fn(), strict=True):
                    out[...] = value
                code = 0
            finally:
                os._exit(code)
        self.pid = pid

    def _views(self) -> list[npt.NDArray[Any]]:
        return [np.frombuffer(m, dtype=dt, count=int(np.prod(shape))).reshape(shape)
                for m, (shape, dt) in zip(self.memory, self.layout, strict=True)]

    def __del__(self) -> None:
        if self.pid is not None:  # never asked for (the parent failed first): reap the child
            os.waitpid(self.pid, 0)

    def result(self) -> tuple[npt.NDArray[Any], ...]:
        """The arrays ``fn`` returns, from the child or (if it failed) computed here."""
        if self.pid is None:
            return tuple(self.fn())
        pid, self.pid = self.pid, None
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            return tuple(self.fn())
        return tuple(self._views())
