# InvenSense MPU-6050 (breadboard builds): 6-axis, 1 KB FIFO, registers big-endian.
import micropython
from micropython import const

from clip.drivers.imu import DEG, FAST_HOLD, FifoImu, G, ImuError

ADDRESS = const(0x68)  # 0x69 with AD0 high
_SMPLRT_DIV = const(0x19)
_CONFIG = const(0x1A)
_GYRO_CONFIG = const(0x1B)
_ACCEL_CONFIG = const(0x1C)
_FIFO_EN = const(0x23)
_INT_STATUS = const(0x3A)
_USER_CTRL = const(0x6A)
_PWR_MGMT_1 = const(0x6B)
_FIFO_COUNTH = const(0x72)
_FIFO_R_W = const(0x74)
_WHO_AM_I = const(0x75)

_FIFO_ACCEL_GYRO = const(0x78)  # XG, YG, ZG and ACCEL into the FIFO
_USER_FIFO_EN = const(0x40)
_USER_FIFO_RESET = const(0x04)
_INT_FIFO_OFLOW = const(0x10)
_DLPF_44HZ = const(3)  # 1 kHz internal rate, ~44 Hz bandwidth
_FIFO_BYTES = const(1024)

ACCEL_RANGES_G = (2, 4, 8, 16)
GYRO_RANGES_DPS = (250, 500, 1000, 2000)


class MPU6050(FifoImu):
    NAME = "MPU-6050"
    REG_WHO_AM_I = _WHO_AM_I
    WHO_AM_I = (0x68,)
    SAMPLE_BYTES = 12  # ax ay az gx gy gz, big-endian i16, in register order

    def __init__(self, i2c, address=ADDRESS, mount=("x", "y", "z"), bus_name="I2C"):
        self._two = bytearray(2)
        self._accel = [0, 0, 0]  # the sample being decoded (chip frame, raw)
        self._first = [0, 0, 0]  # accelerometer of the open group's first sample
        super().__init__(i2c, address, mount, bus_name)

    def configure(self, rate_hz=200, accel_g=4, gyro_dps=500, low_power=False):
        """Wake the chip, set ranges and the sample rate (1 kHz / divider); return the rate.
        ``low_power`` changes nothing: the chip has no low-power mode with the gyro on (the
        breadboard build runs from USB)."""
        if accel_g not in ACCEL_RANGES_G or gyro_dps not in GYRO_RANGES_DPS:
            raise ValueError("MPU-6050 ranges: accel %r g, gyro %r dps"
                             % (ACCEL_RANGES_G, GYRO_RANGES_DPS))
        div = int(1000 / rate_hz + 0.5) - 1
        div = 0 if div < 0 else (255 if div > 255 else div)
        self.write_reg(_PWR_MGMT_1, 0x01)  # awake, clock from the X gyro PLL
        self.write_reg(_CONFIG, _DLPF_44HZ)
        self.write_reg(_SMPLRT_DIV, div)
        self.write_reg(_GYRO_CONFIG, GYRO_RANGES_DPS.index(gyro_dps) << 3)
        self.write_reg(_ACCEL_CONFIG, ACCEL_RANGES_G.index(accel_g) << 3)
        self.accel_scale = accel_g * G / 32768.0
        self.gyro_scale = gyro_dps * DEG / 32768.0
        self.rate_hz = 1000.0 / (div + 1)
        return self.rate_hz

    def start(self):
        """Empty the FIFO and start filling it with accelerometer and gyro samples."""
        self.write_reg(_USER_CTRL, 0)
        self.write_reg(_FIFO_EN, 0)
        self.write_reg(_USER_CTRL, _USER_FIFO_RESET)
        self.write_reg(_FIFO_EN, _FIFO_ACCEL_GYRO)
        self.write_reg(_USER_CTRL, _USER_FIFO_EN)
        self._drop_group()

    def stop(self):
        self.write_reg(_FIFO_EN, 0)
        self.write_reg(_PWR_MGMT_1, 0x40)  # sleep

    def fifo_samples(self):
        if self.read_reg(_INT_STATUS) & _INT_FIFO_OFLOW:
            # the oldest bytes were overwritten and sample alignment is lost: start over
            self.overflows += 1
            self.start()
            return 0
        self.i2c.readfrom_mem_into(self.address, _FIFO_COUNTH, self._two)
        return ((self._two[0] << 8) | self._two[1]) // 12

    def _read_burst(self, n):
        mv = memoryview(self._buf)
        self.i2c.readfrom_mem_into(self.address, _FIFO_R_W, mv[:12 * n])
        return n

    @micropython.native
    def _decode(self, n):
        b = self._buf
        s = self._sum
        a = self._accel
        first = self._first
        d = self.decimate
        t = self.turn_lsb
        shake = self.shake_lsb
        hold = self._hold
        fast = self.fast_group
        for k in range(0, 12 * n, 12):
            # FIFO order is ax ay az gx gy gz
            for j in range(3):
                v = (b[k + 2 * j] << 8) | b[k + 2 * j + 1]
                a[j] = v - 65536 if v > 32767 else v
            if t:
                turning = False
                for j in range(6, 12, 2):
                    v = (b[k + j] << 8) | b[k + j + 1]
                    if v > 32767:
                        v -= 65536
                    if v > t or v < -t:
                        turning = True
                        break
                if shake and self._n and not turning:
                    for j in range(3):
                        if a[j] - first[j] > shake or first[j] - a[j] > shake:
                            turning = True
                            break
                if turning:
                    t = self._turning(hold)
                    if t:
                        hold = FAST_HOLD
                    else:
                        d = 1
                        shake = 0
            if self._n == 0:
                first[0] = a[0]
                first[1] = a[1]
                first[2] = a[2]
            for j in range(3):
                v = (b[k + 6 + 2 * j] << 8) | b[k + 7 + 2 * j]
                s[j] += v - 65536 if v > 32767 else v
                s[3 + j] += a[j]
            self.samples += 1
            self._n += 1
            if hold:
                hold -= 1
                if self._n >= fast:
                    self._emit()
            elif self._n == d:
                self._emit()
        self._hold = hold


__all__ = ["ADDRESS", "MPU6050", "ImuError"]
