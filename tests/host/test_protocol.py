"""Host decoders against the firmware-produced vectors, pinned constants and fuzzing."""
from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from postureclip import protocol as P
from postureclip.errors import ProtocolError

ROOT = Path(__file__).resolve().parents[2]
VECTORS: dict[str, Any] = json.loads((ROOT / "tests/vectors/protocol_v1.json").read_text())


def test_vectors_are_fresh_from_the_firmware() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "tools/gen_vectors.py"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_uuids_and_version_are_pinned() -> None:
    # Changing any of these breaks every clip in the field: bump the protocol instead.
    assert P.PROTOCOL_VERSION == VECTORS["protocol_version"] == 1
    assert VECTORS["uuids"] == {
        "service": "7e5a0001-3c2d-4b8f-a1e6-1f0c9a2b6d40",
        "stream": "7e5a0002-3c2d-4b8f-a1e6-1f0c9a2b6d40",
        "events": "7e5a0003-3c2d-4b8f-a1e6-1f0c9a2b6d40",
        "control": "7e5a0004-3c2d-4b8f-a1e6-1f0c9a2b6d40",
        "log": "7e5a0005-3c2d-4b8f-a1e6-1f0c9a2b6d40",
    }
    assert (P.SERVICE_UUID, P.STREAM_UUID, P.EVENTS_UUID, P.CONTROL_UUID, P.LOG_UUID) == tuple(
        VECTORS["uuids"][k] for k in ("service", "stream", "events", "control", "log"))
    assert P.Opcode.LOG_ACK == 0x12 and P.Status.MOVING == 5 and P.RecordType.LIFT == 5


@pytest.mark.parametrize("vec", VECTORS["stream"], ids=lambda v: f"kind{v['kind']}")
def test_stream_vectors(vec: dict[str, Any]) -> None:
    batch = P.decode_stream(bytes.fromhex(vec["hex"]))
    assert (batch.kind, batch.seq, batch.t0_ms, batch.period_us) == (
        vec["kind"], vec["seq"], vec["t0_ms"], vec["period_us"])
    s = batch.samples
    expected = np.array(vec["samples"])
    assert len(s) == len(expected)
    np.testing.assert_allclose(s["t"], vec["t0_ms"] / 1e3 + np.arange(len(s)) * vec["period_us"]
                               / 1e6)
    if batch.kind is P.StreamKind.QUAT:
        got = np.column_stack([s[k] for k in ("qw", "qx", "qy", "qz")])
        np.testing.assert_allclose(got, expected, atol=0.5 / P.QUAT_SCALE + 1e-12)
    else:
        got = np.column_stack([s[k] for k in ("ax", "ay", "az", "gx", "gy", "gz")])
        lsb = np.array([P.ACCEL_LSB] * 3 + [P.GYRO_LSB] * 3)
        limit = 32767 * lsb
        assert np.all(np.abs(got - np.clip(expected, -limit, limit)) <= lsb / 2 + 1e-9)


@pytest.mark.parametrize("vec", VECTORS["records"], ids=lambda v: f"type{v['type']}")
def test_record_vectors(vec: dict[str, Any]) -> None:
    raw = bytes.fromhex(vec["hex"])
    rec, size = P.decode_record(raw)
    assert size == len(raw)
    assert (int(rec.rtype), rec.seq, rec.time_s, rec.time_ms, rec.wall_clock) == (
        vec["type"], vec["seq"], vec["time_s"], vec["time_ms"], bool(vec["flags"] & 1))
    assert rec.encode() == raw
    f = rec.fields()
    v = vec["values"]
    if rec.rtype is P.RecordType.TRACE:
        assert f["interval_s"] == v[0]
        assert f["flexion_deg"] == v[1][0::2] and f["lateral_deg"] == v[1][1::2]
    elif rec.rtype is P.RecordType.LIFT:
        assert f["duration_s"] == v[0] / 1000
        assert f["peak_flexion_deg"] == pytest.approx(v[1] / 10)
        assert f["twist_deg"] == pytest.approx(v[2] / 10)
        assert f["technique"] == {1: "squat", 2: "stoop"}[v[4]]
        assert f["twisted"] == bool(v[5] & 1)
    elif rec.rtype is P.RecordType.SLOUCH_END:
        assert f == {"duration_s": v[0] / 1000, "peak_flexion_deg": pytest.approx(v[1] / 10),
                     "mean_flexion_deg": pytest.approx(v[2] / 10),
                     "peak_lateral_deg": pytest.approx(v[3] / 10)}
    elif rec.rtype is P.RecordType.SUMMARY:
        assert list(f.values()) == v
    else:
        assert len(f) >= 1


