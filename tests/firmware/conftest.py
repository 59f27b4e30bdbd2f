"""Collect every firmware test twice: under CPython (pytest's own collector) and in MicroPython."""
from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE / "cpython_shims"), str(HERE.parents[1] / "firmware"),
                str(HERE.parents[1] / "firmware" / "sim"), str(HERE)]

from mpharness import run_in_micropython  # noqa: E402


class MicroPythonFailure(Exception):
    pass


class MicroPythonItem(pytest.Item):
    def __init__(self, *, func: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.func = func

    def runtest(self) -> None:
        status, output = run_in_micropython(self.path, self.func)
        if status != 0:
            raise MicroPythonFailure(output)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: object = None) -> str:
        if isinstance(excinfo.value, MicroPythonFailure):
            return f"MicroPython failure in {self.path.name}::{self.func}:\n{excinfo.value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"{self.func}[micropython]"


class MicroPythonModule(pytest.File):
    def collect(self) -> Iterator[MicroPythonItem]:
        tree = ast.parse(self.path.read_text(), filename=str(self.path))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                yield MicroPythonItem.from_parent(self, name=f"{node.name}[micropython]",
                                                  func=node.name)


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> MicroPythonModule | None:
    if (file_path.suffix == ".py" and file_path.name.startswith("test_")
            and file_path.parent == HERE):
        return MicroPythonModule.from_parent(parent, path=file_path)
    return None
