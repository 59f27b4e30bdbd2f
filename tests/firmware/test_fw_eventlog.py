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


# --- power cut at every file operation of ack() and append() -----------------------------------
class PowerCut(Exception):
    pass


class _Flash:
    """Counts the log's file operations (opens, writes, flushes, closes, removes, renames)
    and cuts the power at the ``cut_at``-th: that operation and everything after never happen."""

    def __init__(self, cut_at=-1):
        self.cut_at = cut_at
        self.ops = 0

    def op(self):
        if self.ops == self.cut_at:
            raise PowerCut()
        self.ops += 1


class _File:
    def __init__(self, flash, f):
        self.flash = flash
        self.f = f

    def write(self, data):
        self.flash.op()
        return self.f.write(data)

    def flush(self):
        self.flash.op()
        self.f.flush()

    def read(self, n=-1):
        return self.f.read(n)

    def close(self):
        self.flash.op()
        self.f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()  # a cut inside the block: the data written so far is what flash holds
        return False


class _Os:
    def __init__(self, flash):
        self.flash = flash

    def remove(self, path):
        self.flash.op()
        os.remove(path)

    def rename(self, a, b):
        self.flash.op()
        os.rename(a, b)

    def mkdir(self, path):
        os.mkdir(path)

    def listdir(self, path):
        return os.listdir(path)

    def stat(self, path):
        return os.stat(path)


def _on_flash(flash):
    import clip.eventlog as E

    real_open = open

    def cutting_open(path, mode="r"):
        if "w" in mode or "a" in mode:
            flash.op()
            return _File(flash, real_open(path, mode))
        return real_open(path, mode)

    E.open = cutting_open
    E.os = _Os(flash)


def _off_flash():
    import clip.eventlog as E

    E.os = os
    try:
        del E.open
    except (AttributeError, KeyError):
        E.open = open


def copy_flash(src_root, dst_root):
    for name in os.listdir(dst_root + "/log"):
        os.remove(dst_root + "/log/" + name)
    for name in os.listdir(src_root + "/log"):
        with open(src_root + "/log/" + name, "rb") as f:
            data = f.read()
        with open(dst_root + "/log/" + name, "wb") as f:
            f.write(data)


def _cut_everywhere(prepare, action, check):
    """Run ``action(log)`` on a log ``prepare(root)`` wrote, with the power cut at each of its
    file operations in turn; reboot and ``check(before, after)``. Returns the cuts made."""
    template = fresh()
    log = prepare(template)
    before = {"next": log.next_seq, "seqs": seqs(log), "acked": log.acked}
    log._close()  # the file only: state.json stays as appends left it (not rewritten per record)
    counting = _Flash()
    root = fresh()
    copy_flash(template, root)
    _on_flash(counting)
    try:
        action(EventLog(root, seg_bytes=200))
    finally:
        _off_flash()
    assert counting.ops > 2, counting.ops
    for cut in range(counting.ops):
        root = fresh()
        copy_flash(template, root)
        log = EventLog(root, seg_bytes=200)
        _on_flash(_Flash(cut))
        try:
            action(log)
            raise AssertionError("no power cut at op %d" % cut)
        except PowerCut:
            pass
        finally:
            _off_flash()
        after = EventLog(root, seg_bytes=200)  # the reboot
        check(before, after, cut)
    return counting.ops


def _log_of(n, acked=-1):
    def prepare(root):
        log = EventLog(root, seg_bytes=200)
        for i in range(n):
            event(log, i)
        if acked >= 0:
            log.ack(acked)
        return log
    return prepare


def test_power_cut_at_every_file_operation_of_ack_never_reuses_a_sequence():
    # The host holds every record up to next - 1: a reused number would be taken for a
    # duplicate, acknowledged and lost. Acks of everything, of part, of the open segment.
    for n, ack_to in ((12, 11), (30, 17), (30, 29), (7, 3)):
        def action(log, ack_to=ack_to):
            log.ack(ack_to)

        def check(before, after, cut, ack_to=ack_to):
            assert after.next_seq >= before["next"], (ack_to, cut, after.next_seq)
            kept = seqs(after)
            # nothing the host has not acknowledged is gone
            assert [s for s in before["seqs"] if s > ack_to] == [s for s in kept if s > ack_to]
            rec = event(after, 99)
            assert struct.unpack_from("<I", rec, 4)[0] >= before["next"]

        assert _cut_everywhere(_log_of(n), action, check) >= 3


def test_power_cut_at_every_file_operation_of_append_keeps_every_completed_record():
    for n in (0, 5, 9, 11):  # an empty log, mid-segment, at a segment's end (200 bytes)
        def action(log):
            event(log, 500)
            event(log, 501)

        def check(before, after, cut):
            kept = seqs(after)
            assert kept[:len(before["seqs"])] == before["seqs"], (cut, kept)
            new = kept[len(before["seqs"]):]
            assert new == list(range(before["next"], before["next"] + len(new))), (cut, new)
            assert after.next_seq >= before["next"] + len(new)

        _cut_everywhere(_log_of(n), action, check)
