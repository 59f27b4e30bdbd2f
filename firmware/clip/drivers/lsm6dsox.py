# ST LSM6DSOX (wearable build): 6-axis, 0.55 mA in high-performance mode, 3 KB FIFO of tagged
# 7-byte words. Registers little-endian. Chosen over the ICM-42688-P for its lower current
# (0.55 vs 0.88 mA) and its wide availability on breakout boards with a STEMMA QT connector.
from array import array

import micropython
from micropython import const

from clip.drivers.imu import DEG, FAST_HOLD, FifoImu, G, ImuError

ADDRESS = const(0x6A)  # 0x6B with SA0 high
_FIFO_CTRL1 = const(0x07)
_FIFO_CTRL3 = const(0x09)
_FIFO_CTRL4 = const(0x0A)
_WHO_AM_I = const(0x0F)
_CTRL1_XL = const(0x10)
_CTRL2_G = const(0x11)
_CTRL3_C = const(0x12)
_CTRL6_C = const(0x15)
_CTRL7_G = const(0x16)
_FIFO_STATUS1 = const(0x3A)
_FIFO_DATA_OUT_TAG = const(0x78)

_CTRL3_BDU_IF_INC = const(0x44)
_CTRL6_XL_HM_MODE_OFF = const(0x10)  # accelerometer low-power/normal instead of high-performance
_CTRL7_G_HM_MODE_OFF = const(0x80)  # gyroscope likewise
_FIFO_MODE_CONTINUOUS = const(0x06)
_FIFO_STATUS2_OVR = const(0x40)
_TAG_GYRO = const(0x01)
_TAG_ACCEL = const(0x02)
WORD_BYTES = const(7)  # tag + X, Y, Z (i16)

# output data rate codes (ODR_XL, ODR_G, BDR_XL, BDR_GY share them)
RATES_HZ = (12.5, 26, 52, 104, 208, 416, 833)
_RATE_CODE = (1, 2, 3, 4, 5, 6, 7)
ACCEL_RANGES_G = (2, 4, 8, 16)
_FS_XL = (0, 2, 3, 1)
GYRO_RANGES_DPS = (250, 500, 1000, 2000)


