# Register-level fakes of the MPU-6050 and LSM6DSOX: the real register map, range and rate
# settings, and FIFOs that fill at the configured rate from a motion source, so the unchanged
# drivers can be tested byte for byte. A motion source has ``sample(t)`` returning
# (gx, gy, gz, ax, ay, az) in rad/s and m/s^2 in the clip's sensor frame; ``mount`` maps the
# sensor frame back to the chip's axes exactly as the board file says.
import math

import simhw

G = 9.80665
DEG = math.pi / 180.0


def _to_chip(mount, v):
    chip = [0.0, 0.0, 0.0]
    for i in range(3):
        item = mount[i]
        sign = -1.0 if item[0] == "-" else 1.0
        chip["xyz".index(item[-1])] = sign * v[i]
    return chip


def _lsb(value, scale):
    n = round(value / scale)
    return 32767 if n > 32767 else (-32768 if n < -32768 else n)


class _Fifo:
    """A chip's FIFO: fixed memory, as on the chip. The app under test shares this heap, so
    the stand-in must not churn it: a bytearray that grew, shrank and was copied on every
    read fragmented a 200 KB heap until a 3.5 KB FIFO could no longer be allocated."""

    def __init__(self, capacity):
        self.buf = bytearray(capacity)
        self.start = 0
        self.count = 0

    def __len__(self):
        return self.count

    def clear(self):
        self.start = 0
        self.count = 0

    def push(self, data):
        """Append ``data``; when full the oldest bytes go. Returns how many went."""
        cap = len(self.buf)
        dropped = 0
        for b in data:
            self.buf[(self.start + self.count) % cap] = b
            if self.count < cap:
                self.count += 1
            else:
                self.start = (self.start + 1) % cap
                dropped += 1
        return dropped

    def pop(self, n):
        """Remove and return up to ``n`` of the oldest bytes."""
        n = min(n, self.count)
        cap = len(self.buf)
        out = bytearray(n)
        for i in range(n):
            out[i] = self.buf[(self.start + i) % cap]
        self.start = (self.start + n) % cap
        self.count -= n
        return out


class _FakeChip:
    FIFO_CAPACITY = 1024

    def __init__(self, motion, mount=("x", "y", "z"), clock=None):
        self.motion = motion
        self.mount = mount
        self.clock = clock or simhw.now_ms  # ms
        self.fifo = _Fifo(self.fifo_bytes())
        self.writes = []  # (register, value): configuration writes, in order
        self.fail = False  # True: the chip stops answering (OSError like a bus error)
        self.produced = 0
        self._t0 = None
        self.overflowed = False
        self.reset()

    def _chip_sample(self, t):
        s = self.motion.sample(t)
        g = _to_chip(self.mount, s[0:3])
        a = _to_chip(self.mount, s[3:6])
        return g, a

    def _fill(self):
        """Append every sample that became due since the FIFO started."""
        rate = self.fifo_rate()
        if rate <= 0:
            self._t0 = None
            return
        now = self.clock() / 1000.0
        if self._t0 is None:
            self._t0 = now
            self.produced = 0
        due = int((now - self._t0) * rate)
        while self.produced < due:
            self.produced += 1
            self._push(self._t0 + self.produced / rate)

    def produce(self, n, rate=None):
        """Append ``n`` samples directly (tests that do not run a clock)."""
        r = rate or self.fifo_rate() or 100.0
        for _ in range(n):
            self.produced += 1
            self._push(self.produced / r)

    def fifo_bytes(self):
        return self.FIFO_CAPACITY

    def _append(self, data):
        over = self.fifo.push(data)
        if over > 0:
            self._overflow(over)

    # I2C side -------------------------------------------------------------------------
    def readfrom_mem(self, reg, n):
        if self.fail:
            raise OSError(116)
        return bytes(self.read(reg, n))

    def writeto_mem(self, reg, data):
        if self.fail:
            raise OSError(116)
        for i, b in enumerate(data):
            if simhw.record:
                self.writes.append((reg + i, b))
            self.write(reg + i, b)


