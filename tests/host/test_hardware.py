"""Hardware: board files agree with the wiring tables, BOMs are complete, the drawings are
current, the enclosure renders to a closed mesh that fits the parts, deploy and power model."""
from __future__ import annotations

import ast
import csv
import dataclasses
import importlib
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from postureclip import power
from postureclip.deploy import BOARDS, deploy, firmware_files
from postureclip.errors import DeployError

ROOT = Path(__file__).resolve().parents[2]
HW = ROOT / "hardware"
BUILDS = {"wearable": "xiao_esp32c3", "breadboard": "devkit_mpu6050"}
PIN_SIGNALS = {"I2C_SDA": "I2C_SDA", "I2C_SCL": "I2C_SCL", "BUTTON": "BUTTON_PIN",
               "BATTERY_ADC": "BATTERY_ADC_PIN", "MOTOR_PWM": "MOTOR_PIN"}


def board_module(name: str) -> object:
    sys.path.insert(0, str(ROOT / "firmware"))
    try:
        return importlib.import_module(f"clip.boards.{name}")
    finally:
        sys.path.remove(str(ROOT / "firmware"))


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("build", BUILDS)
def test_board_pins_match_the_wiring_table(build: str) -> None:
    board = board_module(BUILDS[build])
    table = rows(HW / "wiring" / f"{build}.csv")
    seen = set()
    for r in table:
        attr = PIN_SIGNALS.get(r["signal"])
        if attr is not None:
            assert getattr(board, attr) == int(r["gpio"]), (build, r)
            seen.add(attr)
        if r["signal"] in ("IMU_ADDRESS", "HAPTIC_ADDRESS"):
            assert getattr(board, r["signal"]) == int(r["gpio"], 16), (build, r)
    # every pin the firmware uses is wired
    for attr in PIN_SIGNALS.values():
        if getattr(board, attr) is not None:
            assert attr in seen, f"{build}: {attr} is used by the firmware but not wired"


@pytest.mark.parametrize("build", BUILDS)
def test_bom_is_complete(build: str) -> None:
    bom = rows(HW / f"bom_{build}.csv")
    assert list(bom[0]) == ["part", "manufacturer_part_number", "quantity", "approx_price_usd",
                            "size_mm", "alternatives", "enclosure_key"]
    for r in bom:
        assert r["part"] and int(r["quantity"]) >= 1 and float(r["approx_price_usd"]) > 0
    wired = {r["part"] for r in rows(HW / "wiring" / f"{build}.csv")}
    for part in wired - {"Battery divider"}:
        assert any(part.split()[0] in b["part"] for b in bom), f"{part} wired but not in BOM"


