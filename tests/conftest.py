"""Test-session ordering for ``make test`` (pytest -n 2 --maxschedchunk=1).

The 10-minute soak and the 200-fault sync test (on the real Bluetooth stack) take most of
the suite's time. The soak is
collected first, so that it starts at once on one worker, and the fault test last, so that it
runs on the other worker once that one has taken the short tests; collected where they fell,
the soak started after minutes of other tests (14.6 minutes on a clean clone), and with both
first they shared a worker (13.2); this way the suite takes about 10 minutes on 2 cores.
``--maxschedchunk=1`` (Makefile) hands out the short tests one at a time, so few of them queue
up behind the soak.
"""
from __future__ import annotations

import pytest

FIRST = "test_soak_"
LAST = "test_sync_survives_"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        return 0 if item.name.startswith(FIRST) else 2 if item.name.startswith(LAST) else 1

    items.sort(key=rank)  # stable: the rest keep their order


class Rendered:
    """A page as headless Chromium shows it: its DOM text, a screenshot, console messages."""

    def __init__(self, dom: str, shot: object, console: list[str]) -> None:
        self.dom = dom
        self.shot = shot  # pathlib.Path of the PNG
        self.console = console

    def ink_bands(self, height: int, band: int = 300) -> list[int]:
        """Dark pixels (grey < 200) in each horizontal band down to ``height``: a band of
        a rendered figure has thousands, a blank one none."""
        from PIL import Image

        image = Image.open(self.shot).convert("L")  # type: ignore[arg-type]
        width = image.size[0]
        return [sum(image.crop((0, top, width, top + band)).histogram()[:200])
                for top in range(0, min(height, image.size[1]), band)]


@pytest.fixture
def chromium(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """``chromium(path)``: render an HTML file offline (make test installs chromium)."""
    import shutil
    import subprocess

    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    assert exe, "chromium is missing: make test installs it (apt-get install chromium)"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

    def render(page: object, width: int = 1200, height: int = 1800) -> Rendered:
        uri = page.as_uri()  # type: ignore[attr-defined]
        shot = tmp_path_factory.mktemp("chromium") / "shot.png"
        run = subprocess.run([exe, *flags, "--enable-logging=stderr", "--v=0",
                              f"--screenshot={shot}", f"--window-size={width},{height}", uri],
                             capture_output=True, text=True, timeout=120)
        assert shot.exists(), run.stderr[-2000:]
        dom = subprocess.run([exe, *flags, "--dump-dom", uri], capture_output=True, text=True,
                             timeout=120).stdout
        return Rendered(dom, shot, [line for line in run.stderr.splitlines()
                                    if "CONSOLE" in line])

    return render