class FakeMPU6050(_FakeChip):
    """MPU-6050: FIFO of 1024 bytes, 12 bytes per accel+gyro sample, big-endian."""

    def reset(self):
        self.regs = bytearray(128)
        self.regs[0x75] = 0x68
        self.regs[0x6B] = 0x40  # asleep after power-up
        self.fifo.clear()
        self._t0 = None

    def fifo_rate(self):
        r = self.regs
        if r[0x6B] & 0x40 or not r[0x6A] & 0x40 or not r[0x23]:
            return 0.0
        base = 1000.0 if 0 < (r[0x1A] & 7) < 7 else 8000.0
        return base / (1 + r[0x19])

    def _push(self, t):
        g, a = self._chip_sample(t)
        a_scale = (2 << ((self.regs[0x1C] >> 3) & 3)) * G / 32768.0
        g_scale = (250 << ((self.regs[0x1B] >> 3) & 3)) * DEG / 32768.0
        out = bytearray()
        en = self.regs[0x23]
        values = []
        if en & 0x08:
            values += [_lsb(v, a_scale) for v in a]
        if en & 0x80:
            values.append(0)  # temperature
        for bit, v in ((0x40, g[0]), (0x20, g[1]), (0x10, g[2])):
            if en & bit:
                values.append(_lsb(v, g_scale))
        for v in values:
            v &= 0xFFFF
            out.append(v >> 8)
            out.append(v & 0xFF)
        self._append(out)

    def _overflow(self, over):
        # the FIFO dropped its oldest bytes, even mid-sample, as on the chip
        self.regs[0x3A] |= 0x10
        self.overflowed = True

    def write(self, reg, value):
        if reg == 0x6B and value & 0x80:
            self.reset()
            return
        if reg == 0x6A:
            if value & 0x04:
                self.fifo.clear()
                self._t0 = None
            value &= ~0x04
        if reg in (0x6A, 0x23, 0x19, 0x1A, 0x6B):
            self._fill()  # samples due under the old settings first
        self.regs[reg] = value
        self._fill()  # starts the FIFO clock when sampling begins

    def read(self, reg, n):
        if reg in (0x72, 0x74, 0x3A):
            self._fill()
        if reg == 0x74:  # FIFO_R_W: repeated reads pop the FIFO
            take = self.fifo.pop(n)
            return take + b"\xff" * (n - len(take))
        out = bytearray()
        for i in range(n):
            r = reg + i
            if r == 0x72:
                out.append(len(self.fifo) >> 8)
            elif r == 0x73:
                out.append(len(self.fifo) & 0xFF)
            else:
                out.append(self.regs[r & 0x7F])
        if reg == 0x3A:
            self.regs[0x3A] = 0  # INT_STATUS clears on read
        return out


_LSM_RATES = (0.0, 12.5, 26.0, 52.0, 104.0, 208.0, 416.0, 833.0, 1666.0, 3332.0, 6667.0)


