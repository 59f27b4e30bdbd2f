"""Collect every firmware test twice: under CPython (pytest's own collector) and in MicroPython."""
from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE / "cpython_shims"), str(HERE.parents[1] / "firmware"),
                str(HERE.parents[1] / "firmware" / "sim"),
                str(HERE.parents[1] / "firmware" / "sim" / "standin"), str(HERE)]

from mpharness import run_in_micropython  # noqa: E402


def _micropython_time_and_asyncio() -> None:
    """Give CPython the few MicroPython time/asyncio functions the firmware uses, so the
    CPython run of a firmware test exercises the same code (the MicroPython run is the truth)."""
    import asyncio
    import time

    if not hasattr(time, "ticks_ms"):
        def ticks_ms() -> int:
            return int(time.monotonic() * 1000) & 0x3FFFFFFF

        def ticks_diff(a: int, b: int) -> int:
            return ((a - b + 0x20000000) & 0x3FFFFFFF) - 0x20000000

        def sleep_ms(ms: float) -> None:
            time.sleep(ms / 1000)

        time.ticks_ms = ticks_ms  # type: ignore[attr-defined]
        time.ticks_diff = ticks_diff  # type: ignore[attr-defined]
        time.sleep_ms = sleep_ms  # type: ignore[attr-defined]
    if not hasattr(asyncio, "sleep_ms"):
        async def a_sleep_ms(ms: float) -> None:
            await asyncio.sleep(ms / 1000)

        async def wait_for_ms(aw: object, ms: float) -> object:
            return await asyncio.wait_for(aw, ms / 1000)  # type: ignore[arg-type]

        asyncio.sleep_ms = a_sleep_ms  # type: ignore[attr-defined]
        asyncio.wait_for_ms = wait_for_ms  # type: ignore[attr-defined]


_micropython_time_and_asyncio()


class MicroPythonFailure(Exception):
    pass


class MicroPythonItem(pytest.Item):
    def __init__(self, *, func: str, bits: int = 64, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.func = func
        self.bits = bits

    def runtest(self) -> None:
        status, output = run_in_micropython(self.path, self.func, bits=self.bits)
        if status != 0:
            raise MicroPythonFailure(output)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: object = None) -> str:
        if isinstance(excinfo.value, MicroPythonFailure):
            return f"MicroPython failure in {self.path.name}::{self.func}:\n{excinfo.value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, self.name


class MicroPythonModule(pytest.File):
    def collect(self) -> Iterator[MicroPythonItem]:
        tree = ast.parse(self.path.read_text(), filename=str(self.path))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                yield MicroPythonItem.from_parent(self, name=f"{node.name}[micropython]",
                                                  func=node.name)
                # and at the chip's word size: the 32-bit build of `make mpble` (31-bit small
                # ints, 32-bit pointers for viper, heap objects the chip's size)
                yield MicroPythonItem.from_parent(self, name=f"{node.name}[micropython-32bit]",
                                                  func=node.name, bits=32)


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> MicroPythonModule | None:
    if (file_path.suffix == ".py" and file_path.name.startswith("test_")
            and file_path.parent == HERE):
        return MicroPythonModule.from_parent(parent, path=file_path)
    return None