def test_log_vectors() -> None:
    recs, end = (P.decode_log_frame(bytes.fromhex(v["hex"])) for v in VECTORS["log"])
    assert isinstance(recs, P.LogRecords) and isinstance(end, P.LogEnd)
    assert [r.seq for r in recs.records] == VECTORS["log"][0]["seqs"]
    assert (end.frame, end.next_seq, end.reason) == (4, 53, P.EndReason.COMPLETE)


@pytest.mark.parametrize("vec", VECTORS["replies"], ids=lambda v: f"op{v['opcode']}-{v['token']}")
def test_reply_vectors(vec: dict[str, Any]) -> None:
    reply = P.decode_reply(bytes.fromhex(vec["hex"]))
    assert (reply.opcode, reply.token, reply.status, list(reply.values)) == (
        vec["opcode"], vec["token"], vec["status"], vec["values"])


@pytest.mark.parametrize("vec", VECTORS["commands"], ids=lambda v: f"op{v['opcode']}")
def test_host_encodes_commands_as_the_firmware_parses_them(vec: dict[str, Any]) -> None:
    assert P.encode_command(P.Opcode(vec["opcode"]), vec["token"], *vec["args"]).hex() == \
        vec["hex"]


def test_firmware_error_replies_for_bad_requests_decode() -> None:
    for vec in VECTORS["bad_commands"]:
        if vec["reply"] is None:
            assert vec["hex"] == ""  # an empty write names no command: no reply
            continue
        raw = bytes.fromhex(vec["reply"])
        if raw[0] & 0x7F == 0 or raw[0] & 0x7F not in set(P.Opcode):
            with pytest.raises(ProtocolError, match="unknown opcode"):
                P.decode_reply(raw)
        else:
            assert P.decode_reply(raw).status in (P.Status.BAD_LENGTH, P.Status.UNKNOWN_OPCODE)


# --- bad input -------------------------------------------------------------------------------
GOOD_STREAM = bytes.fromhex(VECTORS["stream"][1]["hex"])
GOOD_RECORD = bytes.fromhex(VECTORS["records"][4]["hex"])
GOOD_LOG = bytes.fromhex(VECTORS["log"][0]["hex"])


@pytest.mark.parametrize(("frame", "match"), [
    (GOOD_STREAM[:5], "shorter than"),
    (b"\x02" + GOOD_STREAM[1:], "protocol version 2"),
    (GOOD_STREAM[:1] + b"\x09" + GOOD_STREAM[2:], "unknown stream kind 9"),
    (GOOD_STREAM[:10] + b"\x09" + GOOD_STREAM[11:], "count 9 needs"),
    (GOOD_STREAM + b"\x00", "count 3 needs"),
    (GOOD_STREAM[:8] + b"\x00\x00" + GOOD_STREAM[10:], "period 0"),
])
def test_stream_errors(frame: bytes, match: str) -> None:
    with pytest.raises(ProtocolError, match=match) as info:
        P.decode_stream(frame)
    assert info.value.where.startswith("stream frame")


def test_record_errors() -> None:
    bad_crc = bytearray(GOOD_RECORD)
    bad_crc[15] ^= 0x40
    cases = [(GOOD_RECORD[:-1], "truncated"), (bytes(bad_crc), "CRC mismatch"),
             (b"\x00" + GOOD_RECORD[1:], "sync byte"),
             (GOOD_RECORD[:2] + b"\xff" + GOOD_RECORD[3:], "payload length 255")]
    for raw, match in cases:
        with pytest.raises(ProtocolError, match=match):
            P.decode_record(raw)
    # a well-formed record whose payload does not fit its type
    short = P.encode_record(int(P.RecordType.LIFT), 1, 2, 3, 0, b"\x00" * 3)
    with pytest.raises(ProtocolError, match="LIFT payload has 3 bytes"):
        P.decode_record(short)
    # a type this host does not know yet is kept, not refused
    future, _ = P.decode_record(P.encode_record(99, 1, 2, 3, 0, b"\x01\x02"))
    assert future.rtype == 99 and future.fields() == {"raw": "0102"}


