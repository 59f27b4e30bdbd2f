# TI DRV2605L haptic driver over I2C, in real-time playback: the level is written as the
# drive amplitude, so the player's timing applies to both outputs alike.
from micropython import const

ADDRESS = const(0x5A)
_STATUS = const(0x00)
_MODE = const(0x01)
_RTP_INPUT = const(0x02)
_LIBRARY = const(0x03)
_CONTROL3 = const(0x1D)
_FEEDBACK = const(0x1A)
_MODE_RTP = const(0x05)
_MODE_STANDBY = const(0x40)
_DEVICE_ID_DRV2605L = const(7)  # STATUS bits 7:5
_DATA_FORMAT_UNSIGNED = const(0x08)  # CONTROL3: RTP input 0..255
_N_ERM = const(0x00)  # FEEDBACK bit 7 clear: ERM; set: LRA
_N_LRA = const(0x80)


class HapticError(Exception):
    pass


class DRV2605:
    def __init__(self, i2c, address=ADDRESS, lra=True, bus_name="I2C"):
        self.i2c = i2c
        self.address = address
        self._one = bytearray(1)
        try:
            i2c.readfrom_mem_into(address, _STATUS, self._one)
        except OSError:
            raise HapticError("no DRV2605L answers at %s address 0x%02x" % (bus_name, address)) \
                from None
        if self._one[0] >> 5 != _DEVICE_ID_DRV2605L:
            raise HapticError("device at 0x%02x is not a DRV2605L (id %d)"
                              % (address, self._one[0] >> 5))
        self._write(_MODE, 0)  # out of standby
        self._write(_FEEDBACK, _N_LRA if lra else _N_ERM)
        self._write(_LIBRARY, 6 if lra else 1)
        self._write(_CONTROL3, _DATA_FORMAT_UNSIGNED)
        self._write(_RTP_INPUT, 0)
        self._write(_MODE, _MODE_RTP)
        self.level = 0

    def _write(self, reg, value):
        self._one[0] = value
        self.i2c.writeto_mem(self.address, reg, self._one)

    def set_level(self, pct):
        self.level = pct
        pct = 0 if pct < 0 else (100 if pct > 100 else pct)
        self._write(_RTP_INPUT, pct * 255 // 100)

    def standby(self):
        self._write(_MODE, _MODE_STANDBY)
