"""The ``postureclip`` console command's entry point: what must be settled before numpy is
imported, then ``cli.run``.

OpenBLAS keeps a thread per core and, after each call, lets those threads spin waiting for
the next one. The analysis makes many small products ((N, 3) by (3, 3), once per span
between the clip's slips), each too small to gain from a second thread, and on two cores
the spinning took the core from the forked child that computes beside the parent
(postureclip.prepare): 0.2-0.3 s of an 8-hour analysis. One BLAS thread gives the same
numbers (the products split rows between threads, never a sum). A value the user has set
is kept. (Dask's workers get the same setting from Dask itself.)
"""
from __future__ import annotations

import os


def run() -> None:
    """``postureclip``: one BLAS thread, then ``cli.run``."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from .cli import run as cli_run

    cli_run()