def test_reply_errors() -> None:
    for raw, match in [(b"\x81\x00", "at least 3"), (b"\x01\x00\x00", "reply bit"),
                       (b"\xff\x00\x00", "unknown opcode"), (b"\x81\x00\x63", "unknown status"),
                       (b"\x81\x00\x00\x01", "expected 10"), (b"\x81\x00\x03\x00", "expected 3")]:
        with pytest.raises(ProtocolError, match=match):
            P.decode_reply(raw)


def test_encode_command_rejects_bad_arguments() -> None:
    with pytest.raises(ProtocolError, match="SET_CONFIG"):
        P.encode_command(P.Opcode.SET_CONFIG, 1, 300, 5)


def _decode_any(frame: bytes) -> None:
    for decoder in (P.decode_stream, P.decode_reply, P.decode_log_frame, P.decode_records):
        try:
            decoder(frame)
        except ProtocolError as e:
            assert str(e)


def _mutate(data: st.DataObject, base: bytes) -> bytes:
    buf = bytearray(base)
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["flip", "set", "cut", "insert"]))
        if op == "cut" and buf:
            i = data.draw(st.integers(0, len(buf) - 1))
            del buf[i:i + data.draw(st.integers(1, 8))]
        elif op == "insert":
            i = data.draw(st.integers(0, len(buf)))
            buf[i:i] = data.draw(st.binary(min_size=1, max_size=8))
        elif buf:
            i = data.draw(st.integers(0, len(buf) - 1))
            buf[i] = (buf[i] ^ (1 << data.draw(st.integers(0, 7))) if op == "flip"
                      else data.draw(st.integers(0, 255)))
    return bytes(buf)


SEEDS = [bytes.fromhex(v["hex"]) for group in ("stream", "records", "log", "replies")
         for v in VECTORS[group]]


@settings(max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_random_frames_only_raise_protocol_error(frame: bytes) -> None:
    _decode_any(frame)


@settings(max_examples=6000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_frames_only_raise_protocol_error(data: st.DataObject) -> None:
    frame = _mutate(data, data.draw(st.sampled_from(SEEDS)))
    _decode_any(frame)


@settings(max_examples=300, deadline=None)
@given(rtype=st.sampled_from(list(P.RecordType)), seq=st.integers(0, 2**32 - 1),
       time_s=st.integers(0, 2**32 - 1), time_ms=st.integers(0, 999), wall=st.booleans(),
       data=st.data())
def test_record_roundtrip(rtype: P.RecordType, seq: int, time_s: int, time_ms: int,
                          wall: bool, data: st.DataObject) -> None:
    if rtype is P.RecordType.TRACE:
        n = data.draw(st.integers(0, 99))
        payload = bytes([data.draw(st.integers(1, 60))]) + data.draw(
            st.binary(min_size=2 * n, max_size=2 * n))
    else:
        payload = data.draw(st.binary(min_size=struct.calcsize(P._PAYLOAD[rtype]),
                                      max_size=struct.calcsize(P._PAYLOAD[rtype])))
    raw = P.encode_record(int(rtype), seq, time_s, time_ms, int(wall), payload)
    rec, size = P.decode_record(raw)
    assert size == len(raw) and rec.encode() == raw
    assert (rec.rtype, rec.seq, rec.time_s, rec.time_ms, rec.wall_clock) == (
        rtype, seq, time_s, time_ms, wall)
    rec.fields()


def test_complete_records_stop_at_a_torn_tail() -> None:
    recs = [P.encode_record(int(P.RecordType.SNOOZE), s, 10 + s, 0, 0, struct.pack("<H", s))
            for s in range(3)]
    buf = b"".join(recs)
    assert [r.seq for _, r, _ in P.complete_records(buf)] == [0, 1, 2]
    for cut in range(len(buf)):  # a power cut at every byte keeps the whole records only
        got = P.complete_records(buf[:cut])
        assert [raw for _, _, raw in got] == [r for r in recs if buf.index(r) + len(r) <= cut]
    assert [r.seq for _, r, _ in P.complete_records(recs[0] + b"\xff" * 30)] == [0]
