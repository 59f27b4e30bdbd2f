# Firmware protocol packing and the control parser; runs under MicroPython and CPython.
import struct

from clip import control
from clip import protocol as P
from clip import settings as S


def test_crc_is_zlib_crc32():
    from binascii import crc32
    assert crc32(b"123456789") == 0xCBF43926


def test_record_roundtrip_and_crc_detects_every_single_bit_flip():
    rec = P.pack_record(P.REC_LIFT, 77, 1234, 56, P.FLAG_WALL_CLOCK,
                        P.event_payload(P.REC_LIFT, 2500, 650, -310, 80, P.TECH_STOOP, 1))
    assert len(rec) == P.RECORD_OVERHEAD + struct.calcsize(P.RECORD_PAYLOAD[P.REC_LIFT])
    size, rtype, seq, ts, tms, flags, payload = P.parse_record(rec)
    assert (size, rtype, seq, ts, tms, flags) == (len(rec), P.REC_LIFT, 77, 1234, 56, 1)
    assert struct.unpack(P.RECORD_PAYLOAD[P.REC_LIFT], payload) == (2500, 650, -310, 80, 2, 1)
    for i in range(len(rec)):
        for bit in range(8):
            bad = bytearray(rec)
            bad[i] ^= 1 << bit
            assert P.parse_record(bad)[0] != len(rec), (i, bit)


def test_parse_record_reports_torn_tail_as_zero():
    rec = P.pack_record(P.REC_BUZZ, 1, 2, 3, 0, P.event_payload(P.REC_BUZZ, 1, 2))
    for cut in range(len(rec)):
        size = P.parse_record(rec[:cut])[0]
        # a cut header may still be recognised as garbage; never as a valid record
        assert size <= 0, cut


def test_trace_payload_clamps_to_i8():
    pl = P.trace_payload(1, [10, -3, 200, -200])
    assert pl == bytes([1, 10, 253, 127, 129])