def test_wiring_drawings_are_generated_from_the_tables() -> None:
    proc = subprocess.run([sys.executable, str(HW / "draw_wiring.py"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout
    for build in BUILDS:
        svg = (HW / "wiring" / f"{build}.svg").read_text()
        for r in rows(HW / "wiring" / f"{build}.csv"):
            if r["board_pin"]:
                assert f">{r['board_pin']}<" in svg


def openscad() -> str:
    exe = shutil.which("openscad")
    if exe is None:
        raise RuntimeError("openscad missing: `make test` installs it (apt-get install openscad)")
    return exe


def render(build: str, part: str, out: Path) -> str:
    proc = subprocess.run([openscad(), "-o", str(out), "-D", f'build="{build}"',
                           "-D", f'part="{part}"', str(HW / "enclosure" / "clip.scad")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "WARNING" not in proc.stderr, proc.stderr
    return proc.stderr


def stl_triangles(path: Path) -> list[tuple[tuple[float, ...], ...]]:
    vs = [tuple(round(float(x), 4) for x in m.groups()) for m in re.finditer(
        r"vertex\s+(\S+)\s+(\S+)\s+(\S+)", path.read_text())]
    return [tuple(vs[i:i + 3]) for i in range(0, len(vs), 3)]


@pytest.mark.parametrize("build", BUILDS)
def test_enclosure_renders_closed_and_fits_the_parts(build: str, tmp_path: Path) -> None:
    log = render(build, "base", tmp_path / "base.stl")
    tris = stl_triangles(tmp_path / "base.stl")
    assert len(tris) > 20
    edges: Counter[tuple[tuple[float, ...], ...]] = Counter()
    for a, b, c in tris:
        for e in ((a, b), (b, c), (c, a)):
            edges[tuple(sorted(e))] += 1
    assert all(n == 2 for n in edges.values()), "mesh has open or non-manifold edges"
    echoes = re.findall(r'ECHO: "(\w+)", (.*)', log)
    cav = next(ast.literal_eval(v) for k, v in echoes if k == "cavity")
    outer = next(ast.literal_eval(v) for k, v in echoes if k == "outer")
    parts = {}
    for k, v in echoes:
        if k == "part":
            name, pos, size = ast.literal_eval("[" + v + "]")
            parts[name] = (pos, size)
    boxes = list(parts.values())
    for pos, size in boxes:
        for i in range(3):
            assert pos[i] >= 0 and pos[i] + size[i] <= cav[i] + 1e-6, (build, pos, size, cav)
    for i, (p1, s1) in enumerate(boxes):  # no two parts in the same space
        for p2, s2 in boxes[i + 1:]:
            assert any(p1[k] + s1[k] <= p2[k] + 1e-6 or p2[k] + s2[k] <= p1[k] + 1e-6
                       for k in range(3)), (build, p1, s1, p2, s2)
    bom = rows(HW / f"bom_{build}.csv")
    for r in bom:
        if r["enclosure_key"]:
            size = [float(x) for x in r["size_mm"].split("x")]
            assert sorted(parts[r["enclosure_key"]][1]) == sorted(size), (build, r["part"])
    xs = [v[0] for t in tris for v in t]
    ys = [v[1] for t in tris for v in t]
    zs = [v[2] for t in tris for v in t]
    assert max(ys) - min(ys) == pytest.approx(outer[1], abs=0.01)
    assert max(zs) - min(zs) == pytest.approx(outer[2] - 1.6, abs=0.01)  # base without lid
    assert max(xs) - min(xs) > outer[0]  # strap tabs beyond the ends
    render(build, "lid", tmp_path / "lid.stl")
    lid = stl_triangles(tmp_path / "lid.stl")
    ledges: Counter[tuple[tuple[float, ...], ...]] = Counter()
    for a, b, c in lid:
        for e in ((a, b), (b, c), (c, a)):
            ledges[tuple(sorted(e))] += 1
    assert lid and all(n == 2 for n in ledges.values())


def test_deploy_copies_the_firmware_but_not_the_sim() -> None:
    lines: list[str] = []
    assert deploy("/dev/ttyUSB0", "devkit_mpu6050", dry_run=True, out=lines.append) == 0
    copied = [ln.split()[-1] for ln in lines if " cp " in ln]
    assert ":main.py" in copied and ":clip/app.py" in copied and ":board.txt" in copied
    assert ":clip/drivers/mpu6050.py" in copied and not any("sim" in c for c in copied)
    assert lines[-1].endswith("reset")
    files = firmware_files(ROOT / "firmware")
    assert len(copied) == len(files) + 1
    with pytest.raises(DeployError, match="unknown board"):
        deploy("/dev/ttyUSB0", "nano", dry_run=True)
    with pytest.raises(DeployError, match="no firmware tree"):
        deploy("/dev/ttyUSB0", BOARDS[0], firmware=ROOT / "docs", dry_run=True)


def test_power_model_adds_up() -> None:
    w, day = power.WEARABLE, power.Day()
    for build in (power.WEARABLE, power.BREADBOARD):
        for prof in (power.ACTIVE, power.STILL):
            for radio in (False, True):
                parts = power.sensing(build, prof, radio)
                assert all(v >= 0 for v in parts.values()) and sum(parts.values()) > 0
    # every measure lowers the day's average, in the order docs/power.md gives
    b = power.day_budget
    moving = dataclasses.replace(day, still_awake=0.0, still_night=0.0)
    none = b(w, moving, active=power.STREAM, windows=False)
    windows = b(w, moving, active=power.STREAM)
    still = b(w, day, active=power.STREAM)
    built = b(w, day)
    assert none.total_ma > windows.total_ma > still.total_ma > built.total_ma
    # the ledger of measures: each one lowers the day's average, ending at the built firmware
    ledger = [float(line.split(" mA (")[0].split()[-1]) for line in
              power.savings(w).splitlines() if " mA (" in line]
    assert len(ledger) >= 6 and ledger == sorted(ledger, reverse=True), ledger
    assert ledger[-1] == round(built.total_ma, 2)
    # a day of the STILL profile alone sits below a milliamp; the day is a weighted mean
    all_still = b(w, dataclasses.replace(day, still_awake=1.0, still_night=1.0))
    assert 0.5 < all_still.total_ma < built.total_ma
    assert w.battery_mah * w.usable_fraction / power.streaming_ma(w) >= 8.0  # a workday
    text = power.report(w) + power.savings(w)
    assert f"{built.life_days(w):.1f} days on 300 mAh" in text


def test_power_model_matches_the_firmware() -> None:
    """The model's profiles and radio windows are the firmware's (firmware/clip/power.py)."""
    src = (ROOT / "firmware" / "clip" / "power.py").read_text()
    profiles = ast.literal_eval(re.search(r"^PROFILES = (.+)$", src, re.M).group(1))
    assert profiles[0] == (power.ACTIVE.sample_hz, power.ACTIVE.samples_per_step,
                           power.ACTIVE.read_ms, power.ACTIVE.imu_low_power)
    assert profiles[1] == (power.STILL.sample_hz, power.STILL.samples_per_step,
                           power.STILL.read_ms, power.STILL.imu_low_power)
    assert profiles[2] == (power.STREAM.sample_hz, power.STREAM.samples_per_step,
                           power.STREAM.read_ms, power.STREAM.imu_low_power)
    housekeeping = ast.literal_eval(re.search(r"^HOUSEKEEPING_MS = (.+)$", src, re.M).group(1))
    assert housekeeping == tuple(1000 * p.housekeeping_s
                                 for p in (power.ACTIVE, power.STILL, power.STREAM))
    for name in ("RADIO_BOOT_S", "RADIO_AFTER_LINK_S", "RADIO_EVERY_S", "RADIO_SHORT_S"):
        value = int(re.search(rf"^{name} = (\d+)", src, re.M).group(1))
        assert value == getattr(power, name), name
