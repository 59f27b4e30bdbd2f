# The flash event log: power loss at every byte of the last record, reboot continuity,
# acknowledged trimming, capacity handling; MicroPython and CPython.
import os
import struct
import sys
import time

from clip import protocol as P
from clip.eventlog import EventLog

BASE = "/tmp/postureclip-log-%s-%d" % (sys.implementation.name, time.time_ns())
_n = [0]


def fresh():
    _n[0] += 1
    root = "%s-%d" % (BASE, _n[0])
    for d in (root, root + "/log"):
        try:
            os.mkdir(d)
        except OSError:
            pass
    for f in os.listdir(root + "/log"):
        os.remove(root + "/log/" + f)
    return root


def event(log, i):
    return log.append(P.REC_SLOUCH_START, 1000 + i, i % 1000, P.FLAG_WALL_CLOCK,
                      P.event_payload(P.REC_SLOUCH_START, i, -i))


def trace(log, i):
    return log.append(P.REC_TRACE, 1000 + i, 0, 0, P.trace_payload(1, [i % 50, -3] * 99))


def seqs(log, start=0):
    return [struct.unpack_from("<I", rec, 4)[0] for rec in log.read_from(start)]


def copy_truncated(src_root, dst_root, cut):
    """The flash as a power cut left it: the newest segment ends ``cut`` bytes short."""
    names = sorted(n for n in os.listdir(src_root + "/log") if n.endswith(".seg"))
    for name in os.listdir(src_root + "/log"):
        with open(src_root + "/log/" + name, "rb") as f:
            data = f.read()
        if name == names[-1]:
            data = data[:len(data) - cut]
        with open(dst_root + "/log/" + name, "wb") as f:
            f.write(data)


def test_records_survive_a_reboot_and_the_sequence_continues():
    root = fresh()
    log = EventLog(root, seg_bytes=200)
    for i in range(40):
        event(log, i)
    log.close()
    log = EventLog(root, seg_bytes=200)
    assert len(log.segments) > 3 and log.next_seq == 40 and log.stored() == 40
    assert seqs(log) == list(range(40))
    rec = event(log, 40)
    assert struct.unpack_from("<I", rec, 4)[0] == 40
    assert log.count_from(30) == 11 and log.first_seq() == 0


def test_power_loss_at_every_byte_of_the_last_record():
    src = fresh()
    log = EventLog(src, seg_bytes=4096)
    for i in range(10):
        event(log, i)
    last = trace(log, 10)  # the record being written when the power went
    log.close()
    for cut in range(1, len(last) + 1):
        dst = fresh()
        copy_truncated(src, dst, cut)
        log = EventLog(dst, seg_bytes=4096)
        assert seqs(log) == list(range(10)), cut
        assert log.next_seq >= 10 and log.stored() == 10
        rec = event(log, 99)  # the log goes on cleanly after the cut
        assert seqs(log)[-1] == struct.unpack_from("<I", rec, 4)[0]
        assert len(seqs(log)) == 11


def test_power_loss_at_random_points_and_garbage_tails():
    import random

    random.seed(5)
    src = fresh()
    log = EventLog(src, seg_bytes=100000)
    sizes = []
    for i in range(30):
        rec = trace(log, i) if i % 3 else event(log, i)
        sizes.append(len(rec))
    log.close()
    total = sum(sizes)
    for _ in range(25):
        cut = random.randrange(1, total)
        dst = fresh()
        copy_truncated(src, dst, cut)
        # complete records = those wholly before the cut
        keep = 0
        acc = 0
        for n in sizes:
            if acc + n > total - cut:
                break
            acc += n
            keep += 1
        if random.random() < 0.5:  # a half-programmed page: junk after the good bytes
            name = sorted(n for n in os.listdir(dst + "/log") if n.endswith(".seg"))[-1]
            with open(dst + "/log/" + name, "ab") as f:
                f.write(bytes([0xA7, 3, 9, 0, 0xFF, 0xFF]))
        log = EventLog(dst, seg_bytes=100000)
        assert seqs(log) == list(range(keep)), (cut, keep)


def test_ack_trims_only_acknowledged_segments_and_keeps_the_sequence():
    root = fresh()
    log = EventLog(root, seg_bytes=300)
    for i in range(30):
        event(log, i)
    first = log.ack(12)
    assert first <= 13 and seqs(log)[0] == first and seqs(log)[-1] == 29
    assert all(s in seqs(log) for s in range(13, 30))  # nothing unacknowledged went
    assert log.ack(29) == 30 and seqs(log) == [] and log.stored() == 0
    log.close()
    log = EventLog(root, seg_bytes=300)  # reboot with an empty log: no sequence reuse
    assert log.next_seq == 30
    event(log, 30)
    assert seqs(log) == [30]


def test_full_log_drops_oldest_trace_first_then_events_and_says_so():
    root = fresh()
    log = EventLog(root, max_bytes=2000, seg_bytes=700)
    for i in range(20):  # 4 events and 16 traces (217 bytes each)
        trace(log, i) if i % 5 else event(log, i)
    kept = seqs(log)
    assert log.total_bytes() <= 2000 + 217
    dropped = [rec for rec in log.read_from(0) if rec[1] == P.REC_DROPPED]
    assert dropped, "the host must be told"
    assert log.dropped > 0
    events = [s for s in range(20) if s % 5 == 0]
    assert all(s in kept for s in events), (kept, events)  # events outlive traces
    for i in range(20, 80):
        event(log, i)
    assert log.total_bytes() <= 2000 + 217
    assert seqs(log)[-1] == log.next_seq - 1