class FakeLSM6DSOX(_FakeChip):
    """LSM6DSOX: FIFO of tagged 7-byte words (512 here), little-endian, burst reads of the
    output registers roll over from 0x7E back to the tag at 0x78."""

    FIFO_WORDS = 512

    def reset(self):
        self.regs = bytearray(128)
        self.regs[0x0F] = 0x6C
        self.regs[0x12] = 0x04  # IF_INC
        self.fifo.clear()
        self._t0 = None
        self._cnt = 0

    def fifo_rate(self):
        r = self.regs
        mode = r[0x0A] & 7
        if mode not in (1, 6):
            return 0.0
        xl, gy = r[0x10] >> 4, r[0x11] >> 4
        bxl, bgy = r[0x09] & 0x0F, r[0x09] >> 4
        if not (xl and gy and bxl and bgy):
            return 0.0
        return _LSM_RATES[min(xl, gy, bxl, bgy)]

    def _word(self, tag, v, scale):
        word = bytearray(7)
        word[0] = (tag << 3) | ((self._cnt & 3) << 1)
        for j in range(3):
            n = _lsb(v[j], scale) & 0xFFFF
            word[1 + 2 * j] = n & 0xFF
            word[2 + 2 * j] = n >> 8
        return word

    def _push(self, t):
        if len(self.fifo) >= 7 * self.FIFO_WORDS and self.regs[0x0A] & 7 == 1:
            return  # FIFO mode stops when full
        g, a = self._chip_sample(t)
        fs_xl = (2, 16, 4, 8)[(self.regs[0x10] >> 2) & 3]
        fs_g = 250 << ((self.regs[0x11] >> 2) & 3)
        self._append(self._word(0x01, g, 8.75e-3 * (fs_g // 250) * DEG))
        self._append(self._word(0x02, a, 0.061e-3 * (fs_xl // 2) * G))
        self._cnt += 1

    def fifo_bytes(self):
        return 7 * self.FIFO_WORDS

    def _append(self, data):
        if self.fifo.push(data):  # continuous mode: the oldest word went
            self.overflowed = True
            self.regs[0x3B] |= 0x40

    def write(self, reg, value):
        if reg == 0x12 and value & 0x01:
            self.reset()
            return
        if reg in (0x09, 0x0A, 0x10, 0x11):
            self._fill()
            if reg == 0x0A and value & 7 == 0:
                self.fifo.clear()  # bypass mode empties the FIFO
                self._t0 = None
        self.regs[reg] = value
        self._fill()

    def read(self, reg, n):
        if reg in (0x3A, 0x78):
            self._fill()
        out = bytearray()
        if reg == 0x78:
            # whole words are popped; a burst may span several
            take = self.fifo.pop(n)
            return take + bytes(n - len(take))
        for i in range(n):
            r = reg + i
            words = len(self.fifo) // 7
            if r == 0x3A:
                out.append(words & 0xFF)
            elif r == 0x3B:
                out.append((words >> 8) & 0x03 | (self.regs[0x3B] & 0x40))
                self.regs[0x3B] = 0
            else:
                out.append(self.regs[r & 0x7F])
        return out


class Still:
    """A motionless clip with the given up direction (sensor frame) and gyro offset."""

    def __init__(self, up=(1.0, 0.0, 0.0), gyro=(0.0, 0.0, 0.0)):
        n = math.sqrt(up[0] ** 2 + up[1] ** 2 + up[2] ** 2)
        self.acc = tuple(G * c / n for c in up)
        self.gyro = tuple(gyro)

    def sample(self, t):
        return self.gyro + self.acc


class Tilting:
    """Rotation about the sensor's y axis at a constant rate from upright (+x up)."""

    def __init__(self, rate_dps):
        self.rate = rate_dps * DEG

    def sample(self, t):
        a = self.rate * t
        # up vector of a frame turned by a about y, seen in that frame
        return (0.0, self.rate, 0.0, G * math.cos(a), 0.0, G * math.sin(a))


class TiltRamp:
    """Bending about the sensor's y axis from ``start_deg`` to ``end_deg`` (0 = +x up) over
    ``duration_s`` from time ``t0`` (s, the fake's clock), with the matching gyro rate. The
    trunk bends at the hips: the clip sits ``lever_m`` up the spine, whose direction in the
    clip's frame is up at ``upright_deg`` (default ``start_deg``), and its accelerometer feels
    the bend's tangential and centripetal acceleration as well as gravity."""

    def __init__(self, start_deg, end_deg, t0, duration_s=1.0, lever_m=0.43, upright_deg=None):
        self.a0 = start_deg * DEG
        self.a1 = end_deg * DEG
        self.t0 = t0
        self.duration = duration_s
        m = self.a0 if upright_deg is None else upright_deg * DEG
        self.rx = lever_m * math.cos(m)  # the clip's position from the hips, clip frame
        self.rz = lever_m * math.sin(m)

    def sample(self, t):
        x = (t - self.t0) / self.duration
        x = 0.0 if x < 0.0 else (1.0 if x > 1.0 else x)
        p = 0.5 - 0.5 * math.cos(math.pi * x)
        a = self.a0 + (self.a1 - self.a0) * p
        rate = alpha = 0.0
        if 0.0 < x < 1.0:
            rate = (self.a1 - self.a0) * 0.5 * math.pi * math.sin(math.pi * x) / self.duration
            alpha = ((self.a1 - self.a0) * 0.5 * math.pi * math.pi * math.cos(math.pi * x)
                     / (self.duration * self.duration))
        # alpha x r + omega x (omega x r), rotation about y, r in the x-z plane
        ax = alpha * self.rz - rate * rate * self.rx
        az = -alpha * self.rx - rate * rate * self.rz
        return (0.0, rate, 0.0, G * math.cos(a) + ax, 0.0, G * math.sin(a) + az)
