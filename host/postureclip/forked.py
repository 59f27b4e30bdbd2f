"""Work done in a forked child process beside the parent's own, for the second core.

The analysis of a recording is a chain of numpy steps that hold the interpreter lock for a
good part of their time (the orientation filter all of it), so threads do not run them side
by side. A child forked at the right moment already has the recording in its memory (the
pages are shared until written); it computes its part into shared memory and exits, and the
parent takes the arrays from there without a copy. Nothing is pickled, nothing imported again.

Only on Linux, where fork is the native way to start a process and numpy and the filter are
safe in a forked child; elsewhere, and when the child fails for any reason (the parent then
computes the part itself and any error is raised there, with its traceback), ``Staged`` runs
the work in the process itself when its result is asked for.
"""
from __future__ import annotations

import functools
import mmap
import os
import select
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

#: Whether ``Staged`` forks at all (Linux).
ENABLED = sys.platform == "linux" and hasattr(os, "fork")

Layout = Sequence[tuple[tuple[int, ...], Any]]  # (shape, dtype) of each array of a stage
Arrays = tuple[npt.NDArray[Any], ...]
Outputs = Callable[[int], list[npt.NDArray[Any]]]  # the arrays a stage may fill in place


class Staged:
    """``stages(outputs)``, a generator that yields a tuple of arrays per stage, run in a
    forked child while the parent goes on; ``stage(k)`` waits for the k-th. ``layouts``: for
    each stage, the (shape, dtype) of each array it yields. The child signals each stage on a
    pipe as soon as it is in shared memory, so the parent can use the first while the child
    works on the next.

    ``outputs(k)`` gives arrays of stage k's layout for the stage to compute into: in the
    child they are the shared memory itself, and a stage that yields them back is not copied
    (on 8 hours a copy of the orientation took 25 ms); in this process they are new arrays."""

    def __init__(self, stages: Callable[[Outputs], Iterator[Arrays]],
                 layouts: Sequence[Layout], enabled: bool = True) -> None:
        self.stages = stages
        self.layouts = [[(tuple(shape), np.dtype(dt)) for shape, dt in layout]
                        for layout in layouts]
        self.done: list[Arrays] = []
        self.here: Iterator[Arrays] | None = None  # the stages run in this process
        self.pid: int | None = None
        if not (enabled and ENABLED):
            return
        # anonymous shared memory: what the child writes there, the parent reads
        self.memory = [[mmap.mmap(-1, max(1, dt.itemsize * int(np.prod(shape))))
                        for shape, dt in layout] for layout in self.layouts]
        self.views = [self._views(k) for k in range(len(self.layouts))]
        # the first stage the parent no longer wants (``skip_from``), read by the child
        self.wanted = np.frombuffer(mmap.mmap(-1, 8), dtype=np.int64)
        self.wanted[0] = len(self.layouts)
        self.signals, signal = os.pipe()  # (read end, write end)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: compute, write, signal, and leave (no cleanup, no output)
            code = 1
            try:
                os.close(self.signals)
                made = iter(stages(self.views.__getitem__))
                for k in range(len(self.layouts)):
                    if k >= self.wanted[0]:
                        break
                    values = next(made)
                    for out, value in zip(self.views[k], values, strict=True):
                        if value is not out:
                            out[...] = value
                    os.write(signal, b"s")
                code = 0
            finally:
                os._exit(code)
        os.close(signal)
        self.pid = pid

    def _views(self, k: int) -> list[npt.NDArray[Any]]:
        return [np.frombuffer(m, dtype=dt, count=int(np.prod(shape))).reshape(shape)
                for m, (shape, dt) in zip(self.memory[k], self.layouts[k], strict=True)]

    def skip_from(self, k: int) -> None:
        """Stages ``k`` on are not wanted: the child leaves before it begins any of them (one
        it has begun, it finishes). Asked for all the same, they are made in this process."""
        if self.pid is not None:
            self.wanted[0] = min(int(self.wanted[0]), k)

    def ready(self, k: int) -> bool:
        """Whether ``stage(k)`` would return without waiting for the child (so that the
        parent can do other work first). In this process: only once it has been made."""
        if k < len(self.done):
            return True
        if k > len(self.done) or self.pid is None:
            return False
        readable, _, _ = select.select([self.signals], [], [], 0.0)
        return bool(readable)

    def stage(self, k: int) -> Arrays:
        """The arrays of stage ``k``, from the child or (if it failed) computed here."""
        while len(self.done) <= k:
            self.done.append(self._next())
        return self.done[k]

    def _next(self) -> Arrays:
        k = len(self.done)
        if self.pid is not None:
            if os.read(self.signals, 1) == b"s":
                if k == len(self.layouts) - 1:
                    self._reap(os.WNOHANG)  # (it is leaving; if not gone yet, reaped later)
                return tuple(self.views[k])
            self._reap(0)  # it failed: everything from here on is computed in this process
        if self.here is None:
            # (new arrays from the layouts alone: a generator holding this object would make a
            # cycle that keeps a piece's arrays alive until the collector runs)
            self.here = iter(self.stages(functools.partial(_new_arrays, self.layouts)))
            for _ in range(k):  # (the stages before: their state, the child's results kept)
                next(self.here)
        return tuple(next(self.here))

    def _reap(self, flags: int) -> None:
        if self.pid is not None and os.waitpid(self.pid, flags)[0]:
            self.pid = None
            os.close(self.signals)

    def __del__(self) -> None:
        if getattr(self, "pid", None) is not None:  # never asked for, or still leaving
            self._reap(0)


def _new_arrays(layouts: Sequence[Layout], k: int) -> list[npt.NDArray[Any]]:
    return [np.empty(shape, dt) for shape, dt in layouts[k]]
