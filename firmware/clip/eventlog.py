# The event log on flash: append-only segment files of protocol records (seq, time, type,
# payload, CRC-32; docs/protocol.md "Flash log"), trimmed only up to what the host acknowledged.
#
# Layout under ``<root>/log/``: ``<first seq, 8 hex digits>.seg`` segment files of at most
# ``seg_bytes``, and ``state.json`` (next seq, acknowledged seq, dropped count, and for each
# closed segment its last seq and record count) written atomically. Power-loss safety: a
# record is appended and flushed in one write; at boot only the newest segment is scanned, a
# torn or corrupt tail is cut off (rewrite to a temp file and rename), and the sequence
# continues after the last complete record or the stored next seq, whichever is higher.
import json
import os

from micropython import const

from clip import protocol as P

SEG_BYTES = const(8192)
MAX_BYTES = const(1000000)
_CHUNK = const(512)


def _name(seq):
    return "%08x.seg" % seq


class EventLog:
    def __init__(self, root, max_bytes=MAX_BYTES, seg_bytes=SEG_BYTES):
        self.dir = root.rstrip("/") + "/log"
        self.max_bytes = max_bytes
        self.seg_bytes = seg_bytes
        try:
            os.mkdir(self.dir)
        except OSError:
            pass
        state = self._load_state()
        self.acked = state.get("acked", -1)
        self.dropped = state.get("dropped", 0)
        closed = state.get("closed", {})
        # segments: [first seq, last seq, records, bytes], oldest first
        self.segments = []
        for name in sorted(os.listdir(self.dir)):
            if not name.endswith(".seg"):
                if name.endswith(".tmp"):
                    os.remove(self.dir + "/" + name)  # an interrupted rewrite
                continue
            first = int(name[:8], 16)
            size = os.stat(self.dir + "/" + name)[6]
            info = closed.get(str(first))
            seg = [first, first - 1, 0, size]
            if info is not None:
                seg[1], seg[2] = info[0], info[1]
            else:  # not in the state (the open segment, or the state was lost): read it
                _, last, count = self._scan(self.dir + "/" + name)
                if count:
                    seg[1], seg[2] = last, count
            self.segments.append(seg)
        self.next_seq = state.get("next", 0)
        self._file = None
        if self.segments:
            self._recover(self.segments[-1])
            self.next_seq = max(self.next_seq, self.segments[-1][1] + 1)
            self._drop_acked()  # an ack the power cut interrupted

    # --- state --------------------------------------------------------------------------
    def _load_state(self):
        try:
            with open(self.dir + "/state.json") as f:
                s = json.load(f)
            return s if isinstance(s, dict) else {}
        except (OSError, ValueError):
            return {}

    def _save_state(self):
        closed = {}
        for seg in self.segments[:-1]:
            closed[str(seg[0])] = (seg[1], seg[2])
        tmp = self.dir + "/state.tmp"
        with open(tmp, "w") as f:
            f.write(json.dumps({"next": self.next_seq, "acked": self.acked,
                                "dropped": self.dropped, "closed": closed}))
        os.rename(tmp, self.dir + "/state.json")

    def _path(self, seg):
        return self.dir + "/" + _name(seg[0])

    def _scan(self, path):
        """(good bytes, last seq, records) of a segment file; stops at the first bad record."""
        good = 0
        last = -1
        count = 0
        for rec, _, seq in self._records(path):
            good += len(rec)
            last = seq
            count += 1
        return good, last, count

    def _recover(self, seg):
        path = self._path(seg)
        good, last, count = self._scan(path)
        if good < seg[3]:
            tmp = path + ".tmp"
            with open(path, "rb") as src, open(tmp, "wb") as dst:
                left = good
                while left > 0:
                    data = src.read(_CHUNK if left > _CHUNK else left)
                    dst.write(data)
                    left -= len(data)
            os.rename(tmp, path)
        seg[1] = last if count else seg[0] - 1
        seg[2] = count
        seg[3] = good

    # --- writing ------------------------------------------------------------------------
    def total_bytes(self):
        return sum(s[3] for s in self.segments)

    def stored(self):
        return sum(s[2] for s in self.segments)

    def first_seq(self):
        """Sequence of the oldest stored record (``next_seq`` when the log is empty)."""
        for s in self.segments:
            if s[2]:
                if self._file is not None and s is self.segments[-1]:
                    self._file.flush()
                for _, _, seq in self._records(self._path(s)):
                    return seq
        return self.next_seq

    def append(self, rtype, time_s, time_ms, flags, payload):
        """Pack, store and flush one record; return its bytes."""
        rec = P.pack_record(rtype, self.next_seq, time_s, time_ms, flags, payload)
        seg = self.segments[-1] if self.segments else None
        if seg is None or seg[3] + len(rec) > self.seg_bytes:
            self._close()
            seg = [self.next_seq, self.next_seq - 1, 0, 0]
            self.segments.append(seg)
            self._save_state()  # the closed segment's counts
        if self._file is None:
            self._file = open(self._path(seg), "ab")
        self._file.write(rec)
        self._file.flush()
        seg[1] = self.next_seq
        seg[2] += 1
        seg[3] += len(rec)
        self.next_seq += 1
        if self.total_bytes() > self.max_bytes:
            self._make_room()
        return rec

    def _close(self):
        if self._file is not None:
            self._file.close()
            self._file = None

    def close(self):
        self._close()
        self._save_state()

    def _make_room(self):
        """Over capacity: acknowledged segments go first, then trace and summaries from the
        oldest segment on, and only then the oldest events. The loss is logged (DROPPED)."""
        first_dropped = -1
        count = 0
        while self.segments and self.segments[0][1] <= self.acked and len(self.segments) > 1:
            self._delete(self.segments[0])
        for seg in self.segments[:-1]:
            if self.total_bytes() <= self.max_bytes:
                break
            kept, lost, first = self._without_trace(seg)
            if lost:
                count += lost
                if first_dropped < 0 or first < first_dropped:
                    first_dropped = first
                if not kept:
                    self._delete(seg)
        while self.total_bytes() > self.max_bytes and len(self.segments) > 1:
            seg = self.segments[0]
            count += seg[2]
            first = seg[1] - seg[2] + 1
            if first_dropped < 0 or first < first_dropped:
                first_dropped = first
            self._delete(seg)
        if count:
            self.dropped += count
            self._save_state()
            self.append(P.REC_DROPPED, 0, 0, 0, P.event_payload(P.REC_DROPPED, first_dropped,
                                                                  count))

    def _delete(self, seg):
        os.remove(self._path(seg))
        self.segments.remove(seg)

    def _without_trace(self, seg):
        """Rewrite a segment without TRACE and SUMMARY records: (records kept, dropped,
        first dropped seq). Does nothing when the segment holds only events."""
        path = self._path(seg)
        tmp = path + ".tmp"
        kept = lost = 0
        first = -1
        size = 0
        for _rec, rtype, seq in self._records(path):
            if rtype == P.REC_TRACE or rtype == P.REC_SUMMARY:
                lost += 1
                if first < 0:
                    first = seq
        if not lost:
            return seg[2], 0, -1
        with open(tmp, "wb") as dst:
            for rec, rtype, _seq in self._records(path):
                if rtype != P.REC_TRACE and rtype != P.REC_SUMMARY:
                    dst.write(rec)
                    kept += 1
                    size += len(rec)
        os.rename(tmp, path)
        seg[2] = kept
        seg[3] = size
        return kept, lost, first

    def _records(self, path):
        """Every valid record of a segment: (bytes, type, seq)."""
        carry = b""
        with open(path, "rb") as f:
            while True:
                chunk = f.read(_CHUNK)
                if not chunk:
                    return
                buf = carry + chunk
                off = 0
                while True:
                    size, rtype, seq, _, _, _, _ = P.parse_record(buf, off)
                    if size <= 0:
                        break
                    yield bytes(buf[off:off + size]), rtype, seq
                    off += size
                if size < 0:
                    return
                carry = buf[off:]

    # --- sync ---------------------------------------------------------------------------
    def read_from(self, seq):
        """Records with sequence >= ``seq``, oldest first (a generator of bytes)."""
        for seg in list(self.segments):
            if seg[1] < seq or not seg[2]:
                continue
            if self._file is not None and seg is self.segments[-1]:
                self._file.flush()
            try:
                for rec, _, s in self._records(self._path(seg)):
                    if s >= seq:
                        yield rec
            except OSError:
                continue  # trimmed meanwhile

    def count_from(self, seq):
        """How many stored records have a sequence >= ``seq``."""
        n = 0
        for seg in self.segments:
            if seg[1] < seq or not seg[2]:
                continue
            if seg[0] >= seq:
                n += seg[2]  # every record of the segment is at or after its first seq
            else:
                for _, _, s in self._records(self._path(seg)):
                    if s >= seq:
                        n += 1
        return n

    def ack(self, seq):
        """The host stored every record up to ``seq``: delete segments wholly acknowledged
        (the open one too: the next record starts a new segment). Returns the first seq kept."""
        if seq >= self.next_seq:
            seq = self.next_seq - 1
        if seq > self.acked:
            self.acked = seq
        # the state (with the next sequence) first: a power cut while segments are deleted
        # must not let the next boot number new records from an older state (the host would
        # take them for duplicates); the boot finishes the deletion (_drop_acked)
        self._save_state()
        self._drop_acked()
        return self.first_seq()

    def _drop_acked(self):
        while self.segments and self.segments[0][1] <= self.acked:
            if self.segments[0] is self.segments[-1]:
                self._close()
            self._delete(self.segments[0])
