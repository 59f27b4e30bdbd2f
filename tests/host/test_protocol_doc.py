"""docs/protocol.md is the contract: each numbered table in it (after a `<!-- table: NAME -->`
marker) must list exactly the firmware's constants of that kind, with the same numbers, and
the host's enums must say the same. A row the code lacks or a constant the doc lacks fails."""
from __future__ import annotations

import importlib.util
import re
import sys
import types
from enum import IntEnum, IntFlag
from pathlib import Path

import pytest

from postureclip import protocol as H

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs/protocol.md").read_text()


def _firmware_module(name: str) -> types.ModuleType:
    """``firmware/clip/<name>.py`` imported by CPython (with the ``micropython`` shim)."""
    shim_spec = importlib.util.spec_from_file_location(
        "micropython", ROOT / "tests/firmware/cpython_shims/micropython.py")
    assert shim_spec is not None and shim_spec.loader is not None
    shim = importlib.util.module_from_spec(shim_spec)
    shim_spec.loader.exec_module(shim)
    saved = sys.modules.get("micropython")
    sys.modules["micropython"] = shim
    try:
        spec = importlib.util.spec_from_file_location(f"_fw_{name}",
                                                      ROOT / f"firmware/clip/{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        if saved is None:
            del sys.modules["micropython"]
        else:
            sys.modules["micropython"] = saved


FW = _firmware_module("protocol")
FW_SETTINGS = _firmware_module("settings")


def doc_table(name: str) -> list[list[str]]:
    """The body rows of the table after ``<!-- table: name -->``, cells stripped of ` and *."""
    match = re.search(rf"<!-- table: {re.escape(name)} -->\n((?:\|.*\n)+)", DOC)
    assert match, f"docs/protocol.md has no table marked {name!r}"
    rows = [line for line in match.group(1).splitlines() if line.startswith("|")]
    return [[cell.strip().strip("`*").strip() for cell in row.strip("|").split("|")]
            for row in rows[2:]]  # header and |---| line


def doc_numbers(name: str) -> dict[str, int]:
    return {row[1]: int(row[0], 0) for row in doc_table(name)}


def firmware_numbers(prefix: str, exclude: tuple[str, ...] = ()) -> dict[str, int]:
    return {k[len(prefix):]: v for k, v in vars(FW).items()
            if k.startswith(prefix) and isinstance(v, int) and k not in exclude}


def host_numbers(enum: type[IntEnum] | type[IntFlag]) -> dict[str, int]:
    return {m.name or "": int(m.value) for m in enum.__members__.values()}


# table marker -> (firmware constant prefix, host enum)
TABLES = {
    "record-types": ("REC_", H.RecordType),
    "opcodes": ("OP_", H.Opcode),
    "status-codes": ("ST_", H.Status),
    "state-bits": ("STATE_", H.StateBit),
    "buzz-patterns": ("PATTERN_", H.BuzzPattern),
    "buzz-reasons": ("REASON_", H.BuzzReason),
    "held-reasons": ("HELD_", H.HeldReason),
    "slip-kinds": ("SLIP_", H.SlipKind),
    "exercise-kinds": ("EXERCISE_", H.ExerciseKind),
    "fault-codes": ("FAULT_", H.FaultCode),
    "clip-tasks": ("TASK_", H.ClipTask),
    "reset-causes": ("RESET_CAUSE_", H.ResetCause),
    "imu-kinds": ("IMU_", H.ImuKind),
    "end-reasons": ("END_", H.EndReason),
    "stream-kinds": ("STREAM_", H.StreamKind),
}
# constants that share a prefix but are not members of that table
NOT_IN_TABLE = ("STREAM_HEADER_SIZE", "STREAM_MIN_SPAN_MS")


@pytest.mark.parametrize("table", sorted(TABLES))
def test_doc_table_matches_firmware_and_host(table: str) -> None:
    prefix, enum = TABLES[table]
    doc = doc_numbers(table)
    firmware = firmware_numbers(prefix, NOT_IN_TABLE)
    host = host_numbers(enum)
    assert doc == firmware, f"{table}: docs/protocol.md {doc} != firmware {firmware}"
    assert doc == host, f"{table}: docs/protocol.md {doc} != host {host}"


def test_settings_table_matches_the_firmware() -> None:
    doc = {}
    for key, name, default, rng, _meaning in doc_table("settings"):
        bounds = re.fullmatch(r"(-?\d+)[–-](-?\d+)", rng)
        assert bounds, rng
        lo, hi = int(bounds.group(1)), int(bounds.group(2))
        doc[int(key)] = (name, int(default), lo, hi)
    firmware = {row[0]: tuple(row[1:]) for row in FW_SETTINGS.TABLE}
    assert doc == firmware
    host = {s.key: (s.name, s.default, s.lo, s.hi) for s in H.SETTINGS}
    assert doc == host


def test_every_record_type_has_a_payload_layout_both_sides() -> None:
    for name, value in firmware_numbers("REC_").items():
        assert value in FW.RECORD_PAYLOAD or name == "TRACE", name
        assert H.RecordType(value).name == name


def test_the_tables_fail_on_drift(monkeypatch: pytest.MonkeyPatch) -> None:
    # the check itself can fail: a constant the doc lacks, and a doc row the code lacks
    monkeypatch.setattr(FW, "STATE_CHARGING", 0x80, raising=False)
    assert doc_numbers("state-bits") != firmware_numbers("STATE_")
    global DOC
    saved = DOC
    try:
        DOC = DOC.replace("| 0x40 | LOW_BATTERY |", "| 0x40 | LOW_BATTERY |\n| 0x80 | CHARGING |")
        assert "CHARGING" in doc_numbers("state-bits")
    finally:
        DOC = saved


def test_vectors_cover_every_record_type_reason_fault_and_reset_cause() -> None:
    import json

    vectors = json.loads((ROOT / "tests/vectors/protocol_v1.json").read_text())
    records = [H.decode_record(bytes.fromhex(v["hex"]))[0] for v in vectors["records"]]
    assert {r.rtype for r in records} == set(H.RecordType)
    values = [r.fields() for r in records]
    buzz = [v for r, v in zip(records, values, strict=True) if r.rtype is H.RecordType.BUZZ]
    assert {v["reason"] for v in buzz} == set(H.BuzzReason)
    # every pattern a BUZZ record can carry (the fault pattern's repeats are not logged)
    assert {v["pattern"] for v in buzz} == set(H.BuzzPattern) - {H.BuzzPattern.FAULT}
    faults = [v for r, v in zip(records, values, strict=True) if r.rtype is H.RecordType.FAULT]
    assert {v["code"] for v in faults} == set(H.FaultCode)
    held = [v for r, v in zip(records, values, strict=True) if r.rtype is H.RecordType.HELD]
    assert {v["why"] for v in held} == set(H.HeldReason)
    slips = [v for r, v in zip(records, values, strict=True) if r.rtype is H.RecordType.SLIP]
    assert {v["kind"] for v in slips} == set(H.SlipKind)
    sets = [v for r, v in zip(records, values, strict=True) if r.rtype is H.RecordType.EXERCISE]
    assert {v["kind"] for v in sets} == set(H.ExerciseKind)
    boots = [v for r, v in zip(records, values, strict=True) if r.rtype is H.RecordType.BOOT]
    assert {v["reset_cause"] for v in boots} == set(H.ResetCause)
    assert all(v["reset_cause_name"] != "unknown" or v["reset_cause"] == 0 for v in boots)