class LSM6DSOX(FifoImu):
    NAME = "LSM6DSOX"
    REG_WHO_AM_I = _WHO_AM_I
    WHO_AM_I = (0x6C,)
    # a sample is one gyro word and one accelerometer word
    SAMPLE_BYTES = 2 * WORD_BYTES

    def __init__(self, i2c, address=ADDRESS, mount=("x", "y", "z"), bus_name="I2C"):
        self._two = bytearray(2)
        # the last gyro word (waiting for its accelerometer partner) and the open group's
        # first accelerometer sample, kept between reads
        self._keep = array("h", (0, 0, 0, 0, 0, 0))
        self._have_gyro = 0
        super().__init__(i2c, address, mount, bus_name)

    def configure(self, rate_hz=208, accel_g=4, gyro_dps=500, low_power=False):
        """Set ranges and the nearest supported rate (both sensors, FIFO batching); with
        ``low_power`` both sensors leave high-performance mode (at 26 Hz the datasheet gives
        about a third of the current, with more noise)."""
        if accel_g not in ACCEL_RANGES_G or gyro_dps not in GYRO_RANGES_DPS:
            raise ValueError("LSM6DSOX ranges: accel %r g, gyro %r dps"
                             % (ACCEL_RANGES_G, GYRO_RANGES_DPS))
        i = 0
        for k in range(len(RATES_HZ)):
            if abs(RATES_HZ[k] - rate_hz) < abs(RATES_HZ[i] - rate_hz):
                i = k
        code = _RATE_CODE[i]
        self.write_reg(_CTRL3_C, _CTRL3_BDU_IF_INC)
        self.write_reg(_CTRL6_C, _CTRL6_XL_HM_MODE_OFF if low_power else 0)
        self.write_reg(_CTRL7_G, _CTRL7_G_HM_MODE_OFF if low_power else 0)
        self.write_reg(_CTRL1_XL, (code << 4) | (_FS_XL[ACCEL_RANGES_G.index(accel_g)] << 2))
        self.write_reg(_CTRL2_G, (code << 4) | (GYRO_RANGES_DPS.index(gyro_dps) << 2))
        self._bdr = (code << 4) | code
        # sensitivity per datasheet: 0.061 mg/LSB at 2 g, 8.75 mdps/LSB at 250 dps, doubling
        self.accel_scale = 0.061e-3 * (accel_g // 2) * G
        self.gyro_scale = 8.75e-3 * (gyro_dps // 250) * DEG
        self.rate_hz = float(RATES_HZ[i])
        return self.rate_hz

    def start(self):
        self.write_reg(_FIFO_CTRL4, 0)  # bypass: empties the FIFO
        self.write_reg(_FIFO_CTRL3, self._bdr)
        self.write_reg(_FIFO_CTRL4, _FIFO_MODE_CONTINUOUS)
        self._have_gyro = 0
        self._drop_group()

    def stop(self):
        self.write_reg(_FIFO_CTRL4, 0)
        self.write_reg(_CTRL1_XL, 0)
        self.write_reg(_CTRL2_G, 0)  # power down both sensors

    def fifo_samples(self):
        self.i2c.readfrom_mem_into(self.address, _FIFO_STATUS1, self._two)
        if self._two[1] & _FIFO_STATUS2_OVR:
            self.overflows += 1
            self.start()
            return 0
        words = ((self._two[1] & 0x03) << 8) | self._two[0]
        return words // 2

    def _read_burst(self, n):
        # the address rolls over from FIFO_DATA_OUT_Z_H back to the tag: one burst
        mv = memoryview(self._buf)
        self.i2c.readfrom_mem_into(self.address, _FIFO_DATA_OUT_TAG, mv[:2 * WORD_BYTES * n])
        return n

    @micropython.viper
    def _decode(self, n: int):
        # Viper: machine-word integers, buffers through raw pointers; the few Python calls
        # (closing a group, a turn) see the count in self._n, kept in step around them.
        # Loads through a pointer do not sign-extend on every port (64-bit unix: ptr32 loads
        # zero-extend), so signed values live in locals and are stored as int16 between
        # calls, sign-extended by hand on load; the group sums only ever accumulate.
        b = ptr8(self._buf)
        s = ptr32(self._sum)
        keep = ptr16(self._keep)  # last gyro word, first accelerometer sample of the group
        g0 = keep[0]
        g1 = keep[1]
        g2 = keep[2]
        f0 = keep[3]
        f1 = keep[4]
        f2 = keep[5]
        g0 = g0 - 65536 if g0 > 32767 else g0
        g1 = g1 - 65536 if g1 > 32767 else g1
        g2 = g2 - 65536 if g2 > 32767 else g2
        f0 = f0 - 65536 if f0 > 32767 else f0
        f1 = f1 - 65536 if f1 > 32767 else f1
        f2 = f2 - 65536 if f2 > 32767 else f2
        d = int(self.decimate)
        t = int(self.turn_lsb)
        shake = int(self.shake_lsb)
        hold = int(self._hold)
        fast = int(self.fast_group)
        hold_len = int(FAST_HOLD)
        have = int(self._have_gyro)
        count = int(self._n)
        samples = 0
        k = 0
        end = 2 * WORD_BYTES * n
        while k < end:
            tag = b[k] >> 3
            if tag == _TAG_GYRO:
                v = b[k + 1] | (b[k + 2] << 8)
                g0 = v - 65536 if v > 32767 else v
                v = b[k + 3] | (b[k + 4] << 8)
                g1 = v - 65536 if v > 32767 else v
                v = b[k + 5] | (b[k + 6] << 8)
                g2 = v - 65536 if v > 32767 else v
                have = 1
            elif tag == _TAG_ACCEL and have:
                v = b[k + 1] | (b[k + 2] << 8)
                a0 = v - 65536 if v > 32767 else v
                v = b[k + 3] | (b[k + 4] << 8)
                a1 = v - 65536 if v > 32767 else v
                v = b[k + 5] | (b[k + 6] << 8)
                a2 = v - 65536 if v > 32767 else v
                if t and (g0 > t or g0 < 0 - t or g1 > t or g1 < 0 - t or g2 > t or g2 < 0 - t
                          or (shake and count and (
                              a0 - f0 > shake or f0 - a0 > shake or a1 - f1 > shake
                              or f1 - a1 > shake or a2 - f2 > shake or f2 - a2 > shake))):
                    self._n = count
                    t = int(self._turning(hold))
                    count = int(self._n)
                    if t:
                        hold = hold_len
                    else:
                        d = 1
                        shake = 0
                if count == 0:
                    f0 = a0
                    f1 = a1
                    f2 = a2
                s[0] += g0
                s[1] += g1
                s[2] += g2
                s[3] += a0
                s[4] += a1
                s[5] += a2
                samples += 1
                count += 1
                if hold:
                    hold -= 1
                    if count >= fast:
                        self._n = count
                        self._emit()
                        count = 0
                elif count == d:
                    self._n = count
                    self._emit()
                    count = 0
            # other tags (timestamp, temperature) are not enabled; skip anything else
            k += WORD_BYTES
        keep[0] = g0
        keep[1] = g1
        keep[2] = g2
        keep[3] = f0
        keep[4] = f1
        keep[5] = f2
        self._n = count
        self._hold = hold
        self._have_gyro = have
        self.samples = int(self.samples) + samples


__all__ = ["ADDRESS", "LSM6DSOX", "ImuError"]
