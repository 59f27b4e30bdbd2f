# Register-level fake of the TI DRV2605L: records every register write with its time (ms),
# so tests can read the drive level the motor got over time.
import simhw


class FakeDRV2605:
    def __init__(self, clock=None):
        self.clock = clock or simhw.now_ms
        self.regs = bytearray(0x23)
        self.regs[0x00] = 0xE0  # STATUS: device id 7 (DRV2605L)
        self.regs[0x01] = 0x40  # MODE: standby after power-up
        self.writes = []  # (time_ms, register, value)
        self.fail = False

    def rtp_levels(self):
        """(time_ms, amplitude 0..255) for every real-time-playback input write."""
        return [(t, v) for t, r, v in self.writes if r == 0x02]

    def readfrom_mem(self, reg, n):
        if self.fail:
            raise OSError(116)
        return bytes(self.regs[reg:reg + n])

    def writeto_mem(self, reg, data):
        if self.fail:
            raise OSError(116)
        for i, b in enumerate(data):
            if simhw.record:
                self.writes.append((self.clock(), reg + i, b))
            self.regs[reg + i] = b