def test_stream_frame_layout():
    buf = bytearray(P.stream_frame_size(P.STREAM_RAW, 2))
    P.pack_stream_header(buf, P.STREAM_RAW, 0x1FFFF, 5000, 5000, 2)
    P.pack_raw_sample(buf, 0, 0.0, 0.0, 9.81, 0.001, -0.002, 100.0)
    P.pack_raw_sample(buf, 1, -1000.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    assert struct.unpack_from(P.STREAM_HEADER, buf, 0) == (1, P.STREAM_RAW, 0xFFFF, 5000, 5000, 2)
    assert struct.unpack_from("<hhhhhh", buf, 11) == (0, 0, 1962, 1, -2, 32767)
    assert struct.unpack_from("<h", buf, 23)[0] == -32768


def test_stream_capacity_fits_mtu():
    for mtu in (23, 27, 100, 185, 247, 512):
        for kind in (P.STREAM_QUAT, P.STREAM_RAW):
            n = P.stream_capacity(kind, mtu)
            if n > 0:
                assert P.stream_frame_size(kind, n) <= mtu - 3
            assert P.stream_frame_size(kind, n + 1) > mtu - 3 or n == 255


class FakeDevice:
    """Records what handlers changed; the control module must touch it only on success."""

    def __init__(self):
        self.settings = S.defaults()
        self.snooze_min = 0
        self.time = None
        self.stream = (0, 0)
        self.calls = []

    def cmd_get_info(self):
        return (1, 0, 1, 0, 1, 0)

    def cmd_get_config(self, key):
        row = S.row_by_key(key)
        return (key, self.settings[row[1]])

    def cmd_set_config(self, key, value):
        row = S.row_by_key(key)
        self.settings = S.with_value(self.settings, row[1], value)
        return (key, value)

    def cmd_snooze(self, minutes):
        self.snooze_min = minutes
        return (minutes,)

    def cmd_set_time(self, s, ms):
        self.time = (s, ms)
        return (s, ms)

    def cmd_stream(self, mode, rate):
        self.stream = (mode, rate)
        return (mode, rate)

    def cmd_calibrate(self):
        self.calls.append("calibrate")
        return control.PENDING

    def cmd_factory_reset(self, magic):
        self.calls.append("reset")
        return ()


def snapshot(dev):
    return (dict(dev.settings), dev.snooze_min, dev.time, dev.stream, list(dev.calls))


def test_control_valid_commands():
    dev = FakeDevice()
    reply = control.handle(dev, struct.pack("<BBBi", P.OP_SET_CONFIG, 9, 1, 25))
    assert reply == bytes((P.OP_SET_CONFIG | 0x80, 9, P.ST_OK)) + struct.pack("<Bi", 1, 25)
    assert dev.settings["slouch_deg"] == 25
    reply = control.handle(dev, struct.pack("<BBB", P.OP_GET_CONFIG, 10, 1))
    assert struct.unpack("<BBBBi", reply) == (P.OP_GET_CONFIG | 0x80, 10, 0, 1, 25)
    assert control.handle(dev, bytes((P.OP_CALIBRATE, 3))) is None
    assert dev.calls == ["calibrate"]
    reply = control.handle(dev, struct.pack("<BBBH", P.OP_STREAM, 4, P.STREAM_RAW, 200))
    assert reply[2] == P.ST_OK and dev.stream == (2, 200)


MALFORMED = (
    (b"\x04", P.ST_BAD_LENGTH),
    (b"\x7f\x01", P.ST_UNKNOWN_OPCODE),
    (b"\x84\x01", P.ST_UNKNOWN_OPCODE),  # a reply echoed back is not a request
    (struct.pack("<BBBi", P.OP_SET_CONFIG, 1, 1, 25) + b"\x00", P.ST_BAD_LENGTH),
    (struct.pack("<BBB", P.OP_SET_CONFIG, 1, 1), P.ST_BAD_LENGTH),
    (struct.pack("<BBBi", P.OP_SET_CONFIG, 1, 1, 46), P.ST_OUT_OF_RANGE),
    (struct.pack("<BBBi", P.OP_SET_CONFIG, 1, 1, 4), P.ST_OUT_OF_RANGE),
    (struct.pack("<BBBi", P.OP_SET_CONFIG, 1, 99, 1), P.ST_OUT_OF_RANGE),
    (struct.pack("<BBBi", P.OP_SET_CONFIG, 1, 9, 2000), P.ST_OUT_OF_RANGE),  # > window
    (struct.pack("<BBB", P.OP_GET_CONFIG, 1, 0), P.ST_OUT_OF_RANGE),
    (struct.pack("<BBH", P.OP_SNOOZE, 1, 1441), P.ST_OUT_OF_RANGE),
    (struct.pack("<BBB", P.OP_BUZZ_TEST, 1, P.PATTERN_START + 1), P.ST_OUT_OF_RANGE),
    (struct.pack("<BBB", P.OP_BUZZ_TEST, 1, P.PATTERN_FAULT), P.ST_OUT_OF_RANGE),
    (struct.pack("<BBIH", P.OP_SET_TIME, 1, 100, 1000), P.ST_OUT_OF_RANGE),
    (struct.pack("<BBBH", P.OP_STREAM, 1, P.STREAM_QUAT, 51), P.ST_OUT_OF_RANGE),
    (struct.pack("<BBBH", P.OP_STREAM, 1, P.STREAM_RAW, 0), P.ST_OUT_OF_RANGE),
    (struct.pack("<BBBH", P.OP_STREAM, 1, 7, 10), P.ST_OUT_OF_RANGE),
    (struct.pack("<BBI", P.OP_FACTORY_RESET, 1, 0x12345678), P.ST_OUT_OF_RANGE),
)


def test_control_rejects_malformed_commands_without_changing_state():
    dev = FakeDevice()
    control.handle(dev, struct.pack("<BBBi", P.OP_SET_CONFIG, 1, 1, 25))
    before = snapshot(dev)
    for data, status in MALFORMED:
        reply = control.handle(dev, data)
        assert reply is not None and len(reply) == 3, data
        assert reply[2] == status, (data, reply)
        if len(data) >= 2:
            assert reply[0] == data[0] | 0x80 and reply[1] == data[1]
        assert snapshot(dev) == before, data
    assert control.handle(dev, b"") is None  # names no command: nothing to answer
    assert snapshot(dev) == before


def test_settings_validated_drops_garbage():
    v = S.validated({"slouch_deg": 99, "lean_deg": 12, "bogus": 1, "repeat_s": "x",
                     "exposure_window_s": 60, "exposure_limit_s": 10})
    assert v["slouch_deg"] == 20 and v["lean_deg"] == 12 and v["repeat_s"] == 60
    assert "bogus" not in v
    assert S.validated(None) == S.defaults()
    assert S.validated({"exposure_window_s": 60})["exposure_limit_s"] <= 60
